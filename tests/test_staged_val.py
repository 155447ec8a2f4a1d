"""`search.val_policy: staged`: accepted children scored on a stratified val subsample
first, going on to all of val only when they can still matter; the rest are kept as
partial candidates that never steer the search. Against scripted fakes."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence

import pytest
from engine_fakes import IdeaEvaluator, ScriptedReflector, examples, learn_one_rule

from gepa_cli.engine import events as ev
from gepa_cli.engine.engine import GepaEngine
from gepa_cli.engine.pareto import per_example_fronts
from gepa_cli.engine.selection import select_parent
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.staged_val import (
    stage_size,
    stage_subsample,
    stage_verdict,
    staged_summary,
)
from gepa_cli.engine.state import Candidate, CheckpointError, EngineState
from gepa_cli.engine.types import Example, Prompts, Rollout
from gepa_cli.run.concurrency import thread_map
from gepa_cli.rundir.views import candidate_record, frontier_data, score_matrix_csv

SEED = "Solve it."
VAL = [f"v{i}" for i in range(6)]


class TableEvaluator:
    """Scores from a table: instruction -> example id -> score (0 when absent)."""

    def __init__(self, table: Mapping[str, Mapping[str, float]]) -> None:
        self.table = table
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def evaluate(self, prompts: Prompts, batch: Sequence[Example]) -> list[Rollout]:
        text = prompts["solve"]
        self.calls.append((text, tuple(ex.id for ex in batch)))
        row = self.table.get(text, {})
        return [Rollout(ex.id, row.get(ex.id, 0.0), "feedback", output="x") for ex in batch]

    @property
    def evaluated(self) -> int:
        return sum(len(ids) for _, ids in self.calls)


def one_step(child_val: Mapping[str, float], stage: int = 2) -> tuple[GepaEngine, list, str]:
    """Seed (passes v0-v2, fails v3-v5, 0 on train), then one proposal whose child
    passes the whole minibatch and scores `child_val` on val."""
    seed_val = {"v0": 1.0, "v1": 1.0, "v2": 1.0}
    child = "Solve it well."
    table = {SEED: seed_val, child: {"t0": 1.0, "t1": 1.0, "t2": 1.0, **child_val}}
    log: list = []
    engine = GepaEngine(
        EngineSettings(max_metric_calls=100, val_policy="staged", val_stage_size=stage),
        ["solve"], examples("t", ["a", "b", "c"]), examples("v", ["x"] * 6),
        TableEvaluator(table), ScriptedReflector(lambda _: f"```\n{child}\n```"), emit=log.append,
    )  # fmt: skip
    engine.score_seed({"solve": SEED})
    engine.step()
    return engine, log, engine.state.candidates[-1].id


def of(log: list, kind: type) -> list:
    return [e for e in log if isinstance(e, kind)]


# --- the two stages --------------------------------------------------------------------------


def test_a_child_that_beats_its_parent_on_the_subsample_goes_on_to_all_of_val() -> None:
    engine, log, child = one_step(dict.fromkeys(VAL, 1.0))
    [staged] = of(log, ev.ValidationStaged)
    assert staged.continued and staged.reason == "beats_parent"
    assert len(staged.subsample) == 2 and staged.child_sum == 2.0
    assert set(engine.state.val_scores[child]) == set(VAL) and not engine.state.partial
    assert [a.candidate_id for a in of(log, ev.CandidateAdded)] == [child]
    assert engine.state.best_id() == child
    # seed 6 + parent minibatch 3 + child minibatch 3 + subsample 2 + the rest 4
    assert engine.state.metric_calls == engine.evaluator.evaluated == 18


def test_a_child_that_wins_an_example_outright_goes_on_even_if_its_sum_is_lower() -> None:
    # the stage holds one example the seed fails and one it passes (stratified by the seed)
    engine, log, child = one_step({"v3": 1.0, "v4": 1.0, "v5": 1.0})
    [staged] = of(log, ev.ValidationStaged)
    assert staged.parent_sum == staged.child_sum == 1.0  # no better on the sum
    assert staged.continued and staged.reason == "wins_example"
    assert not engine.state.is_partial(child) and len(engine.state.val_scores[child]) == 6
    assert child in engine.frontier_ids()


def test_a_child_that_can_no_longer_matter_is_kept_partial_with_only_subsample_rows() -> None:
    engine, log, child = one_step({"v0": 1.0, "v1": 1.0, "v2": 1.0})  # the seed's val scores
    [staged] = of(log, ev.ValidationStaged)
    assert not staged.continued and staged.reason == "stopped"
    state = engine.state
    assert state.partial == {child} and state.is_partial(child)
    assert list(state.val_scores[child]) == sorted(staged.subsample)  # val order
    assert not of(log, ev.CandidateAdded)  # the pool got a partial candidate, not a scored one
    [added] = of(log, ev.PartialCandidateAdded)
    assert (added.candidate_id, added.scored, added.val_size) == (child, 2, 6)
    assert added.val_score == state.mean_val_score(child)  # the mean of the scored cells
    assert len(of(log, ev.FrontierChanged)) == 1  # the seed's only
    assert engine.frontier_ids() == (state.seed_id(),) and state.best_id() == state.seed_id()
    # seed 6 + parent minibatch 3 + child minibatch 3 + subsample 2: the rest is never run
    assert state.metric_calls == engine.evaluator.evaluated == 14
    assert staged_summary(state, engine.settings, 6) == {
        "staged_validation": {"stage_size": 2, "stopped_early": 1, "metric_calls_saved": 4}
    }


def test_the_first_stage_is_stratified_by_the_parent_and_reproducible() -> None:
    parent = {"v0": 1.0, "v1": 1.0, "v2": 1.0, "v3": 0.0, "v4": 0.0, "v5": 0.0}
    for proposal in range(5):
        picked = stage_subsample(parent, 2, 7, 3, proposal)
        assert sorted(parent[eid] for eid in picked) == [0.0, 1.0]  # one fail, one pass
        assert picked == stage_subsample(parent, 2, 7, 3, proposal)
    draws = {tuple(stage_subsample(parent, 2, 7, it, 0)) for it in range(1, 20)}
    assert len(draws) > 1  # a fresh draw per iteration
    assert stage_size(None, 30) == 10 and stage_size(None, 6) == 4 and stage_size(None, 3) == 3
    assert stage_size(50, 12) == 12
    with pytest.raises(ValueError, match="val_stage_size must be at least 1"):
        stage_size(0, 12)


def test_the_verdict_follows_the_float_tolerance_rules() -> None:
    # 0.1 + 0.2 is not better than 0.3, and a tie with the best is no outright win
    assert stage_verdict({"a": 0.1, "b": 0.2}, {"a": 0.3, "b": 0.0}, {"a": 0.3, "b": 0.2}) == (
        "stopped"
    )
    assert stage_verdict({"a": 0.1, "b": 0.2 + 1e-12}, {"a": 0.0, "b": 0.3}, {"b": 0.2}) == (
        "stopped"
    )
    assert stage_verdict({"a": 0.1, "b": 0.3}, {"a": 0.0, "b": 0.3}, {"a": 1.0}) == "beats_parent"
    assert stage_verdict({"a": 0.0, "b": 0.5}, {"a": 1.0, "b": 0.0}, {"b": 0.4}) == "wins_example"


# --- partial candidates never steer the search -----------------------------------------------


def pool_with_partial() -> EngineState:
    """A seed, a complete child, and a partial child that looks best on its two cells."""
    state = EngineState()
    rows = {"s": [0.0, 1.0, 0.0, 0.0], "c": [1.0, 0.0, 0.0, 0.0]}
    for number, (cid, scores) in enumerate(rows.items()):
        state.add_candidate(
            Candidate(cid, {"m": cid}, (), "seed" if cid == "s" else "mutation", number, 4),
            dict(zip(["e0", "e1", "e2", "e3"], scores, strict=True)),
        )
    state.add_partial_candidate(
        Candidate("p", {"m": "p"}, ("s",), "mutation", 2, 8), {"e2": 1.0, "e3": 1.0}
    )
    state.metric_calls = 10
    return state


def test_parents_frontier_best_and_views_never_pick_a_partial_candidate() -> None:
    state = pool_with_partial()
    assert state.mean_val_score("p") == 1.0 > state.mean_val_score("c")
    assert state.best_id() == "s" and state.complete_ids() == ["s", "c"]
    for strategy in ("pareto", "current_best", "epsilon_greedy"):
        rng = random.Random(0)
        picks = {select_parent(state, strategy, rng, epsilon=1.0) for _ in range(200)}
        assert "p" not in picks
    frontier = frontier_data(state, ["e0", "e1", "e2", "e3"])
    assert [m["id"] for m in frontier["non_dominated"]] == ["s", "c"]
    assert all("p" not in ex["candidates"] for ex in frontier["examples"])
    assert frontier["best_candidate"] == "s"
    record = candidate_record(state, state.candidate("p"))
    assert record["partial"] is True and record["val_scored"] == 2 and record["val_score"] == 1.0
    assert "partial" not in candidate_record(state, state.candidate("c"))
    assert score_matrix_csv(state, ["e0", "e1", "e2", "e3"]).splitlines()[-1] == "p,,,1.0,1.0"


def test_the_per_example_front_skips_unscored_cells() -> None:
    scores = {"a": {"e1": 0.0}, "b": {"e0": 0.5}, "c": {"e0": 0.5, "e1": 0.0, "e2": 0.2}}
    fronts = {f.example_id: f for f in per_example_fronts(["a", "b", "c"], scores)}
    assert list(fronts) == ["e1", "e0", "e2"]  # no KeyError when the first row lacks some
    assert fronts["e1"].candidate_ids == ("a", "c")  # b is unscored there, not a 0 that ties
    assert fronts["e2"].candidate_ids == ("c",) and fronts["e2"].best_score == 0.2


# --- budget, checkpoint, resume --------------------------------------------------------------

IDEAS = ["carry the one", "round down", "carry the one", "round down", "units", "sign"]


def staged_engine(budget: int, log: list | None = None, **kw) -> GepaEngine:
    sink = log.append if log is not None else ev.discard_event
    settings = EngineSettings(max_metric_calls=budget, val_policy="staged", **kw)
    return GepaEngine(
        settings, ["solve"], examples("t", IDEAS * 2), examples("v", IDEAS),
        IdeaEvaluator(), ScriptedReflector(learn_one_rule), emit=sink,
    )  # fmt: skip


def run(engine: GepaEngine, max_iterations: int = 60) -> None:
    engine.score_seed({"solve": SEED})
    for _ in range(max_iterations):
        if engine.stop_reason() is not None:
            break
        engine.step()


def test_the_budget_is_exact_and_never_exceeded_with_staged_validation() -> None:
    stopped_early = 0
    for k in (1, 3):
        for budget in (6, 20, 29, 41, 63, 90, 150):
            engine = staged_engine(budget, parallel_proposals=k, seed=budget)
            engine.mutation.map = engine.mutation.staged.map = thread_map
            run(engine)
            assert engine.state.metric_calls == engine.evaluator.evaluated <= budget
            stopped_early += len(engine.state.partial)
    assert stopped_early > 0  # the runs did stop children early


def test_a_resumed_staged_run_ends_exactly_like_an_uninterrupted_one() -> None:
    whole_log: list = []
    whole = staged_engine(150, whole_log, parallel_proposals=2, seed=3)
    run(whole)
    assert whole.state.partial
    half = staged_engine(150, parallel_proposals=2, seed=3)
    run(half, max_iterations=3)
    saved = json.loads(json.dumps(half.state.to_json()))
    assert saved["schema_version"] == 1 and saved["partial"]
    resumed_log: list = []
    resumed = staged_engine(150, resumed_log, parallel_proposals=2, seed=3)
    resumed.state = EngineState.from_json(saved)
    run(resumed)
    assert resumed.state.to_json() == whole.state.to_json()
    later = [ev.event_to_json(e) for e in whole_log if getattr(e, "iteration", 0) > 3]
    assert [ev.event_to_json(e) for e in resumed_log] == later


def test_a_checkpoint_holds_partial_rows_only_for_candidates_marked_partial() -> None:
    raw = pool_with_partial().to_json()
    assert raw["partial"] == ["p"] and EngineState.from_json(raw).partial == {"p"}
    unmarked = {k: v for k, v in raw.items() if k != "partial"}
    with pytest.raises(CheckpointError, match="does not cover the seed's val examples"):
        EngineState.from_json(unmarked)
    for wrong in (["s"], ["nobody"]):
        with pytest.raises(CheckpointError, match="not in the pool"):
            EngineState.from_json({**raw, "partial": wrong})
    full_row = {**raw, "val_scores": {**raw["val_scores"], "p": raw["val_scores"]["c"]}}
    with pytest.raises(CheckpointError, match="some, not all"):
        EngineState.from_json(full_row)
    complete = EngineState.from_json({**unmarked, "val_scores": full_row["val_scores"]})
    assert "partial" not in complete.to_json()


def test_a_first_stage_that_covers_all_of_val_says_so_and_adds_a_complete_child() -> None:
    engine, log, child = one_step({"v0": 1.0, "v1": 1.0, "v2": 1.0}, stage=6)
    [staged] = of(log, ev.ValidationStaged)
    assert staged.continued and staged.reason == "whole_val"
    assert not engine.state.partial and len(engine.state.val_scores[child]) == 6
