"""What a display folds from events: `RunProgress`, the numbers of a run so far
(progress, the latest outcome, best-score history, the frontier's leaders, the last
proposed instruction), and the outcome line it is written as."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from gepa_cli.display.run_info import ResumePoint
from gepa_cli.display.summary_text import minibatch_score, one_line, short_id
from gepa_cli.engine import events as ev


@dataclass(frozen=True)
class Outcome:
    """What the latest iteration did: a proposal (accepted or not), a skip, or an addition."""

    iteration: int
    parent_id: str
    text: str  # e.g. "module solve: 1.0 -> 2.0 accepted (9b1c07.. val 0.733)"
    verdict: str  # accepted | rejected | skipped | added


@dataclass(frozen=True)
class Leader:
    """A frontier candidate as the live view lists it."""

    id: str
    val_score: float
    wins: int | None  # val examples it is (tied) best on; None until the run loop says


@dataclass(frozen=True)
class Proposed:
    """The instruction(s) the latest reflection proposed."""

    iteration: int
    prompts: Mapping[str, str]  # module -> new instruction
    accepted: bool


class RunProgress:
    """The numbers of a run so far, folded from events."""

    def __init__(self, max_metric_calls: int | None = None) -> None:
        self.max_metric_calls = max_metric_calls
        self.iteration = 0
        self.metric_calls = 0
        self.candidates = 0
        self.frontier_size = 0
        self.best_id: str | None = None
        self.best_val_score: float | None = None
        self.seed_val_score: float | None = None
        self.last: Outcome | None = None
        self.failed_examples = 0
        self.stopped_because: str | None = None
        self.val_scores: dict[str, float] = {}  # candidate -> mean val score
        self.frontier: tuple[str, ...] = ()
        self.wins: dict[str, int] = {}
        self.proposed: Proposed | None = None
        self.reflections: dict[str, float] = {}
        self._best_by_iteration: dict[int, float] = {}

    def resume_from(self, point: ResumePoint) -> None:
        self.iteration, self.metric_calls = point.iteration, point.metric_calls
        self.candidates, self.frontier_size = point.candidates, point.frontier_size
        self.best_id, self.best_val_score = point.best_id, point.best_val_score
        self.seed_val_score = point.seed_val_score
        self.frontier = tuple(m.id for m in point.frontier)
        self.val_scores.update({m.id: m.mean_val_score for m in point.frontier})
        self.wins = {m.id: m.wins for m in point.frontier}
        self.reflections = dict(point.reflections)
        self._record_best()

    def set_wins(self, wins: Mapping[str, int]) -> None:
        """The frontier's win counts, which the events do not carry (the run loop has them)."""
        self.wins = dict(wins)

    @property
    def best_history(self) -> list[float]:
        """The best val score at the end of each iteration so far (the seed's first)."""
        return list(self._best_by_iteration.values())

    def leaders(self, count: int = 3) -> list[Leader]:
        """The frontier's top `count` candidates by mean val score (pool order on ties)."""
        scored = [cid for cid in self.frontier if cid in self.val_scores]
        ranked = sorted(scored, key=lambda cid: -self.val_scores[cid])[:count]
        return [Leader(cid, self.val_scores[cid], self.wins.get(cid)) for cid in ranked]

    def _record_best(self) -> None:
        if self.best_val_score is not None:
            self._best_by_iteration[self.iteration] = self.best_val_score

    def update(self, event: ev.Event) -> None:
        calls = getattr(event, "metric_calls", None)
        if isinstance(calls, int):
            self.metric_calls = max(self.metric_calls, calls)
        self._fold(event)
        self._record_best()

    def _fold(self, event: ev.Event) -> None:
        if isinstance(event, ev.SeedEvaluated):
            self.candidates = max(self.candidates, 1)
            self.seed_val_score = event.val_score
            self.val_scores[event.candidate_id] = event.val_score
            self._offer_best(event.candidate_id, event.val_score)
        elif isinstance(event, ev.IterationStarted):
            self.iteration = event.iteration
        elif isinstance(event, ev.IterationSkipped):
            detail = f" ({one_line(event.detail)})" if event.detail else ""
            text = f"skipped: {event.reason}{detail}"
            self.last = Outcome(event.iteration, event.parent_id, text, "skipped")
        elif isinstance(event, ev.ProposalEvaluated):
            self.last = _proposal_outcome(event)
            self.proposed = Proposed(event.iteration, dict(event.new_prompts), event.accepted)
        elif isinstance(event, ev.MergeEvaluated):
            self.iteration = event.iteration
            self.last = _merge_outcome(event)
        elif isinstance(event, ev.CandidateAdded):
            self._added(event)
        elif isinstance(event, ev.PartialCandidateAdded):
            self._added_partial(event)
        elif isinstance(event, ev.FrontierChanged):
            self.frontier, self.frontier_size = tuple(event.frontier), len(event.frontier)
            self.best_id, self.best_val_score = event.best_id, event.best_val_score
        elif isinstance(event, ev.ExampleFailed):
            self.failed_examples += 1
        elif isinstance(event, ev.ReflectionAttempted):
            self._count_reflection(event)
        elif isinstance(event, ev.RunFinished):
            self.stopped_because = event.stopped_because
            self.best_id, self.best_val_score = event.best_id, event.best_val_score

    def _count_reflection(self, event: ev.ReflectionAttempted) -> None:
        counts = self.reflections
        counts["calls"] = counts.get("calls", 0) + 1
        counts[event.outcome] = counts.get(event.outcome, 0) + 1
        counts["retries"] = counts.get("retries", 0) + (1 if event.attempt > 0 else 0)
        if event.outcome != "new":
            counts["wasted_s"] = counts.get("wasted_s", 0.0) + event.seconds
        if event.request == "rules":
            counts["rules"] = counts.get("rules", 0) + 1
            counts["rules_new"] = counts.get("rules_new", 0) + (event.outcome == "new")

    def _offer_best(self, cid: str, score: float) -> None:
        if self.best_val_score is None or score > self.best_val_score:
            self.best_id, self.best_val_score = cid, score

    def _added(self, event: ev.CandidateAdded) -> None:
        self.candidates += 1
        self.val_scores[event.candidate_id] = event.val_score
        self._offer_best(event.candidate_id, event.val_score)
        val = f"{short_id(event.candidate_id)} val {event.val_score:.3f}"
        last = self.last
        if last is not None and last.verdict == "accepted" and last.iteration == event.iteration:
            self.last = replace(last, text=f"{last.text} ({val})")
        else:
            parents = "+".join(short_id(p) for p in event.parents) or "-"
            text = f"{event.origin} of {parents}: {val}"
            self.last = Outcome(
                event.iteration, event.parents[0] if event.parents else "", text, "added"
            )

    def _added_partial(self, event: ev.PartialCandidateAdded) -> None:
        """A child stopped early by staged validation: counted, never offered as best."""
        self.candidates += 1
        text = (
            f"{short_id(event.candidate_id)} stopped early: "
            f"val {event.val_score:.3f} on {event.scored}/{event.val_size}"
        )
        last = self.last
        if last is not None and last.verdict == "accepted" and last.iteration == event.iteration:
            self.last = replace(last, text=f"{last.text} ({text})")

    def status(self) -> str:
        """`best 0.733 (seed 0.400) | frontier 3 | calls 58/300`."""
        best = "-" if self.best_val_score is None else f"{self.best_val_score:.3f}"
        seed = "-" if self.seed_val_score is None else f"{self.seed_val_score:.3f}"
        return f"best {best} (seed {seed}) | frontier {self.frontier_size} | {self.calls_text()}"

    def calls_text(self) -> str:
        cap = "" if self.max_metric_calls is None else f"/{self.max_metric_calls}"
        return f"calls {self.metric_calls}{cap}"


def _proposal_outcome(event: ev.ProposalEvaluated) -> Outcome:
    verdict = "accepted" if event.accepted else "rejected"
    scores = f"{minibatch_score(event.parent_minibatch_score)} -> "
    scores += minibatch_score(event.child_minibatch_score)
    text = f"module {','.join(event.modules)}: {scores} {verdict}"
    return Outcome(event.iteration, event.parent_id, text, verdict)


def _merge_outcome(event: ev.MergeEvaluated) -> Outcome:
    verdict = "accepted" if event.accepted else "rejected"
    parents = "+".join(short_id(p) for p in event.parents)
    scores = f"{minibatch_score(max(event.parent_sums))} -> {minibatch_score(event.child_sum)}"
    text = f"merge of {parents} on {len(event.subsample)} val examples: {scores} {verdict}"
    return Outcome(event.iteration, "", text, verdict)


def outcome_line(outcome: Outcome) -> str:
    """`iter 7 parent 3f2a91.. module solve: 1.0 -> 2.0 accepted (9b1c07.. val 0.733)`."""
    parent = f" parent {short_id(outcome.parent_id)}" if outcome.parent_id else ""
    return f"iter {outcome.iteration}{parent} {outcome.text}"


def opens_pending_line(event: ev.Event) -> bool:
    """An accepted proposal or an added candidate: its line waits for the frontier update."""
    accepted = isinstance(event, ev.ProposalEvaluated | ev.MergeEvaluated) and event.accepted
    return accepted or isinstance(event, ev.CandidateAdded)
