"""The report's typed values: what the renderers receive, read from a run directory by
`report/data.py`. Frozen dataclasses only; no file access here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

USAGE_COLUMNS = ("calls", "cached_calls", "input_tokens", "output_tokens", "errors", "retries")


@dataclass(frozen=True)
class CandidateInfo:
    """One line of candidates.jsonl."""

    id: str
    parents: tuple[str, ...]
    origin: str
    iteration: int | None
    prompts: Mapping[str, str]
    val_score: float | None
    metric_calls_at_discovery: int | None
    partial: bool = False  # stopped early by staged validation: val_score covers part of val


@dataclass(frozen=True)
class ScoreMatrix:
    """score_matrix.csv: one row of cells per candidate, None where no score is held."""

    example_ids: tuple[str, ...]
    candidate_ids: tuple[str, ...]
    cells: tuple[tuple[float | None, ...], ...]


@dataclass(frozen=True)
class CurvePoint:
    """A value that holds from `metric_calls` on (until the next point)."""

    metric_calls: float
    value: float


@dataclass(frozen=True)
class RoleUsage:
    role: str
    counts: Mapping[str, int]  # USAGE_COLUMNS -> count


@dataclass(frozen=True)
class TestScores:
    seed: float | None
    best: float | None  # the final candidate's (chosen on select when there is a select split)
    n: int | None
    best_by_val: float | None = None  # the best on val, when select chose another one


@dataclass(frozen=True)
class SelectScores:
    """summary.json's `select`: the final choice on the select split against the best on val."""

    final_id: str | None
    select_score: float | None
    val_score: float | None
    best_val_id: str | None
    best_val_score: float | None
    best_val_select_score: float | None
    gap: float | None  # best val mean minus the final candidate's select mean
    n: int | None


@dataclass(frozen=True)
class EventCounts:
    """What events.jsonl says about the search beyond the pool itself."""

    proposals_accepted: int = 0
    proposals_rejected: int = 0
    merges_accepted: int = 0
    merges_rejected: int = 0
    iterations_skipped: int = 0
    examples_failed: int = 0
    reflections: Mapping[str, float] = field(default_factory=dict)
    """calls, new, unchanged, unusable, retries, wasted_s (from ReflectionAttempted events)."""


@dataclass(frozen=True)
class Headline:
    """The header's facts: from summary.json, falling back to the other files."""

    stopped_because: str | None = None
    best_id: str | None = None
    seed_id: str | None = None
    best_val_score: float | None = None
    seed_val_score: float | None = None
    test: TestScores | None = None
    select: SelectScores | None = None
    metric_calls: int | None = None
    max_metric_calls: int | None = None
    iterations: int | None = None
    elapsed_s: float | None = None
    cost_usd: float | None = None
    max_cost_usd: float | None = None
    cost_by_role: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportData:
    run_dir: Path
    name: str
    models: Mapping[str, str]  # role -> model id, from config.yaml
    summary_found: bool
    headline: Headline
    usage: tuple[RoleUsage, ...]
    candidates: tuple[CandidateInfo, ...]
    matrix: ScoreMatrix | None
    frontier_wins: Mapping[str, int]  # non-dominated candidate -> examples it is best on
    best_curve: tuple[CurvePoint, ...]
    mean_curve: tuple[CurvePoint, ...]
    frontier_curve: tuple[CurvePoint, ...]
    events: EventCounts
    notes: tuple[str, ...] = ()
