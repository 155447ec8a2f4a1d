"""What a display is told and what it folds from events: `RunInfo` at the start,
`RunFacts` from the run loop, and `RunProgress`, the numbers folded from engine
events (progress so far, the latest outcome, best-score history, the frontier's
leaders, the last proposed instruction), plus the closing summary rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gepa_cli.engine import events as ev
from gepa_cli.engine.state import EngineState
from gepa_cli.rundir.views import FrontierMember, non_dominated


@dataclass(frozen=True)
class ResumePoint:
    """Where a resumed run starts: the numbers the display shows before any new event."""

    iteration: int
    metric_calls: int
    candidates: int
    frontier_size: int
    best_id: str
    best_val_score: float
    seed_val_score: float
    frontier: tuple[FrontierMember, ...] = ()
    reflections: Mapping[str, float] = field(default_factory=dict)

    @staticmethod
    def from_state(state: EngineState) -> ResumePoint:
        best = state.best_id()
        frontier = tuple(non_dominated(state))
        return ResumePoint(
            state.iteration, state.metric_calls, len(state.candidates),
            len(frontier), best, state.mean_val_score(best),
            state.mean_val_score(state.seed_id()), frontier, dict(state.reflections),
        )  # fmt: skip


Stats = Callable[[], Mapping[str, int]]
"""Live LM counters: {"lm_calls": int, "tokens": int, "errors": int}."""


@dataclass(frozen=True)
class RunInfo:
    """What a display says at the start: where results go and which model runs where.

    An endpoint is e.g. "embedded llama.cpp at http://127.0.0.1:PORT/v1" or
    "openai-compatible at URL"; leave it empty if the model text already says it.
    """

    run_dir: Path | str
    name: str  # the config's `name`
    task_model: str
    reflection_model: str
    max_metric_calls: int | None
    train_size: int
    val_size: int
    task_endpoint: str = ""
    reflection_endpoint: str = ""
    resume: ResumePoint | None = None

    def model_line(self, role: str) -> str:
        """`<model> (<endpoint>)` for role "task" or "reflection"."""
        model, where = (
            (self.task_model, self.task_endpoint)
            if role == "task"
            else (self.reflection_model, self.reflection_endpoint)
        )
        return f"{model} ({where})" if where else model


@dataclass(frozen=True)
class RunFacts:
    """What the run loop knows beyond the events, sent after each event."""

    cost_usd: float | None  # dollars so far; None when no model has a price
    max_cost_usd: float | None
    frontier_wins: Mapping[str, int] | None = None  # after a FrontierChanged; None: unchanged

    def cost_text(self) -> str | None:
        """`$0.0123` or `$0.0123 of $1.00`; None when the cost is not tracked."""
        if self.cost_usd is None:
            return None
        cap = "" if self.max_cost_usd is None else f" of ${self.max_cost_usd:.2f}"
        return f"${self.cost_usd:.4f}{cap}"


def short_id(cid: str) -> str:
    return f"{cid[:6]}.."


def minibatch_score(value: float) -> str:
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


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


def reflections_text(counts: Mapping[str, Any]) -> str | None:
    """`12 calls: 9 new, 2 unchanged, 1 unusable (3 retries); 41 s on fruitless replies`."""
    calls = int(counts.get("calls", 0) or 0)
    if calls <= 0:
        return None
    parts = ", ".join(f"{int(counts.get(k, 0) or 0)} {k}" for k in ("new", "unchanged", "unusable"))
    wasted = float(counts.get("wasted_s", 0.0) or 0.0)
    retries = int(counts.get("retries", 0) or 0)
    return f"{calls} calls: {parts} ({retries} retries); {wasted:.0f} s on fruitless replies"


def staged_text(staged: Mapping[str, Any]) -> str:
    """`3 children stopped early, 24 metric calls saved`."""
    stopped, saved = staged.get("stopped_early", 0), staged.get("metric_calls_saved", 0)
    children = "child" if stopped == 1 else "children"
    return f"{stopped} {children} stopped early, {saved:,} metric calls saved"


def outcome_line(outcome: Outcome) -> str:
    """`iter 7 parent 3f2a91.. module solve: 1.0 -> 2.0 accepted (9b1c07.. val 0.733)`."""
    parent = f" parent {short_id(outcome.parent_id)}" if outcome.parent_id else ""
    return f"iter {outcome.iteration}{parent} {outcome.text}"


def no_stats() -> Mapping[str, int]:
    return {}


def stats_text(stats: Mapping[str, int]) -> str:
    return (
        f"{stats.get('lm_calls', 0):,} LM calls, {stats.get('tokens', 0):,} tokens, "
        f"{stats.get('errors', 0)} LM errors"
    )


def summary_rows(summary: Mapping[str, Any], stats: Mapping[str, int]) -> list[tuple[str, str]]:
    """The result as (label, value) pairs; keys absent from `summary` are left out.

    The live LM counters fill in when the summary has no `lm_calls`; LM errors show if any.
    """
    rows: list[tuple[str, str]] = []
    best, seed = summary.get("best_val_score"), summary.get("seed_val_score")
    if summary.get("best_candidate"):
        rows.append(("best candidate", str(summary["best_candidate"])))
    if isinstance(best, int | float):
        seed_text = f" (seed {seed:.3f})" if isinstance(seed, int | float) else ""
        rows.append(("best val score", f"{best:.3f}{seed_text}"))
    test = summary.get("test")
    if isinstance(test, Mapping) and "best" in test:
        rows.append(("test", f"{test['seed']:.3f} -> {test['best']:.3f} (n={test.get('n')})"))
    select = summary.get("select")
    if isinstance(select, Mapping) and isinstance(select.get("val_select_gap"), int | float):
        rows.append(
            (
                "final (on select)",
                f"{select.get('candidate')} select {select.get('select_score', 0):.3f}, "
                f"val-vs-select gap {select['val_select_gap']:+.3f}",
            )
        )
    for key in ("candidates", "iterations", "metric_calls", "lm_calls", "tokens"):
        if isinstance(summary.get(key), int):
            rows.append((key.replace("_", " "), f"{summary[key]:,}"))
    if isinstance(summary.get("cost_usd"), int | float):
        rows.append(("cost", f"${summary['cost_usd']:.4f}"))
    if "lm_calls" not in summary and stats:
        rows.append(("LM usage", stats_text(stats)))
    elif stats.get("errors"):
        rows.append(("LM errors", str(stats["errors"])))
    reflections = summary.get("reflections")
    if isinstance(reflections, Mapping) and (text := reflections_text(reflections)):
        rows.append(("reflections", text))
    staged = summary.get("staged_validation")
    if isinstance(staged, Mapping):
        rows.append(("staged validation", staged_text(staged)))
    if summary.get("stopped_because"):
        unspent = summary.get("unspent_metric_calls")
        left = (
            f" ({unspent:,} metric calls unspent)" if isinstance(unspent, int) and unspent else ""
        )
        rows.append(("stopped because", f"{summary['stopped_because']}{left}"))
    return rows


def opens_pending_line(event: ev.Event) -> bool:
    """An accepted proposal or an added candidate: its line waits for the frontier update."""
    accepted = isinstance(event, ev.ProposalEvaluated | ev.MergeEvaluated) and event.accepted
    return accepted or isinstance(event, ev.CandidateAdded)
