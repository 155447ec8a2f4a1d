"""System-aware merge: module choice through the common ancestor, acceptance, no retries."""

from __future__ import annotations

import random
from collections.abc import Sequence

from engine_fakes import ScriptedReflector

from gepa_cli.engine import events as ev
from gepa_cli.engine.engine import GepaEngine
from gepa_cli.engine.merge import find_merge, merge_prompts, stratified_subsample
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.state import Candidate, EngineState, candidate_id
from gepa_cli.engine.types import Example, Prompts, Rollout

SEED = {"a": "Do A.", "b": "Do B."}


def cand(
    prompts: dict[str, str], parents: tuple[str, ...] = (), origin: str = "mutation"
) -> Candidate:
    return Candidate(candidate_id(prompts), prompts, parents, origin, len(parents), 0)


def pool(*members: tuple[Candidate, list[float]]) -> EngineState:
    state = EngineState()
    for member, scores in members:
        state.add_candidate(member, {f"v{i}": s for i, s in enumerate(scores)})
    return state


def test_merge_takes_each_module_from_the_side_that_changed_it():
    seed = cand(SEED, origin="seed")
    left = cand({"a": "Do A well.", "b": "Do B."}, (seed.id,))
    right = cand({"a": "Do A.", "b": "Do B well."}, (seed.id,))
    assert merge_prompts(seed.prompts, left, right, True) == {"a": "Do A well.", "b": "Do B well."}
    both = cand({"a": "Do A fast.", "b": "Do B well."}, (seed.id,))
    # both changed `a`: the better-scoring side's version; `b` from the side that changed it
    assert merge_prompts(seed.prompts, left, both, True) == {"a": "Do A well.", "b": "Do B well."}
    # if `both` scores higher it would supply every module: the merge is just `both`, so none
    assert merge_prompts(seed.prompts, left, both, False) is None
    # one side brings nothing the other lacks: no merge
    same_b = cand({"a": "Do A fast.", "b": "Do B."}, (seed.id,))
    assert merge_prompts(seed.prompts, left, same_b, True) is None


def test_find_merge_picks_frontier_pair_with_common_ancestor():
    seed = cand(SEED, origin="seed")
    left = cand({"a": "Do A well.", "b": "Do B."}, (seed.id,))
    right = cand({"a": "Do A.", "b": "Do B well."}, (seed.id,))
    state = pool((seed, [0, 0, 0, 0]), (left, [1, 1, 0, 0]), (right, [0, 0, 1, 1]))
    plan = find_merge(state, [left.id, right.id], random.Random(0))
    assert plan is not None and set(plan.parents) == {left.id, right.id}
    assert plan.ancestor == seed.id
    assert plan.prompts == {"a": "Do A well.", "b": "Do B well."}


def test_no_merge_between_a_candidate_and_its_descendant():
    seed = cand(SEED, origin="seed")
    left = cand({"a": "Do A well.", "b": "Do B."}, (seed.id,))
    grandchild = cand({"a": "Do A well.", "b": "Do B well."}, (left.id,))
    state = pool((seed, [0, 0]), (left, [1, 0]), (grandchild, [0, 1]))
    assert find_merge(state, [left.id, grandchild.id], random.Random(0)) is None


def test_stratified_subsample_draws_from_each_side():
    first = {"v0": 1.0, "v1": 1.0, "v2": 0.0, "v3": 0.0, "v4": 0.5}
    second = {"v0": 0.0, "v1": 0.0, "v2": 1.0, "v3": 1.0, "v4": 0.5}
    chosen = stratified_subsample(first, second, 3, random.Random(1))
    assert len(chosen) == 3
    assert any(first[e] > second[e] for e in chosen)
    assert any(second[e] > first[e] for e in chosen)
    assert "v4" in chosen


class TwoModuleEvaluator:
    """Example i needs `idea` in module `module` (from its data); optional veto for merges."""

    def __init__(self, veto_both: bool = False) -> None:
        self.veto_both = veto_both

    def evaluate(self, prompts: Prompts, examples: Sequence[Example]) -> list[Rollout]:
        out = []
        for ex in examples:
            module, idea = ex.data["module"], ex.data["idea"]
            ok = idea in prompts[module]
            if self.veto_both and "ALPHA" in prompts["a"] and "BETA" in prompts["b"]:
                ok = False
            fb = "ok" if ok else f"Wrong: the rule '{idea}' was missing in {module}."
            out.append(Rollout(ex.id, 1.0 if ok else 0.0, fb, module_feedback={module: fb}))
        return out


def make(veto_both: bool = False, merges_due: int = 1) -> tuple[GepaEngine, list]:
    """Two branches from the seed, one fixing module a, one fixing module b; a merge is due."""
    data = [{"module": "a", "idea": "ALPHA"}, {"module": "b", "idea": "BETA"}] * 3
    train = [Example(f"t{i}", d) for i, d in enumerate(data)]
    val = [Example(f"v{i}", d) for i, d in enumerate(data)]
    seed = cand(SEED, origin="seed")
    left = cand({"a": "Do A. ALPHA", "b": "Do B."}, (seed.id,))
    right = cand({"a": "Do A.", "b": "Do B. BETA"}, (seed.id,))
    state = pool((seed, [0] * 6), (left, [1, 0] * 3), (right, [0, 1] * 3))
    state.merges_due = merges_due
    log: list = []
    settings = EngineSettings(
        seed=3, minibatch_size=2, max_metric_calls=1000, merge_enabled=True,
        merge_max_invocations=2, merge_subsample=4,
    )  # fmt: skip
    engine = GepaEngine(
        settings, ["a", "b"], train, val, TwoModuleEvaluator(veto_both),
        ScriptedReflector(lambda p: "```\nDo something else.\n```"), emit=log.append, state=state,
    )  # fmt: skip
    return engine, log


def test_engine_merge_combines_lineages_into_two_parent_candidate():
    engine, log = make()
    engine.step()
    merged = engine.state.candidates[-1]
    assert merged.origin == "merge" and len(merged.parents) == 2
    parents = [engine.state.candidate(p) for p in merged.parents]
    assert {"ALPHA" in p.prompts["a"] for p in parents} == {True, False}
    assert merged.prompts == {"a": "Do A. ALPHA", "b": "Do B. BETA"}
    assert engine.state.mean_val_score(merged.id) == 1.0
    [event] = [e for e in log if isinstance(e, ev.MergeEvaluated)]
    assert event.accepted and event.child_id == merged.id and event.child_sum == 4
    # subsample (4) then the other 2 val examples: every val example scored exactly once
    assert engine.state.metric_calls == 6
    assert engine.state.merges_accepted == 1 and engine.state.merges_due == 0


def test_rejected_merge_is_never_retried():
    engine, log = make(veto_both=True, merges_due=3)
    for _ in range(3):
        engine.step()
    tried = [e for e in log if isinstance(e, ev.MergeEvaluated)]
    assert len(tried) == 1 and not tried[0].accepted
    assert not any(c.origin == "merge" for c in engine.state.candidates)
    assert engine.state.merges_due == 0  # no untried merge left: back to mutation
    assert any(isinstance(e, ev.IterationStarted) for e in log)
