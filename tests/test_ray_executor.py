"""`runtime.executor: ray` against a local Ray instance (2 CPUs on 127.0.0.1) started
here: a `python:` task gives the same candidates, scores, events and metric calls as
with threads; a run killed mid-way resumes to that same result; a worker that dies is
retried and leaves no trace in the outcome."""

from __future__ import annotations

import json
import logging
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_server import (
    FaultServer,
    assert_same_outcome,
    gepa,
    gepa_subprocess,
    outcome,
    run_dir_of,
    write_ideas_experiment,
)

from gepa_cli.config import load_config
from gepa_cli.run.runner import start_run

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'gepa-cli[ray]')")

TASK = Path(__file__).parent / "fixtures" / "busy_task.py"
DELAY_S = 0.003
KILL_AT = 14  # a task request while the first accepted child is scored on val


def experiment(root: Path, base_url: str, executor: str = "threads", **options: Any) -> Path:
    return write_ideas_experiment(
        root, base_url,
        task__type=f"python:{TASK}:BusyLabelTask", task__options=dict(options),
        runtime__executor=executor, runtime__ray={"address": "auto"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], int]:
    """The run with threads (in a forked child, before this process starts Ray)."""
    root = tmp_path_factory.mktemp("threads")
    with FaultServer(delay_s=DELAY_S) as server:
        result = gepa("run", str(experiment(root, server.base_url)), "--display", "none", cwd=root)
        sent = server.arrivals
    assert result.returncode == 0, result.stderr
    ref = outcome(run_dir_of(result))
    assert ref["summary"]["candidates"] >= 3
    return ref, sent


@pytest.fixture(scope="module")
def ray_address(reference: Any) -> Iterator[str]:
    """A local Ray instance for this module; its address, for `gepa` processes to join."""
    ray.init(
        address="local", num_cpus=2, include_dashboard=False,
        _node_ip_address="127.0.0.1", logging_level=logging.WARNING,
    )  # fmt: skip
    try:
        yield str(ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()


def run_here(config: Path, run_dir: Path) -> dict[str, Any]:
    """`gepa run` in this process, on the Ray instance it already has."""
    result = start_run(load_config(config), config.parent, run_dir, "none")
    return result.summary


def test_ray_run_is_the_threads_run(reference: Any, ray_address: str, tmp_path: Path) -> None:
    ref, ref_sent = reference
    with FaultServer(delay_s=DELAY_S) as server:
        summary = run_here(experiment(tmp_path, server.base_url, "ray"), tmp_path / "run")
        sent = server.arrivals
    assert summary["errors"] == 0
    assert_same_outcome(tmp_path / "run", ref)
    assert sent == ref_sent  # the same requests: the cache and budget stayed in the driver


def test_a_killed_ray_run_resumes_to_the_same_result(
    reference: Any, ray_address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref, ref_sent = reference
    monkeypatch.setenv("RAY_ADDRESS", ray_address)  # address: auto joins this Ray
    with FaultServer(delay_s=DELAY_S, hold_at=KILL_AT) as server:
        config = experiment(tmp_path, server.base_url, "ray")
        run_dir = tmp_path / "run"
        args = ("--display", "none", "--run-dir", str(run_dir))
        proc = gepa_subprocess("run", str(config), *args, cwd=tmp_path)
        assert server.held.wait(120), proc.communicate(timeout=30)[1]
        proc.kill()
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        server.release()
        resume = gepa_subprocess("resume", str(run_dir), "--display", "none", cwd=tmp_path)
        _, stderr = resume.communicate(timeout=180)
        sent = server.arrivals
    assert resume.returncode == 0, stderr
    assert_same_outcome(run_dir, ref)
    assert 1 <= sent - ref_sent <= 2  # only requests in flight at the kill are asked again


def test_a_worker_that_dies_is_retried(reference: Any, ray_address: str, tmp_path: Path) -> None:
    ref, _ = reference
    marker = tmp_path / "died"
    with FaultServer(delay_s=DELAY_S) as server:
        config = experiment(tmp_path, server.base_url, "ray", die_once=str(marker))
        summary = run_here(config, tmp_path / "run")
    assert marker.exists()  # a worker process did exit mid-rollout
    assert summary["errors"] == ref["summary"].get("errors", 0) == 0
    assert_same_outcome(tmp_path / "run", ref)
    events = (tmp_path / "run" / "events.jsonl").read_text().splitlines()
    assert not [e for e in map(json.loads, events) if e["event"] == "ExampleFailed"]
