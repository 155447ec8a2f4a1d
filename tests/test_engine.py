"""The engine against scripted fakes: improvement, exact budget, skips, replay."""

from __future__ import annotations

from collections import Counter

from engine_fakes import IdeaEvaluator, ScriptedReflector, examples, learn_one_rule, learn_rules

from gepa_cli.engine import events as ev
from gepa_cli.engine.engine import GepaEngine
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.state import EngineState
from gepa_cli.run.concurrency import thread_map

IDEAS = ["carry the one", "round down", "carry the one", "round down", "units"]


def make_engine(budget: int | None, respond=learn_rules, **kw) -> tuple[GepaEngine, list]:
    log: list = []
    settings = EngineSettings(seed=kw.pop("seed", 0), max_metric_calls=budget, **kw)
    engine = GepaEngine(
        settings,
        ["solve"],
        examples("t", IDEAS * 2),
        examples("v", IDEAS),
        IdeaEvaluator(),
        ScriptedReflector(respond),
        emit=log.append,
    )
    return engine, log


def run(engine: GepaEngine, max_iterations: int = 50) -> None:
    engine.score_seed({"solve": "Solve it."})
    for _ in range(max_iterations):
        if engine.stop_reason() is not None:
            break
        engine.step()


def test_seed_low_and_reflection_learns_to_perfect():
    engine, log = make_engine(200)
    run(engine)
    state = engine.state
    assert state.mean_val_score(state.seed_id()) == 0.0
    assert state.mean_val_score(state.best_id()) == 1.0
    added = [e for e in log if isinstance(e, ev.CandidateAdded)]
    assert added and all(a.parents for a in added)
    best = state.candidate(state.best_id())
    assert all(idea in best.prompts["solve"] for idea in set(IDEAS))


def test_budget_counts_every_evaluation_and_is_never_exceeded():
    for budget in (5, 6, 11, 17, 23, 40, 61):
        engine, _ = make_engine(budget)
        run(engine)
        assert engine.state.metric_calls == engine.evaluator.evaluated
        assert engine.state.metric_calls <= budget


def test_budget_stops_only_when_next_iteration_could_overflow():
    # seed 5 + one iteration's worst case (3 parent + 3 child + 5 val = 11) = 16
    short, _ = make_engine(15)
    run(short)
    assert short.state.iteration == 0 and short.stop_reason() == "max_metric_calls"
    enough, _ = make_engine(16)
    run(enough)
    assert enough.state.iteration >= 1


def test_stops_when_val_is_perfect_or_search_stalls():
    engine, _ = make_engine(None)
    run(engine, max_iterations=500)
    assert engine.stop_reason() == "perfect_val"
    stuck, _ = make_engine(None, respond=lambda p: "```\nSolve it.\n```")
    run(stuck, max_iterations=500)
    assert stuck.stop_reason() == "stalled"
    assert stuck.state.iteration == stuck.max_idle_iterations() + 4  # 4 paid to cache the train set


def test_rejected_child_does_not_join_pool():
    engine, log = make_engine(100, respond=lambda p: "```\nSolve it carefully.\n```")
    run(engine, max_iterations=3)
    assert len(engine.state.candidates) == 1
    proposals = [e for e in log if isinstance(e, ev.ProposalEvaluated)]
    assert proposals and not any(p.accepted for p in proposals)
    skips = [e.reason for e in log if isinstance(e, ev.IterationSkipped)]
    # the same rewrite proposed again is recognised at the reflection (retried, then given
    # up as unchanged) and never re-evaluated
    assert skips and set(skips) == {"unchanged"}
    assert len(proposals) == 1


def test_unchanged_and_failed_reflection_are_skipped_without_child_eval():
    engine, log = make_engine(100, respond=lambda p: "```\nSolve it.\n```")
    run(engine, max_iterations=1)
    assert [e.reason for e in log if isinstance(e, ev.IterationSkipped)] == ["unchanged"]
    assert engine.state.metric_calls == 5 + 3
    engine2, log2 = make_engine(100, respond=lambda p: "!fail")
    run(engine2, max_iterations=1)
    assert [e.reason for e in log2 if isinstance(e, ev.IterationSkipped)] == ["reflection_failed"]


def test_parent_minibatch_rollouts_are_reused_not_recharged():
    engine, _ = make_engine(1000, respond=lambda p: "```\nSolve it carefully.\n```")
    run(engine, max_iterations=4)
    # 10 train examples; batches of 3 from the seed: 4 iterations touch at most 10 ids once each.
    parent_evals = engine.state.metric_calls - 5 - 3  # one child evaluated, rest skipped as known
    assert parent_evals <= 10


def test_skip_perfect_parent():
    engine, log = make_engine(100)
    engine.score_seed({"solve": "carry the one; round down; units"})
    engine.step()
    assert [e.reason for e in log if isinstance(e, ev.IterationSkipped)] == ["all_perfect"]


def test_checkpoint_round_trip_replays_identically():
    full, _ = make_engine(80, respond=learn_one_rule)
    run(full)
    assert len(full.state.candidates) >= 3
    half, _ = make_engine(80, respond=learn_one_rule)
    run(half, max_iterations=3)
    saved = EngineState.from_json(half.state.to_json())
    resumed, _ = make_engine(80, respond=learn_one_rule)
    resumed.state = saved
    run(resumed)
    assert [c.id for c in resumed.state.candidates] == [c.id for c in full.state.candidates]
    assert resumed.state.metric_calls == full.state.metric_calls
    assert resumed.state.iteration == full.state.iteration


def test_module_round_robin_rotates_through_modules():
    from gepa_cli.engine.selection import select_modules

    mods = ["a", "b", "c"]
    pointer, seen = 0, []
    for _ in range(4):
        chosen, pointer = select_modules(mods, "round_robin", pointer)
        seen.append(chosen[0])
    assert seen == ["a", "b", "c", "a"]
    assert select_modules(mods, "all", 1) == (("a", "b", "c"), 1)


def test_parallel_proposals_are_reproducible_and_within_budget():
    def run_k(k: int, budget: int) -> GepaEngine:
        engine, _ = make_engine(budget, respond=learn_one_rule, parallel_proposals=k)
        run(engine)
        return engine

    first, again = run_k(3, 120), run_k(3, 120)
    assert [c.id for c in first.state.candidates] == [c.id for c in again.state.candidates]
    assert first.state.metric_calls == again.state.metric_calls <= 120
    assert first.state.metric_calls == first.evaluator.evaluated
    assert first.state.mean_val_score(first.state.best_id()) > 0.0
    for budget in (20, 33, 57, 80):
        engine = run_k(4, budget)
        assert engine.state.metric_calls <= budget


def test_parallel_proposals_run_concurrently():
    import threading
    import time

    class SlowReflector(ScriptedReflector):
        def __init__(self) -> None:
            super().__init__(learn_one_rule)
            self.active = self.peak = 0
            self.lock = threading.Lock()

        def complete(self, messages):
            with self.lock:
                self.active += 1
                self.peak = max(self.peak, self.active)
            time.sleep(0.05)
            try:
                return super().complete(messages)
            finally:
                with self.lock:
                    self.active -= 1

    engine, _ = make_engine(200, parallel_proposals=3)
    reflector = SlowReflector()
    engine.mutation.reflector = reflector
    engine.mutation.map = thread_map  # the runner's map; the engine itself starts no thread
    engine.score_seed({"solve": "Solve it."})
    engine.step()
    assert reflector.peak == 3


def test_the_engine_alone_runs_proposals_one_after_another():
    import threading

    threads: set[int] = set()

    class RecordingReflector(ScriptedReflector):
        def complete(self, messages):
            threads.add(threading.get_ident())
            return super().complete(messages)

    engine, _ = make_engine(200, parallel_proposals=3)
    engine.mutation.reflector = RecordingReflector(learn_one_rule)
    engine.score_seed({"solve": "Solve it."})
    engine.step()
    assert threads == {threading.get_ident()}


def test_parallel_proposals_shrink_to_fit_the_remaining_budget():
    # K=4 worst case per iteration is 4 * (3 + 3 + 5) = 44: it fits after the seed (5),
    # but after the first iteration only fewer proposals do.
    engine, log = make_engine(60, respond=learn_one_rule, parallel_proposals=4)
    run(engine)
    assert engine.state.metric_calls <= 60
    assert engine.state.iteration >= 1
    sizes = Counter(e.iteration for e in log if isinstance(e, ev.IterationStarted))
    assert sizes[1] == 4  # the first iteration fits whole
    assert min(sizes.values()) < 4  # later ones shrink instead of stopping the run
    assert engine.stop_reason() == "max_metric_calls"
