"""Reflective mutation, K proposals at a time (`search.parallel_proposals`).

Each proposal selects its own parent and minibatch from `(seed, iteration, k)`;
the phases run concurrently across proposals (parent minibatches, reflections for
every module, child minibatches, val scoring of accepted children: all of val, or in
two stages with `val_policy: staged`, see `staged_val.py`), while every
state change and event happens afterwards in proposal order, so a run is
reproducible for a given seed and K. With K = 1 nothing runs in a thread.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gepa_cli.engine import events as ev
from gepa_cli.engine.budget import iteration_cost_bound
from gepa_cli.engine.concurrency import MapFn
from gepa_cli.engine.ledger import Ledger
from gepa_cli.engine.reflect_phase import ReflectionResult, reflect_module
from gepa_cli.engine.sampler import iteration_rng, minibatch
from gepa_cli.engine.scores import improves
from gepa_cli.engine.selection import select_modules, select_parent
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.staged_val import VAL_POLICIES, StagedAdmission
from gepa_cli.engine.state import Candidate, candidate_id
from gepa_cli.engine.types import Evaluator, Example, Rollout
from gepa_cli.lm.base import LM

_REDRAWS = 3


def pair_key(parent_id: str, batch: Sequence[Example]) -> str:
    """The key of a (parent, minibatch) pair in `EngineState.exhausted`."""
    return f"{parent_id}:{','.join(sorted(ex.id for ex in batch))}"


@dataclass
class Proposal:
    """One proposal of an iteration, filled in phase by phase."""

    iteration: int
    index: int
    parent: Candidate
    modules: tuple[str, ...]
    next_pointer: int
    batch: tuple[Example, ...]
    parent_rollouts: list[Rollout] = field(default_factory=list)
    new_texts: dict[str, str] = field(default_factory=dict)
    child_id: str = ""
    child_rollouts: list[Rollout] = field(default_factory=list)
    done: bool = False

    @property
    def child_prompts(self) -> dict[str, str]:
        return {**self.parent.prompts, **self.new_texts}


class ReflectiveMutation:
    """Plans and runs the reflective proposals of one iteration, recording in a `Ledger`."""

    def __init__(
        self,
        settings: EngineSettings,
        ledger: Ledger,
        modules: Sequence[str],
        train: Sequence[Example],
        evaluator: Evaluator,
        reflector: LM,
        map_fn: MapFn,
        on_accept: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.modules = tuple(modules)
        self.train = {ex.id: ex for ex in train}
        self.evaluator = evaluator
        self.reflector = reflector
        self.map = map_fn
        self.on_accept = on_accept
        if settings.val_policy not in VAL_POLICIES:
            raise ValueError(f"unknown val policy {settings.val_policy!r}; choose full or staged")
        self.staged = StagedAdmission(
            settings, ledger, evaluator, map_fn, self._admit_child, on_accept
        )

    def _skip(self, p: Proposal, reason: str, detail: str) -> None:
        self.ledger.skip(p.iteration, p.parent.id, reason, detail, p.index)

    def plan(self, iteration: int) -> list[Proposal]:
        """The iteration's proposals; pure given the state and the seed."""
        e, s = self.ledger, self.settings
        k_total = max(1, s.parallel_proposals)
        pointers = dict(e.state.module_pointer)
        train_ids = sorted(self.train)
        proposals = []
        for k in range(k_total):
            rng = (
                iteration_rng(s.seed, iteration)
                if k_total == 1
                else random.Random(f"gepa-iteration:{s.seed}:{iteration}:{k}")
            )
            ids = minibatch(train_ids, s.minibatch_size, s.seed, (iteration - 1) * k_total + k + 1)
            batch = tuple(self.train[i] for i in ids)
            parent = e.state.candidate(self._draw_parent(rng, batch))
            pointer = pointers.get(parent.id, 0)
            modules, nxt = select_modules(self.modules, s.module_selection, pointer)
            pointers[parent.id] = nxt
            proposals.append(Proposal(iteration, k, parent, modules, nxt, batch))
        return proposals

    def _draw_parent(self, rng: random.Random, batch: Sequence[Example]) -> str:
        """A parent by the selection strategy, redrawn while the (parent, minibatch) pair
        is exhausted; the best unexhausted candidate when redraws keep failing."""
        state, s = self.ledger.state, self.settings
        for _ in range(1 + _REDRAWS):
            cid = select_parent(state, s.candidate_selection, rng, s.epsilon)
            if pair_key(cid, batch) not in state.exhausted:
                return cid
        fresh = [cid for cid in state.complete_ids() if pair_key(cid, batch) not in state.exhausted]
        return max(fresh, key=state.mean_val_score) if fresh else cid

    def plan_within_budget(self, iteration: int) -> list[Proposal]:
        """The iteration's proposals, dropping the last ones while their worst case would
        not fit in the remaining metric-call budget (at least one is kept)."""
        proposals = self.plan(iteration)
        e = self.ledger
        while len(proposals) > 1 and not e.budget.fits(
            e.state.metric_calls, self.cost_bound(proposals)
        ):
            proposals.pop()
        return proposals

    def cost_bound(self, proposals: Sequence[Proposal]) -> int:
        """The most metric calls these proposals can spend."""
        missing = {(p.parent.id, ex.id) for p in proposals for ex in p.batch}
        missing -= {
            (cid, eid) for cid, rows in self.ledger.state.train_rollouts.items() for eid in rows
        }
        val, n = len(self.ledger.val), self.ledger.budget.rollouts_per_example
        return n * len(missing) + sum(
            iteration_cost_bound(0, len(p.batch), val, n) for p in proposals
        )

    def run(self, proposals: list[Proposal]) -> None:
        e = self.ledger
        for p in proposals:
            e.emit(
                ev.IterationStarted(
                    p.iteration, p.parent.id, p.modules, tuple(x.id for x in p.batch),
                    e.state.metric_calls, p.index,
                )
            )  # fmt: skip
        self._parent_phase(proposals)
        live = [p for p in proposals if not self._skip_perfect(p)]
        for p in live:  # the round robin moves on only when a reflection happens
            e.state.module_pointer[p.parent.id] = p.next_pointer
        self._reflect_phase(live)
        live = [p for p in live if not p.done and self._new_child(p)]
        self._child_phase(live)
        accepted = [p for p in live if self._decide(p)]
        self._admit_phase(accepted)

    # --- phases -------------------------------------------------------------------

    def _parent_phase(self, proposals: list[Proposal]) -> None:
        e = self.ledger
        wanted: dict[str, list[Example]] = {}
        for p in proposals:
            cache = e.state.train_rollouts.setdefault(p.parent.id, {})
            queue = wanted.setdefault(p.parent.id, [])
            queue.extend(x for x in p.batch if x.id not in cache and x not in queue)
        jobs = [(cid, batch) for cid, batch in wanted.items() if batch]
        prompts = {p.parent.id: p.parent.prompts for p in proposals}
        results = self.map(lambda job: self.evaluator.evaluate(prompts[job[0]], job[1]), jobs)
        for (cid, batch), rollouts in zip(jobs, results, strict=True):
            e.charge(cid, batch, rollouts)
            e.state.train_rollouts[cid].update({r.example_id: r for r in rollouts})
        for p in proposals:
            cache = e.state.train_rollouts[p.parent.id]
            p.parent_rollouts = [cache[x.id] for x in p.batch]

    def _skip_perfect(self, p: Proposal) -> bool:
        s = self.settings
        if s.skip_perfect and all(r.score >= s.perfect_score for r in p.parent_rollouts):
            self._skip(p, "all_perfect", "the parent is perfect on this minibatch")
            return True
        return False

    def _reflect_phase(self, proposals: list[Proposal]) -> None:
        jobs = [(p, m) for p in proposals for m in p.modules]

        state = self.ledger.state

        def reflect(job: tuple[Proposal, str]) -> ReflectionResult:
            p, module = job
            text = p.parent.prompts[module]

            def tried(new: str) -> bool:  # exact for one module; with several, a heuristic
                cid = candidate_id({**p.parent.prompts, module: new})
                return state.has(cid) or cid in state.tried_children

            rules_first = f"{p.parent.id}:{module}" in state.copy_prone
            return reflect_module(
                self.settings, self.reflector, module, text, p.parent_rollouts, tried, rules_first
            )

        for (p, module), result in zip(jobs, self.map(reflect, jobs), strict=True):
            self._record_attempts(p, module, result)
            if p.done:
                continue
            if result.error is not None:
                p.done = True
                self._skip(p, "reflection_failed", str(result.error))
            elif result.instruction is None:
                p.done = True
                self.ledger.state.exhausted.add(pair_key(p.parent.id, p.batch))
                last = result.attempts[-1].outcome if result.attempts else "unusable"
                reason = "unchanged" if last == "unchanged" else "reflection_empty"
                tries = len(result.attempts)
                self._skip(p, reason, f"no new instruction in {tries} reflection call(s)")
            else:
                p.new_texts[module] = result.instruction

    def _record_attempts(self, p: Proposal, module: str, result: ReflectionResult) -> None:
        first = result.attempts[0] if result.attempts else None
        if first is not None and first.request == "rewrite" and first.outcome == "unchanged":
            self.ledger.state.copy_prone.add(f"{p.parent.id}:{module}")
        for number, attempt in enumerate(result.attempts):
            self.ledger.state.count_reflection(attempt.outcome, number, attempt.request)
            self.ledger.emit(
                ev.ReflectionAttempted(
                    p.iteration, p.parent.id, module, attempt.outcome, number,
                    round(attempt.seconds, 3), p.index, attempt.request,
                )
            )  # fmt: skip

    def _new_child(self, p: Proposal) -> bool:
        e = self.ledger
        p.child_id = candidate_id(p.child_prompts)
        if p.child_id == p.parent.id:
            self._skip(p, "unchanged", "the reflection returned the same instruction")
            return False
        if e.state.has(p.child_id) or p.child_id in e.state.tried_children:
            self._skip(p, "known", f"candidate {p.child_id} was already proposed")
            return False
        e.state.tried_children.add(p.child_id)
        for module in p.new_texts:  # a child of a copied instruction is one too
            if f"{p.parent.id}:{module}" in e.state.copy_prone:
                e.state.copy_prone.add(f"{p.child_id}:{module}")
        return True

    def _child_phase(self, proposals: list[Proposal]) -> None:
        e = self.ledger
        results = self.map(lambda p: self.evaluator.evaluate(p.child_prompts, p.batch), proposals)
        for p, rollouts in zip(proposals, results, strict=True):
            e.charge(p.child_id, p.batch, rollouts)
            p.child_rollouts = rollouts

    def _decide(self, p: Proposal) -> bool:
        e = self.ledger
        parent_sum = sum(r.score for r in p.parent_rollouts)
        child_sum = sum(r.score for r in p.child_rollouts)
        accepted = improves(child_sum, parent_sum)
        e.emit(
            ev.ProposalEvaluated(
                p.iteration, p.parent.id, p.child_id, p.modules, dict(p.new_texts),
                parent_sum, child_sum, accepted, e.state.metric_calls, p.index,
            )
        )  # fmt: skip
        return accepted

    def _admit_phase(self, proposals: list[Proposal]) -> None:
        if self.settings.val_policy == "staged":
            self.staged.admit(proposals)
            return
        e = self.ledger
        results = self.map(lambda p: self.evaluator.evaluate(p.child_prompts, e.val), proposals)
        for p, rollouts in zip(proposals, results, strict=True):
            child = self._admit_child(p)
            e.charge(p.child_id, e.val, rollouts)
            e.add_scored(child, p.iteration, rollouts)
            self.on_accept()

    def _admit_child(self, p: Proposal) -> Candidate:
        """The accepted child as a candidate, its minibatch rollouts and pointer recorded."""
        e = self.ledger
        child = Candidate(
            p.child_id, p.child_prompts, (p.parent.id,), "mutation", p.iteration,
            e.state.metric_calls,
        )  # fmt: skip
        e.state.train_rollouts[p.child_id] = {r.example_id: r for r in p.child_rollouts}
        e.state.module_pointer[p.child_id] = p.next_pointer
        return child
