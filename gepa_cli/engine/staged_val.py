"""Staged validation (`search.val_policy: staged`): the rules, as pure functions.

An accepted child is first scored on a stratified subsample of val (the first stage),
drawn from `(seed, iteration, proposal)` and stratified by the parent's val scores, so
examples the parent does worse on and ones it does well on are both in it. The child
goes on to the rest of val only if it can still matter:

- `beats_parent`: its subsample sum beats the parent's on the same examples, or
- `wins_example`: on some subsample example it scores higher than every candidate scored
  on all of val (it could join the per-example frontier).

Otherwise (`stopped`) it stays in the pool as a partial candidate with the first stage's
scores only. The orchestration (evaluations, charges, events) lives in `mutation.py`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from gepa_cli.engine import events as ev
from gepa_cli.engine.concurrency import MapFn
from gepa_cli.engine.ledger import Ledger
from gepa_cli.engine.pareto import per_example_fronts
from gepa_cli.engine.sampler import stratified_sample
from gepa_cli.engine.scores import improves
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.state import Candidate, EngineState
from gepa_cli.engine.types import Evaluator, Example, Rollout

VAL_POLICIES = ("full", "staged")
MIN_STAGE_SIZE = 4
"""The default first stage: a third of val (rounded up), at least this many examples."""


def stage_size(requested: int | None, val_size: int) -> int:
    """Val examples in the first stage (never more than val holds)."""
    if requested is not None and requested < 1:
        raise ValueError(f"search.val_stage_size must be at least 1, not {requested}")
    size = requested if requested is not None else max(MIN_STAGE_SIZE, -(-val_size // 3))
    return min(size, val_size)


def stage_subsample(
    parent_scores: Mapping[str, float], size: int, seed: int, iteration: int, proposal: int
) -> list[str]:
    """The first stage's val ids: stratified by whether the parent scores below its own
    mean there (where it fails) or not (where it passes); deterministic from the seed,
    the iteration and the proposal index."""
    mean = sum(parent_scores.values()) / len(parent_scores) if parent_scores else 0.0
    strata = {eid: 0 if score < mean else 1 for eid, score in parent_scores.items()}
    rng = random.Random(f"gepa-staged-val:{seed}:{iteration}:{proposal}")
    return stratified_sample(strata, size, rng)


def best_complete_scores(state: EngineState, example_ids: Sequence[str]) -> dict[str, float]:
    """The best score on each example among the candidates scored on all of val."""
    fronts = per_example_fronts(state.complete_ids(), state.val_scores)
    wanted = set(example_ids)
    return {f.example_id: f.best_score for f in fronts if f.example_id in wanted}


def stage_verdict(
    child: Mapping[str, float], parent: Mapping[str, float], best: Mapping[str, float]
) -> str:
    """`beats_parent`, `wins_example` or `stopped` for a child's first-stage scores."""
    parent_sum = sum(parent[eid] for eid in child)
    if improves(sum(child.values()), parent_sum):
        return "beats_parent"
    if any(eid in best and improves(score, best[eid]) for eid, score in child.items()):
        return "wins_example"
    return "stopped"


def staged_savings(state: EngineState, val_size: int) -> tuple[int, int]:
    """(candidates stopped early, val evaluations they did not need): per stopped child,
    |val| minus its scored cells."""
    stopped = [c.id for c in state.candidates if c.id in state.partial]
    saved = sum(val_size - len(state.val_scores[cid]) for cid in stopped)
    return len(stopped), saved


class StagedChild(Protocol):
    """What staged admission reads of an accepted proposal (`mutation.Proposal`)."""

    @property
    def iteration(self) -> int: ...
    @property
    def index(self) -> int: ...
    @property
    def parent(self) -> Candidate: ...
    @property
    def child_id(self) -> str: ...
    @property
    def child_prompts(self) -> dict[str, str]: ...


Proposal = TypeVar("Proposal", bound=StagedChild)


class StagedAdmission(Generic[Proposal]):
    """Scores a batch of accepted children the staged way and admits them to the pool.

    Both stages run through `map_fn` across proposals; charges, events and pool changes
    happen afterwards in proposal order, as in full validation.
    """

    def __init__(
        self,
        settings: EngineSettings,
        ledger: Ledger,
        evaluator: Evaluator,
        map_fn: MapFn,
        admit_child: Callable[[Proposal], Candidate],
        on_accept: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.evaluator = evaluator
        self.map = map_fn
        self.admit_child = admit_child
        self.on_accept = on_accept

    def admit(self, proposals: Sequence[Proposal]) -> None:
        """Score the first stage of every child, judge it, score the rest where it goes on,
        then admit each child (complete or partial) in proposal order."""
        e = self.ledger
        firsts = [self._subsample(p) for p in proposals]
        first_rollouts = self._evaluate(proposals, firsts)
        best = best_complete_scores(e.state, [ex.id for ex in e.val])
        rests = [
            self._first_stage(p, batch, rollouts, best)
            for p, batch, rollouts in zip(proposals, firsts, first_rollouts, strict=True)
        ]
        going = [i for i, rest in enumerate(rests) if rest]
        done = self._evaluate([proposals[i] for i in going], [rests[i] or [] for i in going])
        later = dict(zip(going, done, strict=True))
        for i, p in enumerate(proposals):
            self._commit(p, first_rollouts[i], rests[i], later.get(i, []))

    def _subsample(self, p: Proposal) -> list[Example]:
        e, s = self.ledger, self.settings
        size = stage_size(s.val_stage_size, len(e.val))
        parent = e.state.val_scores[p.parent.id]
        by_id = {ex.id: ex for ex in e.val}
        return [by_id[eid] for eid in stage_subsample(parent, size, s.seed, p.iteration, p.index)]

    def _commit(
        self,
        p: Proposal,
        first: list[Rollout],
        rest: list[Example] | None,
        rest_rollouts: list[Rollout],
    ) -> None:
        e = self.ledger
        child = self.admit_child(p)
        if rest is None:
            e.add_partial(child, p.iteration, first)
            return
        e.charge(p.child_id, rest, rest_rollouts)
        e.add_scored(child, p.iteration, [*first, *rest_rollouts])
        self.on_accept()

    def _evaluate(
        self, proposals: Sequence[Proposal], batches: Sequence[Sequence[Example]]
    ) -> list[list[Rollout]]:
        jobs = list(zip(proposals, batches, strict=True))
        return self.map(lambda job: self.evaluator.evaluate(job[0].child_prompts, job[1]), jobs)

    def _first_stage(
        self, p: Proposal, batch: list[Example], rollouts: list[Rollout], best: dict[str, float]
    ) -> list[Example] | None:
        """Charge and judge the first stage: the rest of val to score, or None (stopped)."""
        e = self.ledger
        e.charge(p.child_id, batch, rollouts)
        child = {r.example_id: r.score for r in rollouts}
        parent = e.state.val_scores[p.parent.id]
        reason = stage_verdict(child, parent, best)
        taken = {ex.id for ex in batch}
        rest = [ex for ex in e.val if ex.id not in taken]
        if reason == "stopped" and not rest:
            reason = "whole_val"  # the first stage was all of val: nothing left to save
        continued = reason != "stopped"
        e.emit(
            ev.ValidationStaged(
                p.iteration, p.parent.id, p.child_id, tuple(ex.id for ex in batch),
                sum(parent[eid] for eid in child), sum(child.values()), continued, reason,
                e.state.metric_calls, p.index,
            )
        )  # fmt: skip
        return rest if continued else None


def staged_summary(state: EngineState, settings: EngineSettings, val_size: int) -> dict[str, Any]:
    """The `staged_validation` block of summary.json ({} unless `val_policy` is staged):
    the first stage's size, the children stopped early and the metric calls saved versus
    scoring them on all of val."""
    if settings.val_policy != "staged":
        return {}
    stopped, saved = staged_savings(state, val_size)
    return {
        "staged_validation": {
            "stage_size": stage_size(settings.val_stage_size, val_size),
            "stopped_early": stopped,
            "metric_calls_saved": saved * settings.rollouts_per_example,
        }
    }
