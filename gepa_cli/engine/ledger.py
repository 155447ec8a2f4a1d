"""The engine's books: state, metric budget and event sink, and the few ways to change them.

Seed scoring, reflective mutation and merge all record their work here: they charge
metric calls, admit scored candidates, report skipped proposals and frontier changes.
Sharing this ledger (rather than the engine object) keeps `engine.py` and `mutation.py`
free of each other.
"""

from __future__ import annotations

from collections.abc import Sequence

from gepa_cli.engine import events as ev
from gepa_cli.engine.budget import MetricBudget
from gepa_cli.engine.pareto import per_example_fronts, prune_dominated
from gepa_cli.engine.state import Candidate, EngineState
from gepa_cli.engine.types import Example, Rollout


class Ledger:
    """The mutable run state plus its budget and event sink."""

    def __init__(
        self,
        state: EngineState,
        budget: MetricBudget,
        val: Sequence[Example],
        emit: ev.EventSink = ev.discard_event,
    ) -> None:
        self.state = state
        self.budget = budget
        self.val = list(val)
        self.emit = emit

    def charge(self, cid: str, examples: Sequence[Example], rollouts: Sequence[Rollout]) -> None:
        """Count the metric calls of fresh evaluations (each example's rollouts) and
        report failed examples."""
        self.state.metric_calls += self.budget.calls(len(examples))
        for rollout in rollouts:
            if rollout.error is not None:
                self.state.errors += 1
                self.emit(ev.ExampleFailed(cid, rollout.example_id, rollout.error))

    def add_scored(self, cand: Candidate, iteration: int, rollouts: Sequence[Rollout]) -> None:
        """Add a candidate with its (already charged) val rollouts; report it and the frontier."""
        before = self.frontier_ids()
        scores = {r.example_id: r.score for r in rollouts}
        self.state.add_candidate(cand, {ex.id: scores[ex.id] for ex in self.val})
        self.emit(
            ev.CandidateAdded(
                iteration, cand.id, cand.parents, cand.origin,
                self.state.mean_val_score(cand.id), self.state.metric_calls,
            )
        )  # fmt: skip
        if self.frontier_ids() != before:
            self.emit_frontier(iteration)

    def add_partial(self, cand: Candidate, iteration: int, rollouts: Sequence[Rollout]) -> None:
        """Keep a child that staged validation stopped early, with its (already charged)
        first-stage rollouts; the frontier cannot change."""
        scores = {r.example_id: r.score for r in rollouts}
        row = {ex.id: scores[ex.id] for ex in self.val if ex.id in scores}
        self.state.add_partial_candidate(cand, row)
        self.emit(
            ev.PartialCandidateAdded(
                iteration, cand.id, cand.parents, cand.origin,
                self.state.mean_val_score(cand.id), len(row), len(self.val),
                self.state.metric_calls,
            )
        )  # fmt: skip

    def skip(self, iteration: int, parent_id: str, reason: str, detail: str, index: int) -> None:
        """Report a proposal that ended without a new candidate."""
        self.emit(
            ev.IterationSkipped(
                iteration, parent_id, reason, detail, self.state.metric_calls, index
            )
        )

    def frontier_ids(self) -> tuple[str, ...]:
        """The non-dominated candidates of the per-example frontier, in pool order."""
        order = self.state.complete_ids()
        fronts = per_example_fronts(order, self.state.val_scores)
        means = {cid: self.state.mean_val_score(cid) for cid in order}
        return tuple(prune_dominated(fronts, order, means))

    def emit_frontier(self, iteration: int) -> None:
        """Report the current frontier and best candidate."""
        best = self.state.best_id()
        self.emit(
            ev.FrontierChanged(
                iteration, self.frontier_ids(), best, self.state.mean_val_score(best)
            )
        )
