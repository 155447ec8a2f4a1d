"""End to end: the real `gepa` command against a simulated OpenAI-compatible server."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from cli_harness import IDEA, SECRET, gepa, idea_responder, is_task_request, write_experiment
from openai_stub_server import StubServer

CONTRACT_FILES = [
    "config.yaml", "checkpoint.json", "candidates.jsonl", "score_matrix.csv",
    "frontier.json", "summary.json", "events.jsonl", "cache.sqlite",
]  # fmt: skip


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    with StubServer(idea_responder) as server:
        config = write_experiment(root, server.base_url)
        result = gepa("run", str(config), "--display", "plain", cwd=root)
        requests = list(server.requests)
    return root, result, requests


def test_run_improves_from_zero_to_one_and_prints_run_dir_last(finished_run):
    root, result, _ = finished_run
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    assert run_dir.is_dir() and run_dir.parent == root / "runs"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["seed_val_score"] == 0.0
    assert summary["best_val_score"] == 1.0
    assert summary["test"] == {"seed": 0.0, "best": 1.0, "n": 4}
    assert (run_dir / "best" / "label.txt").read_text().strip().endswith(IDEA)


def test_every_contract_file_exists_and_is_consistent(finished_run):
    _, result, _ = finished_run
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    for name in CONTRACT_FILES:
        assert (run_dir / name).exists(), name
    candidates = [
        json.loads(line) for line in (run_dir / "candidates.jsonl").read_text().splitlines()
    ]
    assert candidates[0]["origin"] == "seed" and candidates[0]["parents"] == []
    assert {"id", "parents", "origin", "iteration", "prompts", "val_score",
            "metric_calls_at_discovery"} <= set(candidates[-1])  # fmt: skip
    rows = list(csv.reader((run_dir / "score_matrix.csv").open()))
    assert rows[0] == ["candidate", "val20", "val21", "val22", "val23", "val24"]
    assert len(rows) == 1 + len(candidates)
    checkpoint = json.loads((run_dir / "checkpoint.json").read_text())
    assert checkpoint["schema_version"] >= 1
    events = [
        json.loads(line)["event"] for line in (run_dir / "events.jsonl").read_text().splitlines()
    ]
    assert events[0] == "SeedEvaluated" and events[-1] == "RunFinished"


def test_metric_calls_are_counted_exactly_and_within_budget(finished_run):
    _, result, requests = finished_run
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    summary = json.loads((run_dir / "summary.json").read_text())
    task_requests = sum(1 for r in requests if is_task_request(r.body))
    test_requests = 2 * summary["test"]["n"]  # seed and best on test, outside the budget
    assert summary["metric_calls"] == task_requests - test_requests
    assert summary["metric_calls"] <= 60


def test_api_key_is_sent_but_never_written(finished_run):
    _, result, requests = finished_run
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    assert all(r.authorization == f"Bearer {SECRET}" for r in requests)
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in result.stderr + result.stdout


def test_export_prompt_and_show_frontier(finished_run):
    root, result, _ = finished_run
    run_dir = result.stdout.strip().splitlines()[-1]
    exported = gepa("export-prompt", run_dir, cwd=root)
    assert exported.returncode == 0 and IDEA in exported.stdout
    as_json = gepa("export-prompt", run_dir, "--format", "json", cwd=root)
    assert IDEA in json.loads(as_json.stdout)["label"]
    summary = json.loads((Path(run_dir) / "summary.json").read_text())
    table = gepa("show-frontier", run_dir, cwd=root)
    assert table.returncode == 0 and summary["best_candidate"] in table.stdout
    machine = json.loads(gepa("show-frontier", run_dir, "--json", cwd=root).stdout)
    assert machine["best_candidate"] == summary["best_candidate"]


def test_unknown_key_and_malformed_yaml_exit_2_without_traceback(tmp_path):
    config = write_experiment(tmp_path, "http://127.0.0.1:9/v1", search__minibach_size=2)
    bad_key = gepa("run", str(config), cwd=tmp_path)
    assert bad_key.returncode == 2
    assert "search.minibach_size" in bad_key.stderr and "minibatch_size" in bad_key.stderr
    assert "Traceback" not in bad_key.stderr and len(bad_key.stderr.strip().splitlines()) == 1
    config.write_text("name: x\ntask: [unclosed\n")
    malformed = gepa("run", str(config), cwd=tmp_path)
    assert malformed.returncode == 2 and "exp.yaml" in malformed.stderr
    assert "Traceback" not in malformed.stderr
