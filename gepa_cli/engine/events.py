"""Typed events the engine emits; the run directory and the display consume them.

Every event is a frozen dataclass. `event_to_json` gives the line written to
`events.jsonl`: the fields plus an `event` key naming the type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SeedEvaluated:
    candidate_id: str
    val_score: float
    metric_calls: int


@dataclass(frozen=True)
class IterationStarted:
    iteration: int
    parent_id: str
    modules: tuple[str, ...]
    minibatch: tuple[str, ...]
    metric_calls: int
    proposal: int = 0


@dataclass(frozen=True)
class IterationSkipped:
    """The iteration ended without evaluating a child (all perfect, no change, known child, ...)."""

    iteration: int
    parent_id: str
    reason: str
    detail: str = ""
    metric_calls: int = 0
    proposal: int = 0


@dataclass(frozen=True)
class ProposalEvaluated:
    """A child was evaluated on the parent's minibatch and accepted or rejected."""

    iteration: int
    parent_id: str
    child_id: str
    modules: tuple[str, ...]
    new_prompts: dict[str, str]
    parent_minibatch_score: float
    child_minibatch_score: float
    accepted: bool
    metric_calls: int
    proposal: int = 0


@dataclass(frozen=True)
class ReflectionAttempted:
    """One reflection call and what it gave: `new`, `unchanged` or `unusable`.

    `attempt` 0 is the first request; later ones are retries with a changed request.
    `seconds` is the model's wall time for the call (0 when replayed from the cache).
    `request` is `rewrite` (a whole instruction was asked for) or `rules` (after a copy of
    the parent, only rules to splice into it).
    """

    iteration: int
    parent_id: str
    module: str
    outcome: str
    attempt: int
    seconds: float = 0.0
    proposal: int = 0
    request: str = "rewrite"


@dataclass(frozen=True)
class MergeEvaluated:
    """A merge of two frontier candidates was scored on a val subsample."""

    iteration: int
    parents: tuple[str, str]
    ancestor: str
    child_id: str
    subsample: tuple[str, ...]
    parent_sums: tuple[float, float]
    child_sum: float
    accepted: bool
    metric_calls: int


@dataclass(frozen=True)
class CandidateAdded:
    """A candidate joined the pool after being scored on all of val."""

    iteration: int
    candidate_id: str
    parents: tuple[str, ...]
    origin: str
    val_score: float
    metric_calls: int


@dataclass(frozen=True)
class ValidationStaged:
    """`val_policy: staged`: an accepted child was scored on a val subsample first.

    `reason` is `beats_parent` or `wins_example` when it goes on to the rest of val
    (`continued`), `stopped` when it is kept as a partial candidate.
    """

    iteration: int
    parent_id: str
    child_id: str
    subsample: tuple[str, ...]
    parent_sum: float
    child_sum: float
    continued: bool
    reason: str
    metric_calls: int
    proposal: int = 0


@dataclass(frozen=True)
class PartialCandidateAdded:
    """A child stopped early by staged validation joined the pool scored on `scored` of
    the `val_size` val examples; `val_score` is the mean over those (partial). It is never
    a parent, a frontier member, a merge parent or the best candidate."""

    iteration: int
    candidate_id: str
    parents: tuple[str, ...]
    origin: str
    val_score: float
    scored: int
    val_size: int
    metric_calls: int


@dataclass(frozen=True)
class FrontierChanged:
    iteration: int
    frontier: tuple[str, ...]
    best_id: str
    best_val_score: float


@dataclass(frozen=True)
class ExampleFailed:
    """One evaluation ended in an error and scored 0."""

    candidate_id: str
    example_id: str
    error: str


@dataclass(frozen=True)
class RunFinished:
    stopped_because: str
    best_id: str
    best_val_score: float
    metric_calls: int
    iterations: int
    extra: dict[str, Any] = field(default_factory=dict)


Event = (
    SeedEvaluated
    | IterationStarted
    | IterationSkipped
    | ProposalEvaluated
    | ReflectionAttempted
    | MergeEvaluated
    | CandidateAdded
    | ValidationStaged
    | PartialCandidateAdded
    | FrontierChanged
    | ExampleFailed
    | RunFinished
)
EventSink = Callable[[Event], None]


def event_to_json(event: Event) -> dict[str, Any]:
    """The JSON object for one event: its fields plus `event` = the type's name."""
    return {"event": type(event).__name__, **asdict(event)}


def discard_event(event: Event) -> None:
    """An event sink that drops everything."""
