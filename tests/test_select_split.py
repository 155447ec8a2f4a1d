"""`task.data.select`: the final candidate is the frontier candidate best on select (not
on val), scored outside the metric budget; summary.json, best/, export and the report
carry the choice and the val-vs-select gap; a resume replays it from the cache."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from cli_harness import IDEA, gold, idea_responder, write_experiment, write_splits
from openai_stub_server import StubServer

from gepa_cli.config import load_config
from gepa_cli.engine.state import Candidate, EngineState
from gepa_cli.engine.types import Example, Prompts, Rollout
from gepa_cli.report import write_report
from gepa_cli.run.plan import describe_plan
from gepa_cli.run.run_parts import Splits
from gepa_cli.run.runner import resume_run, start_run
from gepa_cli.run.select import choose_final, closing_scores, select_overlap_warning
from gepa_cli.rundir.directory import RunDir
from gepa_cli.rundir.frontier import export_prompts

# --- choosing ---------------------------------------------------------------------------------


def test_the_best_on_select_wins_not_the_best_on_val():
    pool = ["a", "b", "c"]
    val = {"a": 0.9, "b": 0.7, "c": 0.8}
    assert choose_final(pool, {"a": 0.5, "b": 0.8, "c": 0.6}, val) == "b"


def test_ties_on_select_go_to_the_better_val_then_the_earlier():
    assert (
        choose_final(["a", "b", "c"], {"a": 0.5, "b": 0.7, "c": 0.7}, {"a": 1, "b": 0.6, "c": 0.8})
        == "c"
    )
    assert choose_final(["a", "b"], {"a": 0.7, "b": 0.7}, {"a": 0.6, "b": 0.6}) == "a"
    assert choose_final(["a", "b"], {"a": 0.1 + 0.2, "b": 0.3}, {"a": 0.5, "b": 0.5}) == "a"


class TableEvaluator:
    """Scores from a table: (instruction, example id) -> score; records every call."""

    def __init__(self, table: dict[tuple[str, str], float]) -> None:
        self.table = table
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def evaluate(self, prompts: Prompts, examples: Sequence[Example]) -> list[Rollout]:
        self.calls.append((prompts["m"], tuple(ex.id for ex in examples)))
        return [Rollout(ex.id, self.table[(prompts["m"], ex.id)], "") for ex in examples]


def _state() -> EngineState:
    """seed (val 0.25), A (val 0.75, best on val), B (val 0.5): A and B on the frontier."""
    state = EngineState()
    rows = {"seed": [0, 0, 1, 0], "A": [1, 1, 1, 0], "B": [0, 0, 1, 1]}
    for i, (cid, scores) in enumerate(rows.items()):
        cand = Candidate(cid, {"m": cid}, () if i == 0 else ("seed",), "mutation", i, 0)
        state.add_candidate(cand, {f"v{j}": float(s) for j, s in enumerate(scores)})
    return state


def _table() -> dict[tuple[str, str], float]:
    select = {"seed": [1, 0], "A": [0, 0], "B": [1, 1]}  # B is best on select
    test = {"seed": [0, 0], "A": [1, 1], "B": [1, 0]}
    table = {(c, f"s{j}"): float(s) for c, row in select.items() for j, s in enumerate(row)}
    table |= {(c, f"t{j}"): float(s) for c, row in test.items() for j, s in enumerate(row)}
    return table


def _splits(test: bool = True) -> Splits:
    select = [Example("s0", {}), Example("s1", {})]
    tests = [Example("t0", {}), Example("t1", {})] if test else None
    return Splits([], [], tests, select)


def test_closing_scores_choose_on_select_and_report_both_and_the_gap():
    evaluator = TableEvaluator(_table())
    closing = closing_scores(_state(), ("A", "B"), _splits(), evaluator)
    assert closing["final_candidate"] == "B"
    sel = closing["select"]
    assert sel["candidate"] == "B" and sel["select_score"] == 1.0 and sel["val_score"] == 0.5
    assert sel["best_val_candidate"] == "A" and sel["best_val_score"] == 0.75
    assert sel["best_val_select_score"] == 0.0
    assert sel["val_select_gap"] == pytest.approx(0.75 - 1.0)
    assert sel["scores"] == {"A": 0.0, "B": 1.0} and sel["n"] == 2
    # test: the final candidate, and the best on val since it differs
    assert closing["test"] == {
        "seed": 0.0, "best": 0.5, "n": 2, "final_candidate": "B", "best_by_val": 1.0
    }  # fmt: skip
    on_select = [prompt for prompt, ids in evaluator.calls if ids == ("s0", "s1")]
    assert on_select == ["A", "B"]  # every frontier candidate once, the seed (dominated) not


def test_without_select_the_test_entry_is_as_before():
    evaluator = TableEvaluator(_table())
    state = _state()
    splits = Splits([], [], [Example("t0", {}), Example("t1", {})])
    assert closing_scores(state, ("A", "B"), splits, evaluator) == {
        "test": {"seed": 0.0, "best": 1.0, "n": 2}
    }
    assert closing_scores(state, ("A", "B"), Splits([], [], None), evaluator) == {"test": None}


def test_the_best_on_val_always_competes_and_no_candidate_is_scored_twice():
    evaluator = TableEvaluator(_table())
    closing = closing_scores(_state(), ("B",), _splits(), evaluator)
    assert set(closing["select"]["scores"]) == {"A", "B"}
    assert len(evaluator.calls) == len(set(evaluator.calls))


def test_overlap_with_train_or_val_is_a_warning():
    row = Example("x1", {"q": 1})
    assert select_overlap_warning([row], {"train": [], "val": [Example("v", {"q": 2})]}) is None
    warning = select_overlap_warning([row], {"train": [], "val": [Example("other-id", {"q": 1})]})
    assert warning is not None and "1 with val" in warning and "\n" not in warning
    assert select_overlap_warning(None, {"val": [row]}) is None


# --- a whole run -------------------------------------------------------------------------------


def _label(n: int) -> str:
    """Gold labels below 100; above, the other label (what the seed prompt answers)."""
    right = gold(n)
    return right if n < 100 else ("beta" if right == "alpha" else "alpha")


def _experiment(root: Path, base_url: str, select: bool) -> Path:
    """Val rows 20-23 favour the IDEA child, row 100 the seed: both stay on the frontier;
    the child is best on val, the seed best on select (rows 101-103)."""
    splits = {
        "train": range(0, 12), "val": [20, 21, 22, 23, 100], "test": range(30, 34),
        "select": range(101, 104),
    }  # fmt: skip
    extra = {"task__data__select": "data/select.jsonl"} if select else {}
    config = write_experiment(root, base_url, budget__max_metric_calls=40, **extra)
    write_splits(root, splits, _label)
    return config


def _start(root: Path, select: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, int]:
    monkeypatch.setenv("E2E_KEY", "sk-test")
    root.mkdir()
    with StubServer(idea_responder) as server:
        config = _experiment(root, server.base_url, select)
        summary = start_run(load_config(config), config.parent, root / "run", "none").summary
        return summary, len(server.requests)


def test_a_run_chooses_on_select_outside_the_budget(tmp_path, monkeypatch):
    plain, _ = _start(tmp_path / "plain", False, monkeypatch)
    summary, _ = _start(tmp_path / "select", True, monkeypatch)
    seed, best = summary["seed_candidate"], summary["best_candidate"]
    assert best != seed and summary["best_val_score"] == pytest.approx(0.8)
    assert summary["final_candidate"] == seed  # the best on select, not on val
    sel = summary["select"]
    assert sel["select_score"] == 1.0 and sel["best_val_select_score"] == 0.0
    assert sel["val_select_gap"] == pytest.approx(0.8 - 1.0)
    assert summary["test"]["best"] == 0.0 and summary["test"]["best_by_val"] == 1.0
    # the search itself is the same and select spent no metric call
    for key in ("metric_calls", "candidates", "iterations", "best_candidate"):
        assert summary[key] == plain[key]
    assert summary["metric_calls"] <= 40
    assert "select" not in plain and "final_candidate" not in plain
    run = RunDir.open(tmp_path / "select" / "run")
    on_disk = json.loads(run.file("summary.json").read_text())
    assert on_disk["final_candidate"] == seed
    seed_prompt = "Label the item as alpha or beta."
    assert export_prompts(run) == seed_prompt
    assert (run.path / "best" / "label.txt").read_text() == seed_prompt
    assert IDEA in export_prompts(RunDir.open(tmp_path / "plain" / "run"))
    html = write_report(run.path).read_text()
    assert "val-vs-select gap" in html and "-0.200" in html


def test_resuming_a_finished_run_replays_select_from_the_cache(tmp_path, monkeypatch):
    summary, sent = _start(tmp_path / "r", True, monkeypatch)
    with StubServer(idea_responder) as server:
        again = resume_run(tmp_path / "r" / "run", [], "none").summary
        assert len(server.requests) == 0
    assert again["select"] == summary["select"] and again["test"] == summary["test"]


def test_validate_names_the_select_split_and_warns_of_overlap(tmp_path):
    config = _experiment(tmp_path, "http://127.0.0.1:9/v1", True)
    cfg = load_config(config)
    assert "select 3" in describe_plan(cfg, config.parent)
    (tmp_path / "data" / "select.jsonl").write_text((tmp_path / "data" / "val.jsonl").read_text())
    assert "# warning: task.data.select shares rows (5 with val)" in describe_plan(
        cfg, config.parent
    )


def test_overlap_with_test_is_warned_about_too():
    row = Example("x1", {"q": 1})
    others = {"train": [], "val": [], "test": [Example("t", {"q": 1})]}
    warning = select_overlap_warning([row], others)
    assert warning is not None and "1 with test" in warning


def test_a_summary_older_than_the_checkpoint_no_longer_names_the_final_candidate(
    tmp_path, monkeypatch
):
    summary, _ = _start(tmp_path / "s", True, monkeypatch)
    run = RunDir.open(tmp_path / "s" / "run")
    seed_prompt = "Label the item as alpha or beta."
    assert export_prompts(run) == seed_prompt  # the select choice, while the summary holds
    stale = {**summary, "metric_calls": summary["metric_calls"] - 1}  # a resume moved on
    run.file("summary.json").write_text(json.dumps(stale))
    assert IDEA in export_prompts(run)  # the frontier's best, as best/ shows during a resume
