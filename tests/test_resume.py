"""Deterministic resume: a run killed with SIGKILL at any point and resumed ends exactly
like an uninterrupted run, without paying again for answers it already had; a
checkpoint that does not fit (newer schema, changed task or data) is refused."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pytest
from fault_server import (
    FaultServer,
    Gepa,
    assert_same_outcome,
    gepa,
    gepa_subprocess,
    is_reflection,
    reference_run,
    run_dir_of,
    write_ideas_experiment,
)

DELAY_S = 0.003
MAX_CONCURRENCY = 2  # write_ideas_experiment's runtime.max_concurrency

# Request numbers (in arrival order) of the uninterrupted run, and what they are:
# 1-6 seed on val | iteration 1: 7-8 parent minibatch, 9 reflection, 10-11 child
# minibatch, 12-17 child on val | ... | reflections retried (the parent's instruction again,
# or one already tried; a rules request that added nothing is followed by a rewrite) | ... |
# 54-59 seed and best on test (after the last checkpoint).
KILL_POINTS = {
    "seed-scoring": (4, "task"),
    "parent-minibatch": (8, "task"),
    "reflection": (9, "reflection"),
    "val-scoring": (14, "task"),
    "test-scoring": (55, "task"),
}


@pytest.fixture(scope="module")
def reference():
    """The uninterrupted run: its outcome and how many requests it sent."""
    ref, sent = reference_run()
    assert ref["summary"]["candidates"] >= 4 and ref["summary"]["iterations"] >= 5
    assert sent == 59, "the request map in KILL_POINTS assumes 59 requests"
    return ref, sent


def _killed_at(kill_at: int, root: Path, server: FaultServer) -> Path:
    config = write_ideas_experiment(root, server.base_url)
    run_dir = root / "run"
    run = Gepa(["run", str(config), "--display", "none", "--run-dir", str(run_dir)], root)
    assert server.held.wait(30), run.wait().stderr
    assert run.kill_hard().returncode == -signal.SIGKILL
    return run_dir


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_then_resume_ends_exactly_like_an_uninterrupted_run(point, reference, tmp_path):
    kill_at, kind = KILL_POINTS[point]
    ref, ref_sent = reference
    with FaultServer(delay_s=DELAY_S, hold_at=kill_at) as server:
        run_dir = _killed_at(kill_at, tmp_path, server)
        held_kind = "reflection" if is_reflection(server.bodies[kill_at - 1]) else "task"
        server.release()
        resumed = gepa("resume", str(run_dir), "--display", "none", cwd=tmp_path)
        sent = server.arrivals
    assert held_kind == kind
    assert resumed.returncode == 0, resumed.stderr
    assert_same_outcome(run_dir, ref)
    # Nothing answered before the kill is asked again: only the held request and at
    # most the other in-flight one are sent twice.
    assert 1 <= sent - ref_sent <= MAX_CONCURRENCY


def test_kill_9_of_a_real_process_then_resume_in_another(reference, tmp_path):
    """The same guarantee across fresh interpreters (`python -m gepa_cli`)."""
    ref, _ = reference
    kill_at = KILL_POINTS["val-scoring"][0]
    with FaultServer(delay_s=DELAY_S, hold_at=kill_at) as server:
        config = write_ideas_experiment(tmp_path, server.base_url)
        run_dir = tmp_path / "run"
        proc = gepa_subprocess(
            "run", str(config), "--display", "none", "--run-dir", str(run_dir), cwd=tmp_path
        )
        assert server.held.wait(60)
        proc.kill()
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        assert json.loads((run_dir / "checkpoint.json").read_text())["engine"]["iteration"] == 0
        server.release()
        resume = gepa_subprocess("resume", str(run_dir), "--display", "none", cwd=tmp_path)
        stdout, stderr = resume.communicate(timeout=120)
    assert resume.returncode == 0, stderr
    assert stdout.strip().splitlines()[-1] == str(run_dir)
    assert_same_outcome(run_dir, ref)


@pytest.fixture(scope="module")
def finished_once(tmp_path_factory):
    """One finished run (its data in ROOT/data, the run in ROOT/runs) and its server."""
    root = tmp_path_factory.mktemp("finished")
    with FaultServer(delay_s=DELAY_S) as server:
        config = write_ideas_experiment(root, server.base_url)
        result = gepa("run", str(config), "--display", "none", cwd=root)
        assert result.returncode == 0, result.stderr
        yield root, run_dir_of(result), server


@pytest.fixture
def finished(finished_once, tmp_path):
    """A private copy of the finished run and its data, and the (shared) server."""
    root, run_dir, server = finished_once
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    copy = tmp_path / run_dir.relative_to(root)
    config = copy / "config.yaml"
    config.write_text(config.read_text().replace(str(root), str(tmp_path)))
    return copy, server


def _refused(run_dir: Path, *args: str) -> str:
    before = (run_dir / "checkpoint.json").read_bytes()
    result = gepa("resume", str(run_dir), "--display", "none", *args, cwd=run_dir.parent)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert (run_dir / "checkpoint.json").read_bytes() == before
    return result.stderr


def test_a_checkpoint_from_a_newer_schema_is_refused(finished):
    run_dir, _ = finished
    path = run_dir / "checkpoint.json"
    checkpoint = json.loads(path.read_text())
    checkpoint["schema_version"] = 99
    path.write_text(json.dumps(checkpoint))
    message = _refused(run_dir)
    assert "schema_version 99" in message and "upgrade" in message


def test_a_corrupt_checkpoint_is_refused(finished):
    run_dir, _ = finished
    path = run_dir / "checkpoint.json"
    path.write_text(path.read_text()[:200])
    assert "corrupt checkpoint" in _refused(run_dir)


def test_changed_data_is_refused_unless_forced(finished):
    run_dir, server = finished
    val = run_dir.parent.parent / "data" / "val.jsonl"
    rows = [json.loads(line) for line in val.read_text().splitlines()]
    rows[0]["answer"] = "beta" if rows[0]["answer"] == "alpha" else "alpha"
    val.write_text("".join(json.dumps(r) + "\n" for r in rows))
    message = _refused(run_dir)
    assert "task.data.val" in message and "changed" in message and "--force" in message
    forced = gepa("resume", str(run_dir), "--display", "none", "--force", cwd=run_dir.parent)
    assert forced.returncode == 0, forced.stderr


def test_changed_task_is_refused(finished):
    run_dir, _ = finished
    config = run_dir / "config.yaml"
    config.write_text(config.read_text().replace("Label the item", "Classify the item"))
    message = _refused(run_dir)
    assert "task.prompts" in message and "--force" in message


def test_a_different_val_set_is_refused_even_with_force(finished):
    run_dir, _ = finished
    val = run_dir.parent.parent / "data" / "val.jsonl"
    val.write_text(val.read_text().replace('"val1', '"other1'))
    message = _refused(run_dir, "--force")
    assert "val examples' ids" in message


def test_resuming_a_finished_run_sends_no_request(finished):
    run_dir, server = finished
    before = server.arrivals
    again = gepa("resume", str(run_dir), "--display", "none", cwd=run_dir.parent)
    assert again.returncode == 0, again.stderr
    # perfect already: only the test split is scored again, from the cache
    assert server.arrivals == before
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stopped_because"] == "perfect_val" and summary["lm_calls_cached"] > 0


def test_a_moved_run_directory_resumes_from_its_new_place(finished, tmp_path_factory):
    run_dir, server = finished
    moved = tmp_path_factory.mktemp("moved") / "run"
    shutil.move(run_dir, moved)
    before = server.arrivals
    result = gepa("resume", str(moved), "--display", "none", cwd=moved.parent)
    assert result.returncode == 0, result.stderr
    assert run_dir_of(result) == moved and server.arrivals == before


def test_a_checkpoint_of_an_older_version_still_resumes(finished):
    """No fingerprint and no events size in it: nothing to compare, nothing cut."""
    run_dir, _ = finished
    path = run_dir / "checkpoint.json"
    checkpoint = json.loads(path.read_text())
    del checkpoint["fingerprint"], checkpoint["events_bytes"]
    path.write_text(json.dumps(checkpoint))
    events_before = (run_dir / "events.jsonl").read_text()
    result = gepa("resume", str(run_dir), "--display", "none", cwd=run_dir.parent)
    assert result.returncode == 0, result.stderr
    assert (run_dir / "events.jsonl").read_text().startswith(events_before)
