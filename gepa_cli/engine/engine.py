"""The GEPA loop, one iteration at a time: seed scoring, then either a due merge or
reflective mutation (see `mutation.py`), with accepted children scored on all of val.

The engine is pure orchestration: evaluations go through an `Evaluator`,
reflections through an `LM`, and everything that happens is reported as events.
It owns the budget rule: an iteration starts only if its worst case fits.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from gepa_cli.engine import events as ev
from gepa_cli.engine.budget import MetricBudget
from gepa_cli.engine.concurrency import MapFn, serial_map
from gepa_cli.engine.ledger import Ledger
from gepa_cli.engine.merge import MergePlan, find_merge, stratified_subsample
from gepa_cli.engine.mutation import ReflectiveMutation
from gepa_cli.engine.scores import at_least
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.state import Candidate, EngineState, candidate_id
from gepa_cli.engine.types import Evaluator, Example, Prompts
from gepa_cli.lm.base import LM


class GepaEngine:
    """Runs GEPA iterations over an `EngineState` that the caller persists."""

    def __init__(
        self,
        settings: EngineSettings,
        modules: Sequence[str],
        train: Sequence[Example],
        val: Sequence[Example],
        evaluator: Evaluator,
        reflector: LM,
        emit: ev.EventSink = ev.discard_event,
        state: EngineState | None = None,
        map_fn: MapFn = serial_map,
    ) -> None:
        self.settings = settings
        self.modules = tuple(modules)
        self.val = list(val)
        self.evaluator = evaluator
        budget = MetricBudget(settings.max_metric_calls, settings.rollouts_per_example)
        self.ledger = Ledger(state or EngineState(), budget, self.val, emit)
        self.mutation = ReflectiveMutation(
            settings, self.ledger, self.modules, train, evaluator, reflector, map_fn,
            on_accept=self.schedule_merge,
        )  # fmt: skip

    @property
    def state(self) -> EngineState:
        return self.ledger.state

    @state.setter
    def state(self, state: EngineState) -> None:
        """Replace the whole state (e.g. rolled back to the last checkpoint)."""
        self.ledger.state = state

    @property
    def budget(self) -> MetricBudget:
        return self.ledger.budget

    def emit(self, event: ev.Event) -> None:
        self.ledger.emit(event)

    # --- seed ---------------------------------------------------------------------

    @property
    def seeded(self) -> bool:
        return bool(self.state.candidates)

    def score_seed(self, prompts: Prompts) -> None:
        """Score the seed candidate on all of val (once per run)."""
        if self.seeded:
            return
        if not self.budget.fits(0, self.budget.calls(len(self.val))):
            n = self.settings.rollouts_per_example
            raise ValueError(
                f"budget.max_metric_calls={self.settings.max_metric_calls} cannot even score "
                f"the seed on the {len(self.val)} val examples"
                + (f" x {n} rollouts" if n > 1 else "")
            )
        seed = Candidate(candidate_id(prompts), dict(prompts), (), "seed", 0, 0)
        rollouts = self.evaluator.evaluate(seed.prompts, self.val)
        self.ledger.charge(seed.id, self.val, rollouts)
        self.state.add_candidate(seed, {r.example_id: r.score for r in rollouts})
        self.state.module_pointer[seed.id] = 0
        self.emit(
            ev.SeedEvaluated(seed.id, self.state.mean_val_score(seed.id), self.state.metric_calls)
        )
        self.ledger.emit_frontier(0)

    # --- stopping -----------------------------------------------------------------

    def stop_reason(self) -> str | None:
        """Why the run must stop before the next iteration, or None to go on."""
        best = self.state.best_id()
        if self.state.mean_val_score(best) >= self.settings.perfect_score:
            return "perfect_val"
        if self.state.idle_iterations >= self.max_idle_iterations():
            return "stalled"
        if not self.next_iteration_fits():
            return "max_metric_calls"
        return None

    def max_idle_iterations(self) -> int:
        """Consecutive iterations without a new evaluation after which the search has stalled."""
        epoch = -(-len(self.mutation.train) // max(1, self.settings.minibatch_size))
        return max(10, 2 * epoch)

    def next_iteration_fits(self) -> bool:
        """True if the next iteration's worst case fits in the metric-call budget."""
        proposals = self.mutation.plan_within_budget(self.state.iteration + 1)
        bound = max(self.mutation.cost_bound(proposals), self.budget.calls(len(self.val)))
        return self.budget.fits(self.state.metric_calls, bound)

    # --- one iteration ------------------------------------------------------------

    def step(self) -> None:
        """Run one iteration (a merge when one is due and possible, else reflective
        mutation) and advance the iteration counter."""
        iteration = self.state.iteration + 1
        calls_before = self.state.metric_calls
        if not self._try_merge(iteration):
            self.mutation.run(self.mutation.plan_within_budget(iteration))
        self.state.iteration = iteration
        spent = self.state.metric_calls > calls_before
        self.state.idle_iterations = 0 if spent else self.state.idle_iterations + 1

    # --- merge --------------------------------------------------------------------

    def schedule_merge(self) -> None:
        """After an accepted mutation: one more merge attempt is due (if merging is on)."""
        s, state = self.settings, self.state
        remaining = s.merge_max_invocations - state.merges_accepted
        if s.merge_enabled and remaining > 0:
            state.merges_due = min(state.merges_due + 1, remaining)

    def _try_merge(self, iteration: int) -> bool:
        """Attempt a due merge; False when none is due or no untried merge exists."""
        s, state = self.settings, self.state
        if not s.merge_enabled or state.merges_due <= 0:
            return False
        if state.merges_accepted >= s.merge_max_invocations:
            state.merges_due = 0
            return False
        rng = random.Random(f"gepa-merge:{s.seed}:{iteration}")
        plan = find_merge(state, self.frontier_ids(), rng)
        if plan is None:
            state.merges_due = 0
            return False
        state.merges_due -= 1
        state.tried_merges.add(plan.key)
        self._evaluate_merge(iteration, plan, rng)
        return True

    def _evaluate_merge(self, iteration: int, plan: MergePlan, rng: random.Random) -> None:
        first, second = (self.state.val_scores[p] for p in plan.parents)
        subsample = stratified_subsample(first, second, self.settings.merge_subsample, rng)
        by_id = {ex.id: ex for ex in self.val}
        examples = [by_id[e] for e in subsample]
        rollouts = self.evaluator.evaluate(plan.prompts, examples)
        self.ledger.charge(plan.child_id, examples, rollouts)
        sums = (sum(first[e] for e in subsample), sum(second[e] for e in subsample))
        child_sum = sum(r.score for r in rollouts)
        accepted = at_least(child_sum, max(sums))
        self.emit(
            ev.MergeEvaluated(
                iteration, plan.parents, plan.ancestor, plan.child_id, tuple(subsample),
                sums, child_sum, accepted, self.state.metric_calls,
            )
        )  # fmt: skip
        if not accepted:
            return
        child = Candidate(
            plan.child_id, plan.prompts, plan.parents, "merge", iteration, self.state.metric_calls
        )
        pointers = [self.state.module_pointer.get(p, 0) for p in plan.parents]
        self.state.module_pointer[child.id] = max(pointers)
        self.state.merges_accepted += 1
        rest = [ex for ex in self.val if ex.id not in set(subsample)]
        rest_rollouts = self.evaluator.evaluate(child.prompts, rest)
        self.ledger.charge(child.id, rest, rest_rollouts)
        self.ledger.add_scored(child, iteration, rollouts + rest_rollouts)

    def frontier_ids(self) -> tuple[str, ...]:
        """The non-dominated candidates of the per-example frontier, in pool order."""
        return self.ledger.frontier_ids()
