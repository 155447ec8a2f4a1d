"""LM faults: with a fifth of the requests failing (429, 5xx, hangs past a 1 s timeout,
malformed or empty replies) retries absorb them and the run reaches the fault-free
result; a total outage stops the run with exit 1, one clear line and a resumable
checkpoint that, once the model is back, resumes to the fault-free result."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from fault_server import (
    FaultServer,
    assert_same_outcome,
    gepa,
    reference_run,
    run_dir_of,
    write_ideas_experiment,
)

DELAY_S = 0.003
BACKOFF_S = 0.01  # the client's first retry backoff in these runs (0.5 s by default)
PATIENT = {"runtime__max_retries": 5, "runtime__request_timeout": 1}


@pytest.fixture(scope="module")
def reference():
    return reference_run()[0]


def _one_clean_line(stderr: str) -> str:
    """The CLI's closing error line (the plain display may have listed failed examples)."""
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: model outage: "), stderr
    return last


def test_twenty_percent_faults_are_absorbed_by_retries(reference, tmp_path):
    with FaultServer(delay_s=DELAY_S, fault_rate=0.2, seed=3) as server:
        config = write_ideas_experiment(tmp_path, server.base_url, **PATIENT)
        result = gepa("run", str(config), "--display", "plain", cwd=tmp_path, backoff_s=BACKOFF_S)
        faults, arrivals = list(server.faults), server.arrivals
    assert result.returncode == 0, result.stderr
    assert 0.12 <= len(faults) / arrivals <= 0.3
    assert {"429", "500", "hang"} <= set(faults) and len(set(faults)) >= 5
    run_dir = run_dir_of(result)
    assert_same_outcome(run_dir, reference)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert sum(summary["lm_retries"].values()) == len(faults)
    assert summary["lm_errors"] == {"task": 0, "reflection": 0} and summary["errors"] == 0


def test_a_cut_off_json_body_is_retried(reference, tmp_path):
    with FaultServer(delay_s=DELAY_S, fault_rate=0.2, kinds=("bad_json",)) as server:
        config = write_ideas_experiment(tmp_path, server.base_url, **PATIENT)
        result = gepa("run", str(config), "--display", "none", cwd=tmp_path, backoff_s=BACKOFF_S)
    assert result.returncode == 0, result.stderr
    assert_same_outcome(run_dir_of(result), reference)


def test_an_outage_from_the_start_exits_1_and_resumes_once_the_model_is_back(reference, tmp_path):
    run_dir = tmp_path / "run"
    with FaultServer(delay_s=DELAY_S) as server:
        server.outage = True
        config = write_ideas_experiment(tmp_path, server.base_url)
        args = ("run", str(config), "--display", "plain", "--run-dir", str(run_dir))
        failed = gepa(*args, cwd=tmp_path, backoff_s=BACKOFF_S)
        kept = json.loads((run_dir / "checkpoint.json").read_text())
        assert kept["engine"]["candidates"] == []  # no score was kept, only what was spent
        assert kept["usage"]["task"]["errors"] == 6
        summary = json.loads((run_dir / "summary.json").read_text())
        server.outage = False
        resumed = gepa("resume", str(run_dir), "--display", "none", cwd=tmp_path)
    assert failed.returncode == 1, failed.stderr
    line = _one_clean_line(failed.stderr)
    assert "while scoring the seed" in line and "HTTP 500" in line
    assert line.endswith(f"gepa resume {run_dir}")
    assert summary["stopped_because"] == "outage" and summary["best_candidate"] is None
    assert summary["lm_errors"]["task"] == 6 and "model outage" in summary["error"]
    assert resumed.returncode == 0, resumed.stderr
    assert_same_outcome(run_dir, reference)


def test_an_outage_mid_run_keeps_the_last_checkpoint_and_replays_the_step(reference, tmp_path):
    val_scoring = 12  # the first request of iteration 1's child on val
    with FaultServer(delay_s=DELAY_S, outage_from=val_scoring) as server:
        config = write_ideas_experiment(tmp_path, server.base_url)
        run_dir = tmp_path / "run"
        args = ("run", str(config), "--display", "none", "--run-dir", str(run_dir))
        failed = gepa(*args, cwd=tmp_path, backoff_s=BACKOFF_S)
        checkpoint = json.loads((run_dir / "checkpoint.json").read_text())
        server.outage_from = None
        resumed = gepa("resume", str(run_dir), "--display", "none", cwd=tmp_path)
    assert failed.returncode == 1, failed.stderr
    line = _one_clean_line(failed.stderr)
    assert "of one batch failed in iteration 1" in line and "after iteration 0 is kept" in line
    assert checkpoint["engine"]["iteration"] == 0 and checkpoint["engine"]["metric_calls"] == 6
    assert resumed.returncode == 0, resumed.stderr
    assert_same_outcome(run_dir, reference)


def test_a_reflection_model_that_always_fails_stops_the_run(tmp_path):
    with FaultServer(delay_s=DELAY_S) as server:
        server.reflection_outage = True
        config = write_ideas_experiment(tmp_path, server.base_url)
        result = gepa("run", str(config), "--display", "plain", cwd=tmp_path, backoff_s=BACKOFF_S)
    assert result.returncode == 1, result.stderr
    line = _one_clean_line(result.stderr)
    assert "the reflection model failed 3 calls in a row in iteration 3" in line
    run_dir = Path(line.rsplit(" ", 1)[-1])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stopped_because"] == "outage" and summary["lm_errors"]["reflection"] == 3
    assert summary["iterations"] == 2  # the third failed iteration was not saved
    assert "LM errors 3" in result.stderr  # the display reports the error count


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_server_that_is_down_exits_1_with_one_line(tmp_path):
    config = write_ideas_experiment(tmp_path, f"http://127.0.0.1:{_closed_port()}/v1")
    result = gepa("run", str(config), "--display", "none", cwd=tmp_path, backoff_s=BACKOFF_S)
    assert result.returncode == 1
    line = _one_clean_line(result.stderr)
    assert "model outage" in line and "connection error" in line and "gepa resume" in line


# --- gepa validate: no model call unless --ping, which reports reachability ---------------


def test_validate_and_dry_run_call_no_model_and_write_nothing(tmp_path):
    with FaultServer() as server:
        config = write_ideas_experiment(tmp_path, server.base_url)
        checked = gepa("validate", str(config), cwd=tmp_path)
        dry = gepa("run", str(config), "--dry-run", cwd=tmp_path)
        sent = server.arrivals
    assert checked.returncode == 0 and dry.returncode == 0, checked.stderr + dry.stderr
    assert sent == 0 and not (tmp_path / "runs").exists()
    assert "# ok: config, task and data are valid (no model was called)" in checked.stdout
    assert "# budget 80: between 7 (every child accepted) and 17 (none accepted)" in dry.stdout


def test_validate_ping_sends_one_request_per_endpoint(tmp_path):
    with FaultServer() as server:
        config = write_ideas_experiment(tmp_path, server.base_url)
        result = gepa("validate", str(config), "--ping", cwd=tmp_path)
        sent = server.arrivals
    assert result.returncode == 0, result.stderr
    assert sent == 1  # task and reflection share the endpoint
    where = f"openai/stub-model (OpenAI-compatible at {server.base_url})"
    assert f"# ping task+reflection: {where}: reachable (replied in " in result.stdout
    assert not (tmp_path / "runs").exists()


def test_validate_ping_exits_1_naming_the_unreachable_endpoint(tmp_path):
    dead = f"http://127.0.0.1:{_closed_port()}/v1"
    with FaultServer() as server:
        config = write_ideas_experiment(
            tmp_path, server.base_url, models__reflection__base_url=dead
        )
        result = gepa("validate", str(config), "--ping", cwd=tmp_path, backoff_s=BACKOFF_S)
        sent = server.arrivals
    assert result.returncode == 1 and sent == 1
    assert "# ping task: " in result.stdout and ": reachable (" in result.stdout
    assert (
        f"# ping reflection: openai/stub-model (OpenAI-compatible at {dead}): UNREACHABLE"
        in result.stdout
    )
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: unreachable model endpoint (reflection): ")
    assert "connection error" in last and "Traceback" not in result.stderr
