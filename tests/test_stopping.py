"""Stopping cleanly: SIGINT and SIGTERM finish the step, checkpoint and exit 130 with the
resume command; a STOP file ends the run with exit 0; a second process on the same run
directory is refused; the response cache can be turned off."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from fault_server import (
    FaultServer,
    Gepa,
    assert_same_outcome,
    gepa,
    reference_run,
    run_dir_of,
    write_ideas_experiment,
)

DELAY_S = 0.003
VAL_SCORING = 14  # a request of iteration 1's child scoring on val (see test_resume.py)
SEED_SCORING = 3


@pytest.fixture(scope="module")
def reference():
    return reference_run()


def _start_held(root: Path, server: FaultServer) -> tuple[Gepa, Path]:
    config = write_ideas_experiment(root, server.base_url)
    run_dir = root / "run"
    run = Gepa(["run", str(config), "--display", "plain", "--run-dir", str(run_dir)], root)
    assert server.held.wait(30), run.wait().stderr
    return run, run_dir


def _checkpoint_iteration(run_dir: Path) -> int:
    return int(json.loads((run_dir / "checkpoint.json").read_text())["engine"]["iteration"])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_finishes_the_step_checkpoints_and_exits_130(signum, reference, tmp_path):
    with FaultServer(delay_s=DELAY_S, hold_at=VAL_SCORING) as server:
        run, run_dir = _start_held(tmp_path, server)
        run.send_signal(signum)
        time.sleep(0.1)  # let the handler run before the step goes on
        server.release()
        stopped = run.wait()
        summary = json.loads((run_dir / "summary.json").read_text())
        resumed = gepa("resume", str(run_dir), "--display", "none", cwd=tmp_path)
    assert stopped.returncode == 130, stopped.stderr
    assert f"gepa resume {run_dir}" in stopped.stderr
    assert stopped.stdout.strip().splitlines()[-1] == str(run_dir)
    assert summary["stopped_because"] == signal.Signals(signum).name.lower()
    assert summary["test"] is None  # an interrupted run does not spend on the test split
    assert _checkpoint_iteration(run_dir) >= 1  # the step in progress was finished
    assert resumed.returncode == 0, resumed.stderr
    assert_same_outcome(run_dir, reference[0])


def test_a_second_ctrl_c_stops_at_once_and_the_last_checkpoint_resumes(reference, tmp_path):
    with FaultServer(delay_s=DELAY_S, hold_at=VAL_SCORING) as server:
        run, run_dir = _start_held(tmp_path, server)
        run.send_signal(signal.SIGINT)
        time.sleep(0.1)
        run.send_signal(signal.SIGINT)
        time.sleep(0.1)
        server.release()
        stopped = run.wait()
        assert stopped.returncode == 130, stopped.stderr
        assert "Traceback" not in stopped.stderr
        assert f"gepa resume {run_dir}" in stopped.stderr.strip().splitlines()[-1]
        assert _checkpoint_iteration(run_dir) == 0  # iteration 1 was cut short, not saved
        resumed = gepa("resume", str(run_dir), "--display", "none", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_outcome(run_dir, reference[0])


def test_a_stop_file_ends_the_run_with_exit_0_and_resume_goes_on(reference, tmp_path):
    with FaultServer(delay_s=DELAY_S, hold_at=VAL_SCORING) as server:
        run, run_dir = _start_held(tmp_path, server)
        (run_dir / "STOP").touch()
        server.release()
        stopped = run.wait()
        summary = json.loads((run_dir / "summary.json").read_text())
        resumed = gepa("resume", str(run_dir), "--display", "none", cwd=tmp_path)
    assert stopped.returncode == 0, stopped.stderr
    assert summary["stopped_because"] == "stop_file" and summary["iterations"] == 1
    assert f"gepa resume {run_dir}" in stopped.stderr
    assert resumed.returncode == 0, resumed.stderr
    assert not (run_dir / "STOP").exists()
    assert_same_outcome(run_dir, reference[0])


def test_a_second_process_on_the_same_run_directory_is_refused(reference, tmp_path):
    with FaultServer(delay_s=DELAY_S, hold_at=SEED_SCORING) as server:
        run, run_dir = _start_held(tmp_path, server)
        config = tmp_path / "exp.yaml"
        second_run = gepa("run", str(config), "--run-dir", str(run_dir), cwd=tmp_path)
        second_resume = gepa("resume", str(run_dir), cwd=tmp_path)
        server.release()
        first = run.wait()
    for refused in (second_run, second_resume):
        assert refused.returncode == 2, refused.stderr
        assert "in use by another gepa process" in refused.stderr
        assert f"(pid {run.pid})" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    assert first.returncode == 0, first.stderr
    assert_same_outcome(run_dir, reference[0])


@pytest.mark.parametrize(
    "flag", [["--no-cache"], ["--set", "runtime.cache=false"]], ids=["no-cache", "set"]
)
def test_the_cache_can_be_turned_off(flag, reference, tmp_path):
    with FaultServer(delay_s=DELAY_S) as server:
        config = write_ideas_experiment(tmp_path, server.base_url)
        result = gepa("run", str(config), "--display", "none", *flag, cwd=tmp_path)
        sent = server.arrivals
        run_dir = run_dir_of(result)
        again = gepa("resume", str(run_dir), "--display", "none", cwd=tmp_path)
        sent_again = server.arrivals - sent
    assert result.returncode == 0, result.stderr
    assert not (run_dir / "cache.sqlite").exists()
    assert_same_outcome(run_dir, reference[0]) and sent == reference[1]
    # without a cache, resuming a finished run pays again for its test-split scoring
    assert again.returncode == 0 and sent_again == 6
    assert not (run_dir / "cache.sqlite").exists()
