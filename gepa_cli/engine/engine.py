"""The GEPA loop, one iteration at a time: seed scoring, then reflective mutation
(select parent and module, run the parent on a minibatch, reflect, test the
child on the same minibatch, score accepted children on all of val).

The engine is pure orchestration: evaluations go through an `Evaluator`,
reflections through an `LM`, and everything that happens is reported as events.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from gepa_cli.engine import events as ev
from gepa_cli.engine.budget import MetricBudget, iteration_cost_bound
from gepa_cli.engine.merge import MergePlan, find_merge, stratified_subsample
from gepa_cli.engine.pareto import per_example_fronts, prune_dominated
from gepa_cli.engine.reflection import build_reflection_messages, extract_instruction
from gepa_cli.engine.sampler import iteration_rng, minibatch
from gepa_cli.engine.selection import select_modules, select_parent
from gepa_cli.engine.state import Candidate, EngineState, candidate_id
from gepa_cli.engine.types import Evaluator, Example, Prompts, Rollout
from gepa_cli.lm.base import LM, LMError


@dataclass(frozen=True)
class EngineSettings:
    """The search settings the engine needs (a projection of the experiment config)."""

    seed: int = 0
    minibatch_size: int = 3
    candidate_selection: str = "pareto"
    epsilon: float = 0.1
    module_selection: str = "round_robin"
    skip_perfect: bool = True
    perfect_score: float = 1.0
    max_metric_calls: int | None = None
    reflection_template: str | None = None
    merge_enabled: bool = False
    merge_max_invocations: int = 5
    merge_subsample: int = 5


@dataclass(frozen=True)
class IterationPlan:
    iteration: int
    parent: Candidate
    modules: tuple[str, ...]
    next_pointer: int
    batch: tuple[Example, ...]


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
    ) -> None:
        self.settings = settings
        self.modules = tuple(modules)
        self.train = {ex.id: ex for ex in train}
        self.val = list(val)
        self.evaluator = evaluator
        self.reflector = reflector
        self.emit = emit
        self.state = state or EngineState()
        self.budget = MetricBudget(settings.max_metric_calls)

    # --- seed ---------------------------------------------------------------------

    @property
    def seeded(self) -> bool:
        return bool(self.state.candidates)

    def score_seed(self, prompts: Prompts) -> None:
        """Score the seed candidate on all of val (once per run)."""
        if self.seeded:
            return
        if not self.budget.fits(0, len(self.val)):
            raise ValueError(
                f"budget.max_metric_calls={self.settings.max_metric_calls} cannot even score "
                f"the seed on the {len(self.val)} val examples"
            )
        seed = Candidate(candidate_id(prompts), dict(prompts), (), "seed", 0, 0)
        scores = self._score_on_val(seed, {})
        self.state.add_candidate(seed, scores)
        self.state.module_pointer[seed.id] = 0
        self.emit(
            ev.SeedEvaluated(seed.id, self.state.mean_val_score(seed.id), self.state.metric_calls)
        )
        self._emit_frontier(0)

    # --- stopping -----------------------------------------------------------------

    def plan_next(self) -> IterationPlan:
        """What the next iteration will do; pure given the state and the seed."""
        it = self.state.iteration + 1
        rng = iteration_rng(self.settings.seed, it)
        s = self.settings
        parent = self.state.candidate(
            select_parent(self.state, s.candidate_selection, rng, s.epsilon)
        )
        pointer = self.state.module_pointer.get(parent.id, 0)
        modules, next_pointer = select_modules(self.modules, s.module_selection, pointer)
        ids = minibatch(sorted(self.train), s.minibatch_size, s.seed, it)
        return IterationPlan(it, parent, modules, next_pointer, tuple(self.train[i] for i in ids))

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
        epoch = -(-len(self.train) // max(1, self.settings.minibatch_size))
        return max(10, 2 * epoch)

    def next_iteration_fits(self) -> bool:
        """True if the next iteration's worst case fits in the metric-call budget."""
        plan = self.plan_next()
        cached = self.state.train_rollouts.get(plan.parent.id, {})
        uncached = sum(1 for ex in plan.batch if ex.id not in cached)
        bound = iteration_cost_bound(uncached, len(plan.batch), len(self.val))
        return self.budget.fits(self.state.metric_calls, bound)

    # --- one iteration ------------------------------------------------------------

    def step(self) -> None:
        """Run one iteration (a merge when one is due and possible, else a reflective
        mutation) and advance the iteration counter."""
        iteration = self.state.iteration + 1
        calls_before = self.state.metric_calls
        if not self._try_merge(iteration):
            self._mutate(self.plan_next())
        self.state.iteration = iteration
        spent = self.state.metric_calls > calls_before
        self.state.idle_iterations = 0 if spent else self.state.idle_iterations + 1

    def _mutate(self, plan: IterationPlan) -> None:
        self.state.module_pointer[plan.parent.id] = plan.next_pointer
        self.emit(
            ev.IterationStarted(
                plan.iteration,
                plan.parent.id,
                plan.modules,
                tuple(ex.id for ex in plan.batch),
                self.state.metric_calls,
            )
        )
        parent_rollouts = self._parent_rollouts(plan.parent, plan.batch)
        s = self.settings
        if s.skip_perfect and all(r.score >= s.perfect_score for r in parent_rollouts):
            self._skip(plan, "all_perfect", "the parent is perfect on this minibatch")
            return
        new_texts = self._reflect(plan, parent_rollouts)
        if new_texts is None:
            return
        child_prompts = {**plan.parent.prompts, **new_texts}
        child_id = candidate_id(child_prompts)
        if child_id == plan.parent.id:
            self._skip(plan, "unchanged", "the reflection returned the same instruction")
            return
        if self.state.has(child_id) or child_id in self.state.tried_children:
            self._skip(plan, "known", f"candidate {child_id} was already proposed")
            return
        self.state.tried_children.add(child_id)
        child_rollouts = self._evaluate(child_id, list(plan.batch), child_prompts)
        self._decide(plan, child_id, child_prompts, new_texts, parent_rollouts, child_rollouts)

    def _decide(
        self,
        plan: IterationPlan,
        child_id: str,
        child_prompts: dict[str, str],
        new_texts: dict[str, str],
        parent_rollouts: list[Rollout],
        child_rollouts: list[Rollout],
    ) -> None:
        parent_sum = sum(r.score for r in parent_rollouts)
        child_sum = sum(r.score for r in child_rollouts)
        accepted = child_sum > parent_sum
        self.emit(
            ev.ProposalEvaluated(
                plan.iteration, plan.parent.id, child_id, plan.modules, new_texts,
                parent_sum, child_sum, accepted, self.state.metric_calls,
            )
        )  # fmt: skip
        if not accepted:
            return
        child = Candidate(
            child_id, child_prompts, (plan.parent.id,), "mutation", plan.iteration,
            self.state.metric_calls,
        )  # fmt: skip
        self.state.train_rollouts[child_id] = {r.example_id: r for r in child_rollouts}
        self.state.module_pointer[child_id] = plan.next_pointer
        self._admit(child, plan.iteration)
        s = self.settings
        if s.merge_enabled and self.state.merges_accepted < s.merge_max_invocations:
            self.state.merges_due += 1

    # --- merge --------------------------------------------------------------------

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
        rollouts = self._evaluate(plan.child_id, [by_id[e] for e in subsample], plan.prompts)
        known = {r.example_id: r.score for r in rollouts}
        sums = (sum(first[e] for e in subsample), sum(second[e] for e in subsample))
        child_sum = sum(known.values())
        accepted = child_sum >= max(sums)
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
        self._admit(child, iteration, known)

    def _admit(
        self, cand: Candidate, iteration: int, known: dict[str, float] | None = None
    ) -> None:
        """Score an accepted candidate on all of val (minus `known` scores) and add it."""
        before = self.frontier_ids()
        scores = self._score_on_val(cand, known or {})
        self.state.add_candidate(cand, scores)
        self.emit(
            ev.CandidateAdded(
                iteration, cand.id, cand.parents, cand.origin,
                self.state.mean_val_score(cand.id), self.state.metric_calls,
            )
        )  # fmt: skip
        if self.frontier_ids() != before:
            self._emit_frontier(iteration)

    # --- helpers ------------------------------------------------------------------

    def _reflect(self, plan: IterationPlan, rollouts: list[Rollout]) -> dict[str, str] | None:
        new_texts: dict[str, str] = {}
        for module in plan.modules:
            messages = build_reflection_messages(
                module, plan.parent.prompts[module], rollouts, self.settings.reflection_template
            )
            try:
                reply = self.reflector.complete(messages).text
            except LMError as exc:
                self._skip(plan, "reflection_failed", str(exc))
                return None
            text = extract_instruction(reply)
            if text is None:
                self._skip(plan, "reflection_empty", "the reflection reply held no instruction")
                return None
            new_texts[module] = text
        return new_texts

    def _parent_rollouts(self, parent: Candidate, batch: Sequence[Example]) -> list[Rollout]:
        cache = self.state.train_rollouts.setdefault(parent.id, {})
        missing = [ex for ex in batch if ex.id not in cache]
        if missing:
            for rollout in self._evaluate(parent.id, missing, parent.prompts):
                cache[rollout.example_id] = rollout
        return [cache[ex.id] for ex in batch]

    def _evaluate(self, cid: str, examples: list[Example], prompts: Prompts) -> list[Rollout]:
        rollouts = self.evaluator.evaluate(prompts, examples)
        self.state.metric_calls += len(examples)
        for rollout in rollouts:
            if rollout.error is not None:
                self.state.errors += 1
                self.emit(ev.ExampleFailed(cid, rollout.example_id, rollout.error))
        return rollouts

    def _score_on_val(self, cand: Candidate, known: dict[str, float]) -> dict[str, float]:
        missing = [ex for ex in self.val if ex.id not in known]
        rollouts = self._evaluate(cand.id, missing, cand.prompts)
        scores = {**known, **{r.example_id: r.score for r in rollouts}}
        return {ex.id: scores[ex.id] for ex in self.val}

    def _skip(self, plan: IterationPlan, reason: str, detail: str) -> None:
        self.emit(
            ev.IterationSkipped(
                plan.iteration, plan.parent.id, reason, detail, self.state.metric_calls
            )
        )

    def frontier_ids(self) -> tuple[str, ...]:
        """The non-dominated candidates of the per-example frontier, in pool order."""
        order = [c.id for c in self.state.candidates]
        fronts = per_example_fronts(order, self.state.val_scores)
        means = {cid: self.state.mean_val_score(cid) for cid in order}
        return tuple(prune_dominated(fronts, order, means))

    def _emit_frontier(self, iteration: int) -> None:
        best = self.state.best_id()
        self.emit(
            ev.FrontierChanged(
                iteration, self.frontier_ids(), best, self.state.mean_val_score(best)
            )
        )
