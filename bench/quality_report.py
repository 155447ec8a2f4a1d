"""Renders bench/QUALITY.md from the run directories of `bench.quality`: per task and cell,
seed vs best on held-out test (mean and range over seeds), val, metric calls to reach the
best, reflection outcome rates, how the run stopped and its wall time."""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any


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

    @staticmethod
    def load(task: str, cell: str, seed: int, run_dir: Path) -> RunResult | None:
        try:
            summary = json.loads((run_dir / "summary.json").read_text())
            lines = (run_dir / "candidates.jsonl").read_text().splitlines()
        except (OSError, ValueError):
            return None
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
            int(best.get("metric_calls_at_discovery", 0)),
            int(summary.get("metric_calls", 0)),
            summary.get("max_metric_calls"),
            dict(summary.get("reflections") or {}),
            str(summary.get("stopped_because")),
            summary.get("unspent_metric_calls"),
            float(summary.get("elapsed_s", 0.0)) / 60,
        )


def load_reference(task: str, seed: int, path: Path) -> RunResult | None:
    """A reference-library run written by `bench.quality_reference`."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    test = raw.get("test") or {}
    return RunResult(
        task, REFERENCE_CELL, seed, test.get("seed"), test.get("best"),
        float(raw["seed_val_score"]), float(raw["best_val_score"]), int(raw["calls_to_best"]),
        int(raw["metric_calls"]), raw.get("max_metric_calls"), {}, "max_metric_calls",
        max(0, int(raw.get("max_metric_calls") or 0) - int(raw["metric_calls"])),
        float(raw["elapsed_s"]) / 60,
    )  # fmt: skip


REFERENCE_CELL = "reference gepa 0.1.4"


def _spread(values: Sequence[float]) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{mean(values):.3f} [{min(values):.3f}–{max(values):.3f}]"


def _rates(runs: Sequence[RunResult]) -> str:
    calls = sum(r.reflections.get("calls", 0) for r in runs)
    if not calls:
        return "—"
    share = {k: sum(r.reflections.get(k, 0) for r in runs) / calls for k in ("new", "unchanged")}
    unusable = sum(r.reflections.get("unusable", 0) for r in runs) / calls
    retries = sum(r.reflections.get("retries", 0) for r in runs)
    return (
        f"{calls:.0f}: {share['new']:.0%} new, {share['unchanged']:.0%} unch., "
        f"{unusable:.0%} unus.; {retries:.0f} retries"
    )


def _stops(runs: Sequence[RunResult]) -> str:
    parts = []
    for r in runs:
        unspent = f" ({r.unspent} left)" if r.unspent else ""
        parts.append(f"{r.stopped_because}{unspent}")
    return "; ".join(parts)


def _row(cell: str, runs: Sequence[RunResult]) -> str:
    tests = [(r.test_seed, r.test_best) for r in runs if r.test_seed is not None]
    seed_test = _spread([s for s, _ in tests])
    best_test = _spread([b for _, b in tests if b is not None])
    gain = _spread([b - s for s, b in tests if b is not None and s is not None])
    val = f"{_spread([r.val_seed for r in runs])} → {_spread([r.val_best for r in runs])}"
    to_best = _spread([float(r.calls_to_best) for r in runs]).replace(".000", "")
    budget = runs[0].max_metric_calls if runs else None
    minutes = _spread([r.minutes for r in runs])
    seeds = ",".join(str(r.seed) for r in runs)
    return (
        f"| {cell} | {seeds} | {seed_test} | {best_test} | {gain} | {val} | "
        f"{to_best} of {budget} | {_rates(runs)} | {_stops(runs)} | {minutes} |"
    )


HEADER = (
    "| cell | seeds | test seed | test best | test gain | val seed → best | "
    "calls to best | reflections | stopped | minutes |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def _task_table(task: str, cells: Sequence[str], results: Sequence[RunResult]) -> str:
    rows = []
    if any(r.task == task and r.cell == REFERENCE_CELL for r in results):
        cells = [*cells, REFERENCE_CELL]
    for cell in cells:
        runs = sorted(
            (r for r in results if r.task == task and r.cell == cell), key=lambda r: r.seed
        )
        rows.append(_row(cell, runs) if runs else f"| {cell} | not run | | | | | | | | |")
    return f"### {task}\n\n{HEADER}\n" + "\n".join(rows) + "\n"


def _headline(results: Sequence[RunResult], tasks: Sequence[str]) -> list[str]:
    lines = []
    default = [r for r in results if r.cell == "default" and r.test_best is not None]
    by_task = {t: [r for r in default if r.task == t] for t in tasks}
    gained = [
        t for t, rs in by_task.items() if rs and mean(r.test_best - r.test_seed for r in rs) > 0
    ]
    measured = [t for t, rs in by_task.items() if rs]
    lines.append(
        f"- best test > seed test (default cell, mean over seeds): "
        f"{len(gained)} of {len(measured)} tasks measured ({', '.join(gained) or 'none'})"
    )
    pairs = []
    for t in tasks:
        p = [
            r.test_best
            for r in results
            if r.task == t and r.cell == "default" and r.test_best is not None
        ]
        c = [
            r.test_best
            for r in results
            if r.task == t and r.cell == "current_best" and r.test_best is not None
        ]
        if p and c:
            pairs.append((mean(p), mean(c)))
    if pairs:
        lines.append(
            f"- Pareto vs current_best, mean best test over the {len(pairs)} tasks with both: "
            f"{mean(p for p, _ in pairs):.3f} vs {mean(c for _, c in pairs):.3f}"
        )
    calls = sum(r.reflections.get("calls", 0) for r in results)
    fruitless = sum(
        r.reflections.get("unchanged", 0) + r.reflections.get("unusable", 0) for r in results
    )
    if calls:
        lines.append(
            f"- unchanged + unusable: {fruitless:.0f} of {calls:.0f} reflection calls "
            f"({fruitless / calls:.0%}), all runs, reflection temperature 0.7"
        )
    stalled = [
        r
        for r in results
        if r.stopped_because == "stalled"
        and r.unspent
        and r.max_metric_calls
        and r.unspent > 0.1 * r.max_metric_calls
    ]
    lines.append(f"- runs stopped `stalled` with > 10% of the budget unspent: {len(stalled)}")
    return lines


def render(
    results: Sequence[RunResult],
    tasks: Sequence[str],
    cells: Sequence[str],
    seeds: Sequence[int],
    notes: str = "",
) -> str:
    """The whole QUALITY.md."""
    here = Path(__file__).with_name("QUALITY_NOTES.md")
    notes = notes or (here.read_text() if here.is_file() else "")
    head = [
        "# Quality benchmark (`make bench-quality`)",
        "",
        "Generated by `python -m bench.quality` (see its docstring for the plan and scaling); "
        f"machine: {platform.machine()}, {platform.python_version()}; embedded "
        "Qwen2.5-Coder-1.5B Q4_K_M as task and reflection model on 2 CPU cores. Test scores "
        "are on held-out rows scored outside the budget; ranges are over seeds.",
        "",
        "## Headline",
        "",
        *_headline(results, tasks),
        "",
        "## Per task",
        "",
    ]
    tables = [_task_table(t, cells, results) for t in tasks]
    return "\n".join(head) + "\n" + "\n".join(tables) + ("\n" + notes if notes else "")


def as_json(results: Sequence[RunResult]) -> list[dict[str, Any]]:
    return [r.__dict__ for r in results]
