"""Reads a run directory into plain, typed report data (no HTML here).

Every file is optional: a run that was interrupted has no summary.json, one that
crashed early may lack the score matrix. What is missing or unreadable becomes a
note in `ReportData.notes` instead of an exception. Values from the files are
coerced to the types below (a score that is not a finite number becomes None), so
the renderers never see raw JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gepa_cli.report.coerce import as_float, as_int, as_mapping, as_text
from gepa_cli.report.run_files import read_config, read_json, read_jsonl, read_matrix
from gepa_cli.report.values import (
    USAGE_COLUMNS,
    CandidateInfo,
    CurvePoint,
    EventCounts,
    Headline,
    ReportData,
    RoleUsage,
    SelectScores,
    TestScores,
)
from gepa_cli.rundir import directory as rd
from gepa_cli.rundir.directory import RunDirError

_RUN_FILES = (rd.CONFIG_FILE, rd.CHECKPOINT_FILE, rd.CANDIDATES_FILE, rd.EVENTS_FILE)


def _candidate(raw: Mapping[str, Any]) -> CandidateInfo | None:
    cid = as_text(raw.get("id"))
    if cid is None:
        return None
    parents = raw.get("parents")
    parents = parents if isinstance(parents, list) else []
    prompts = as_mapping(raw.get("prompts"))
    return CandidateInfo(
        id=cid,
        parents=tuple(p for p in parents if isinstance(p, str)),
        origin=as_text(raw.get("origin")) or "?",
        iteration=as_int(raw.get("iteration")),
        prompts={str(k): v for k, v in prompts.items() if isinstance(v, str)},
        val_score=as_float(raw.get("val_score")),
        metric_calls_at_discovery=as_int(raw.get("metric_calls_at_discovery")),
        partial=raw.get("partial") is True,
    )


# --- curves and counts from events -------------------------------------------------------


def score_curves(
    events: Sequence[Mapping[str, Any]], candidates: Sequence[CandidateInfo]
) -> tuple[tuple[CurvePoint, ...], tuple[CurvePoint, ...]]:
    """Best and mean-of-pool val score after each candidate joined the pool.

    From the SeedEvaluated/CandidateAdded events (metric calls after val scoring);
    without events, from candidates.jsonl (metric calls at discovery).
    """
    joins = [
        (as_float(e.get("metric_calls")), as_float(e.get("val_score")))
        for e in events
        if e.get("event") in ("SeedEvaluated", "CandidateAdded")
    ]
    if not joins:
        joins = [  # a partial candidate's val_score covers part of val: never in the pool
            (as_float(c.metric_calls_at_discovery), c.val_score)
            for c in candidates
            if not c.partial
        ]
    best: list[CurvePoint] = []
    mean: list[CurvePoint] = []
    pool: list[float] = []
    for calls, score in joins:
        if calls is None or score is None:
            continue
        pool.append(score)
        best.append(CurvePoint(calls, max(pool)))
        mean.append(CurvePoint(calls, sum(pool) / len(pool)))
    return tuple(best), tuple(mean)


def frontier_curve(events: Sequence[Mapping[str, Any]]) -> tuple[CurvePoint, ...]:
    """The frontier's size at each FrontierChanged, placed at the latest metric-call count."""
    points: list[CurvePoint] = []
    calls = 0.0
    for event in events:
        calls = as_float(event.get("metric_calls")) or calls
        frontier = event.get("frontier")
        if event.get("event") == "FrontierChanged" and isinstance(frontier, list):
            points.append(CurvePoint(calls, float(len(frontier))))
    return tuple(points)


def event_counts(events: Sequence[Mapping[str, Any]]) -> EventCounts:
    kinds = [e.get("event") for e in events]

    def accepted(kind: str) -> int:
        return sum(1 for e in events if e.get("event") == kind and e.get("accepted") is True)

    return EventCounts(
        proposals_accepted=accepted("ProposalEvaluated"),
        proposals_rejected=kinds.count("ProposalEvaluated") - accepted("ProposalEvaluated"),
        merges_accepted=accepted("MergeEvaluated"),
        merges_rejected=kinds.count("MergeEvaluated") - accepted("MergeEvaluated"),
        iterations_skipped=kinds.count("IterationSkipped"),
        examples_failed=kinds.count("ExampleFailed"),
        reflections=_reflection_counts(
            e for e in events if e.get("event") == "ReflectionAttempted"
        ),
    )


REFLECTION_EVENT = "ReflectionAttempted"


def _reflection_counts(attempts: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    counts: dict[str, float] = {"calls": 0, "new": 0, "unchanged": 0, "unusable": 0}
    counts.update(retries=0, wasted_s=0.0)
    for attempt in attempts:
        outcome = as_text(attempt.get("outcome")) or "unusable"
        counts["calls"] += 1
        counts[outcome] = counts.get(outcome, 0) + 1
        counts["retries"] += 1 if (as_int(attempt.get("attempt")) or 0) > 0 else 0
        if attempt.get("request") == "rules":
            counts["rules"] = counts.get("rules", 0) + 1
            counts["rules_new"] = counts.get("rules_new", 0) + (outcome == "new")
        if outcome != "new":
            counts["wasted_s"] += as_float(attempt.get("seconds")) or 0.0
    return counts


def _usage(raw: Mapping[str, Any]) -> tuple[RoleUsage, ...]:
    return tuple(
        RoleUsage(str(role), {col: as_int(as_mapping(row).get(col)) or 0 for col in USAGE_COLUMNS})
        for role, row in raw.items()
        if isinstance(row, dict)
    )


def _test_scores(raw: Any) -> TestScores | None:
    if not isinstance(raw, dict):
        return None
    return TestScores(
        as_float(raw.get("seed")), as_float(raw.get("best")), as_int(raw.get("n")),
        as_float(raw.get("best_by_val")),
    )  # fmt: skip


def _select_scores(raw: Any) -> SelectScores | None:
    if not isinstance(raw, dict):
        return None
    return SelectScores(
        as_text(raw.get("candidate")), as_float(raw.get("select_score")),
        as_float(raw.get("val_score")), as_text(raw.get("best_val_candidate")),
        as_float(raw.get("best_val_score")), as_float(raw.get("best_val_select_score")),
        as_float(raw.get("val_select_gap")), as_int(raw.get("n")),
    )  # fmt: skip


# --- the whole run -----------------------------------------------------------------------


def load_report_data(run_dir: Path) -> ReportData:
    """Everything the report shows, read from `run_dir`; raises RunDirError if it is no run."""
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: no such run directory")
    if not any((run_dir / name).is_file() for name in _RUN_FILES):
        raise RunDirError(f"{run_dir}: not a run directory (none of {', '.join(_RUN_FILES)})")
    notes: list[str] = []
    config = read_config(run_dir / rd.CONFIG_FILE, notes)
    summary = read_json(run_dir / rd.SUMMARY_FILE, notes)
    if summary is None:
        notes.append("summary.json is missing: the run was interrupted or is still running")
    frontier = read_json(run_dir / rd.FRONTIER_FILE, notes) or {}
    events = read_jsonl(run_dir / rd.EVENTS_FILE, notes)
    found = [_candidate(r) for r in read_jsonl(run_dir / rd.CANDIDATES_FILE, notes)]
    candidates = tuple(c for c in found if c is not None)
    best_curve, mean_curve = score_curves(events, candidates)
    return ReportData(
        run_dir=run_dir,
        name=as_text(config.get("name")) or run_dir.name,
        models=_models(config),
        summary_found=summary is not None,
        headline=_headline(summary or {}, frontier, candidates, events),
        usage=_usage(_run_usage(run_dir, summary, notes)),
        candidates=candidates,
        matrix=read_matrix(run_dir / rd.SCORE_MATRIX_FILE, notes),
        frontier_wins=_frontier_wins(frontier),
        best_curve=best_curve,
        mean_curve=mean_curve,
        frontier_curve=frontier_curve(events),
        events=event_counts(events),
        notes=tuple(notes),
    )


def _models(config: Mapping[str, Any]) -> dict[str, str]:
    models = as_mapping(config.get("models"))
    named = {role: as_text(as_mapping(spec).get("model")) for role, spec in models.items()}
    return {str(role): model for role, model in named.items() if model}


def _run_usage(
    run_dir: Path, summary: Mapping[str, Any] | None, notes: list[str]
) -> Mapping[str, Any]:
    """Token counters from summary.json, else from the last checkpoint."""
    if summary is not None:
        return as_mapping(summary.get("tokens"))
    checkpoint = read_json(run_dir / rd.CHECKPOINT_FILE, notes) or {}
    return as_mapping(checkpoint.get("usage"))


def _frontier_wins(frontier: Mapping[str, Any]) -> dict[str, int]:
    members = frontier.get("non_dominated")
    if not isinstance(members, list):
        return {}
    return {
        m["id"]: as_int(m.get("wins")) or 0
        for m in members
        if isinstance(m, dict) and isinstance(m.get("id"), str)
    }


def _headline(
    summary: Mapping[str, Any],
    frontier: Mapping[str, Any],
    candidates: Sequence[CandidateInfo],
    events: Sequence[Mapping[str, Any]],
) -> Headline:
    by_id = {c.id: c for c in candidates}
    complete = [c for c in candidates if not c.partial]
    ranked = sorted(complete, key=lambda c: math.inf if c.val_score is None else -c.val_score)
    seed = next((c.id for c in candidates if c.origin == "seed"), None)
    best_id = as_text(summary.get("best_candidate")) or as_text(frontier.get("best_candidate"))
    best_id = best_id or (ranked[0].id if ranked else None)
    seed_id = as_text(summary.get("seed_candidate")) or seed
    event_calls = [c for c in (as_int(e.get("metric_calls")) for e in events) if c is not None]
    calls = as_int(summary.get("metric_calls"))
    return Headline(
        stopped_because=as_text(summary.get("stopped_because")),
        best_id=best_id,
        seed_id=seed_id,
        best_val_score=_score_of(summary.get("best_val_score"), by_id.get(best_id or "")),
        seed_val_score=_score_of(summary.get("seed_val_score"), by_id.get(seed_id or "")),
        test=_test_scores(summary.get("test")),
        select=_select_scores(summary.get("select")),
        metric_calls=calls if calls is not None else max(event_calls, default=None),
        max_metric_calls=as_int(summary.get("max_metric_calls")),
        iterations=as_int(summary.get("iterations")),
        elapsed_s=as_float(summary.get("elapsed_s")),
        cost_usd=as_float(summary.get("cost_usd")),
        max_cost_usd=as_float(summary.get("max_cost_usd")),
        cost_by_role={
            str(role): as_float(cost)
            for role, cost in as_mapping(summary.get("cost_usd_by_role")).items()
        },
    )


def _score_of(value: Any, candidate: CandidateInfo | None) -> float | None:
    score = as_float(value)
    return score if score is not None or candidate is None else candidate.val_score
