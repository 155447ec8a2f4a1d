"""The numbers of one finished `bench.quality` run, read back from its run directory
(`summary.json`, `candidates.jsonl`, `events.jsonl`) or, for the reference library, from
the `result.json` that `bench.quality_reference` writes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INTERRUPTED = ("sigint", "sigterm", "outage")
"""How a run stops when it is not finished (it resumes from its checkpoint)."""


@dataclass(frozen=True)
class RunResult:
    """The numbers of one finished run."""

    task: str
    cell: str
    seed: int
    test_seed: float | None
    test_best: float | None
    val_seed: float
    val_best: float
    calls_to_best: int
    metric_calls: int
    max_metric_calls: int | None
    reflections: dict[str, float]
    stopped_because: str
    unspent: int | None
    minutes: float
    val_select_gap: float | None = None
    """Best val mean minus the final candidate's select mean (runs with a select split)."""
    calls_saved: int | None = None
    """Metric calls staged validation did not spend on children it stopped early."""

    @staticmethod
    def load(task: str, cell: str, seed: int, run_dir: Path) -> RunResult | None:
        try:
            summary = json.loads((run_dir / "summary.json").read_text())
            lines = (run_dir / "candidates.jsonl").read_text().splitlines()
        except (OSError, ValueError):
            return None
        if summary.get("stopped_because") in INTERRUPTED:
            return None  # unfinished: `bench.quality` resumes it
        records = {r["id"]: r for r in map(json.loads, filter(None, lines))}
        best = records.get(summary.get("best_candidate") or "", {})
        test = summary.get("test") or {}
        return RunResult(
            task,
            cell,
            seed,
            test.get("seed"),
            test.get("best"),
            float(summary.get("seed_val_score") or 0.0),
            float(summary.get("best_val_score") or 0.0),
            _calls_when_scored(run_dir, best),
            int(summary.get("metric_calls", 0)),
            summary.get("max_metric_calls"),
            dict(summary.get("reflections") or {}),
            str(summary.get("stopped_because")),
            summary.get("unspent_metric_calls"),
            float(summary.get("elapsed_s", 0.0)) / 60,
            (summary.get("select") or {}).get("val_select_gap"),
            (summary.get("staged_validation") or {}).get("metric_calls_saved"),
        )


def _calls_when_scored(run_dir: Path, best: dict[str, Any]) -> int:
    """Metric calls spent when the best candidate's val scores were complete (its
    `CandidateAdded` event): the same point under `full` and `staged` validation, where
    `metric_calls_at_discovery` is taken before val under `full` but after the first stage
    under `staged`."""
    try:
        for line in (run_dir / "events.jsonl").read_text().splitlines():
            event = json.loads(line) if '"CandidateAdded"' in line else {}
            if event.get("event") == "CandidateAdded" and event.get("candidate_id") == best.get(
                "id"
            ):
                return int(event["metric_calls"])
    except (OSError, ValueError, KeyError):
        pass
    return int(best.get("metric_calls_at_discovery", 0))


def load_reference(task: str, seed: int, path: Path, val_size: int = 0) -> RunResult | None:
    """A reference-library run written by `bench.quality_reference`. Its calls to the best
    are counted before the best's val scores (the reference's `discovery_eval_counts`);
    `val_size` is added so they count to the same point as gepa-cli's rows."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    test = raw.get("test") or {}
    return RunResult(
        task, REFERENCE_CELL, seed, test.get("seed"), test.get("best"),
        float(raw["seed_val_score"]), float(raw["best_val_score"]),
        int(raw["calls_to_best"]) + (val_size if int(raw["calls_to_best"]) else 0),
        int(raw["metric_calls"]), raw.get("max_metric_calls"), {}, "max_metric_calls",
        max(0, int(raw.get("max_metric_calls") or 0) - int(raw["metric_calls"])),
        float(raw["elapsed_s"]) / 60,
    )  # fmt: skip


REFERENCE_CELL = "reference gepa 0.1.4"
