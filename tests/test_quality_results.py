"""bench/quality_results.py: what a bench-quality run directory says, and the plan's order."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from bench.quality import plan
from bench.quality_results import RunResult, load_reference


def _write_run(path: Path, stopped: str = "max_metric_calls") -> Path:
    path.mkdir(parents=True)
    summary = {
        "best_candidate": "child", "test": {"seed": 0.1, "best": 0.3}, "seed_val_score": 0.0,
        "best_val_score": 0.4, "metric_calls": 110, "max_metric_calls": 120,
        "stopped_because": stopped, "elapsed_s": 60.0,
    }  # fmt: skip
    (path / "summary.json").write_text(json.dumps(summary))
    child = {"id": "child", "metric_calls_at_discovery": 21}
    (path / "candidates.jsonl").write_text(json.dumps({"id": "seed"}) + "\n" + json.dumps(child))
    events = [
        {"event": "CandidateAdded", "candidate_id": "other", "metric_calls": 30},
        {"event": "CandidateAdded", "candidate_id": "child", "metric_calls": 36},
    ]
    (path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def test_calls_to_best_count_to_the_end_of_the_best_candidates_val_scoring(tmp_path) -> None:
    result = RunResult.load("t", "default", 0, _write_run(tmp_path / "run"))
    assert result is not None and result.calls_to_best == 36  # not the 21 before val


def test_an_interrupted_run_is_left_out_until_resumed(tmp_path) -> None:
    assert RunResult.load("t", "default", 0, _write_run(tmp_path / "run", "sigterm")) is None


def test_the_reference_counts_its_best_to_the_same_point(tmp_path) -> None:
    raw = {
        "seed_val_score": 0.0, "best_val_score": 0.4, "test": {"seed": 0.0, "best": 0.5},
        "metric_calls": 120, "max_metric_calls": 120, "calls_to_best": 21, "elapsed_s": 60,
    }  # fmt: skip
    path = tmp_path / "result.json"
    path.write_text(json.dumps(raw))
    found = load_reference("t", 0, path, val_size=15)
    assert found is not None and found.calls_to_best == 36
    raw["calls_to_best"] = 0  # the seed stayed best: its val scoring is not a discovery
    path.write_text(json.dumps(raw))
    seed_best = load_reference("t", 0, path, val_size=15)
    assert seed_best is not None and seed_best.calls_to_best == 0


def test_the_plan_runs_every_default_first_and_staged_beside_full_on_both_seeds() -> None:
    order = [(t.name, c, s) for t, c, s in plan([0, 1], None)]
    assert order[:5] == [(name, "default", 0) for name in
                         ("quickstart", "banking77", "gsm8k", "ifeval", "hotpotqa")]  # fmt: skip
    early = order[:11]
    for task in ("banking77", "quickstart"):
        for seed in (0, 1):
            assert (task, "staged", seed) in early and (task, "default", seed) in early
    assert len(order) == len(set(order))
    assert ("quickstart", "select", 0) not in order  # select runs on banking77 only
    ablations = order.index(("banking77", "reflect_t1", 0))
    then = order[ablations + 1 : ablations + 6]
    assert then == [("banking77", "current_best", 0), ("quickstart", "current_best", 0),
                    ("banking77", "reference", 0), ("banking77", "reference", 1),
                    ("hotpotqa", "merge", 0)]  # fmt: skip
    assert {t for t, c, s in order if c == "merge"} == {"hotpotqa"}  # one module: no merge


def test_the_reflections_column_shows_the_retries_that_asked_for_rules(tmp_path) -> None:
    from bench.quality_report import _rates

    result = RunResult.load("t", "default", 0, _write_run(tmp_path / "run"))
    assert result is not None
    counts = {"calls": 10, "new": 6, "unchanged": 3, "unusable": 1, "retries": 4}
    plain = _rates([replace(result, reflections=counts)])
    assert plain == "10: 60% new, 30% unch., 10% unus.; 4 retries"
    ruled = {**counts, "rules": 3, "rules_new": 2}
    text = _rates([replace(result, reflections=ruled)])
    assert text.endswith("4 retries (3 asked for rules: 2 new)")
