"""The derived views of a run, computed from an `EngineState` without any I/O.

`rundir.RunDir.save_views` writes what these functions return: the lines of
`candidates.jsonl`, the text of `score_matrix.csv` and the content of
`frontier.json`. Keeping them pure lets the display and the tests use them too.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gepa_cli.engine.pareto import per_example_fronts, prune_dominated, win_counts
from gepa_cli.engine.state import Candidate, EngineState

_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_stem(name: str, fallback: str = "run") -> str:
    """`name` reduced to [A-Za-z0-9._-] (runs of other characters become one '-')."""
    cleaned = _UNSAFE_FILENAME_CHARS.sub("-", name).strip("-.")
    return cleaned or fallback


def candidate_record(state: EngineState, cand: Candidate) -> dict[str, Any]:
    """One line of `candidates.jsonl` (the contract's fields). A candidate that staged
    validation stopped early also has `partial: true` and `val_scored` (its scored val
    examples; `val_score` is their mean)."""
    record = {
        "id": cand.id,
        "parents": list(cand.parents),
        "origin": cand.origin,
        "iteration": cand.iteration,
        "prompts": dict(cand.prompts),
        "val_score": state.mean_val_score(cand.id),
        "metric_calls_at_discovery": cand.metric_calls_at_discovery,
    }
    if state.is_partial(cand.id):
        record.update(partial=True, val_scored=len(state.val_scores[cand.id]))
    return record


def score_matrix_csv(state: EngineState, val_ids: Sequence[str]) -> str:
    """The matrix S: a header `candidate,<val ids>`, then one row per candidate in pool order.

    A score the state does not hold is an empty cell.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["candidate", *val_ids])
    for cand in state.candidates:
        row = state.val_scores.get(cand.id, {})
        writer.writerow([cand.id, *(_cell(row.get(eid)) for eid in val_ids)])
    return buffer.getvalue()


def _cell(score: float | None) -> str:
    return "" if score is None else repr(float(score))


@dataclass(frozen=True)
class FrontierMember:
    """A non-dominated candidate: how many val examples it is (tied) best on, its mean."""

    id: str
    wins: int
    mean_val_score: float


def non_dominated(state: EngineState) -> list[FrontierMember]:
    """The candidates that survive Pareto pruning, in pool order (same rule as the engine:
    partial candidates never take part)."""
    order = state.complete_ids()
    fronts = per_example_fronts(order, state.val_scores)
    means = {cid: state.mean_val_score(cid) for cid in order}
    survivors = prune_dominated(fronts, order, means)
    wins = win_counts(fronts, survivors)
    return [FrontierMember(cid, wins[cid], means[cid]) for cid in survivors]


def frontier_data(state: EngineState, val_ids: Sequence[str]) -> dict[str, Any]:
    """The content of `frontier.json`; examples follow the order of `val_ids`."""
    order = state.complete_ids()
    fronts = {f.example_id: f for f in per_example_fronts(order, state.val_scores)}
    examples = [
        {
            "example_id": eid,
            "best_score": fronts[eid].best_score,
            "candidates": list(fronts[eid].candidate_ids),
        }
        for eid in val_ids
        if eid in fronts
    ]
    members = [
        {"id": m.id, "wins": m.wins, "mean_val_score": m.mean_val_score}
        for m in non_dominated(state)
    ]
    best = state.best_id() if state.candidates else None
    return {"examples": examples, "non_dominated": members, "best_candidate": best}
