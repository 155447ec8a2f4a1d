"""Renders bench/QUALITY.md from the run directories of `bench.quality`: per task and cell,
seed vs best on held-out test (mean and range over seeds), val, metric calls to reach the
best, reflection outcome rates, how the run stopped and its wall time."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from pathlib import Path
from statistics import mean
from typing import Any

from bench.quality_economy import economy_headline, economy_section
from bench.quality_results import REFERENCE_CELL, RunResult


def _spread(values: Sequence[float]) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{mean(values):.3f} [{min(values):.3f}–{max(values):.3f}]"


def _counts(values: Sequence[int]) -> str:
    """Whole numbers: one value, or the mean and range."""
    if len(values) == 1:
        return str(values[0])
    return f"{mean(values):.0f} [{min(values)}–{max(values)}]" if values else "—"


def _rates(runs: Sequence[RunResult]) -> str:
    calls = sum(r.reflections.get("calls", 0) for r in runs)
    if not calls:
        return "—"
    share = {k: sum(r.reflections.get(k, 0) for r in runs) / calls for k in ("new", "unchanged")}
    unusable = sum(r.reflections.get("unusable", 0) for r in runs) / calls
    retries = sum(r.reflections.get("retries", 0) for r in runs)
    rules = sum(r.reflections.get("rules", 0) for r in runs)
    rules_new = sum(r.reflections.get("rules_new", 0) for r in runs)
    asked = f" ({rules:.0f} asked for rules: {rules_new:.0f} new)" if rules else ""
    return (
        f"{calls:.0f}: {share['new']:.0%} new, {share['unchanged']:.0%} unch., "
        f"{unusable:.0%} unus.; {retries:.0f} retries{asked}"
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
    to_best = _counts([r.calls_to_best for r in runs])
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


CELL_TEMPERATURE = {"reflect_t0": 0.0, "reflect_t1": 1.0}
"""Reflection temperature of a cell (every other cell runs at `DEFAULT_TEMPERATURE`)."""
DEFAULT_TEMPERATURE = 0.7
COMPARISONS = (
    ("current_best", "Pareto (default) vs current_best"),
    ("merge", "merge off (default) vs on"),
    ("paper_prompt", "default vs paper meta-prompt"),
    ("staged", "val_policy full (default) vs staged, at equal budget"),
)


def _mean_best(results: Sequence[RunResult], task: str, cell: str) -> float | None:
    tests = [r.test_best for r in results if r.task == task and r.cell == cell]
    values = [t for t in tests if t is not None]
    return mean(values) if values else None


def _gained_line(results: Sequence[RunResult], tasks: Sequence[str]) -> str:
    default = [r for r in results if r.cell == "default" and r.test_best is not None]
    by_task = {t: [r for r in default if r.task == t] for t in tasks}
    gained = [
        t
        for t, rs in by_task.items()
        if rs and mean((r.test_best or 0.0) - (r.test_seed or 0.0) for r in rs) > 0
    ]
    measured = [t for t, rs in by_task.items() if rs]
    return (
        f"- best test > seed test (default cell, mean over seeds): "
        f"{len(gained)} of {len(measured)} tasks measured ({', '.join(gained) or 'none'})"
    )


def _comparison_lines(results: Sequence[RunResult], tasks: Sequence[str]) -> list[str]:
    lines = []
    for cell, label in COMPARISONS:
        pairs = [
            (a, b)
            for t in tasks
            if (a := _mean_best(results, t, "default")) is not None
            and (b := _mean_best(results, t, cell)) is not None
        ]
        if pairs:
            lines.append(
                f"- {label}, mean best test over the {len(pairs)} task(s) with both: "
                f"{mean(a for a, _ in pairs):.3f} vs {mean(b for _, b in pairs):.3f}"
            )
    return lines


def _fruitless_lines(results: Sequence[RunResult]) -> list[str]:
    lines = []
    for temperature in sorted({*CELL_TEMPERATURE.values(), DEFAULT_TEMPERATURE}):
        runs = [
            r
            for r in results
            if r.cell != REFERENCE_CELL
            and CELL_TEMPERATURE.get(r.cell, DEFAULT_TEMPERATURE) == temperature
        ]
        calls = sum(r.reflections.get("calls", 0) for r in runs)
        if not calls:
            continue
        fruitless = sum(
            r.reflections.get("unchanged", 0) + r.reflections.get("unusable", 0) for r in runs
        )
        lines.append(
            f"- unchanged + unusable at reflection temperature {temperature:g}: "
            f"{fruitless:.0f} of {calls:.0f} reflection calls ({fruitless / calls:.0%}), "
            f"{len(runs)} run(s)"
        )
    return lines


def _gain_per_call_lines(results: Sequence[RunResult]) -> list[str]:
    """Test gain per metric call spent: the default cell against the reference library."""
    lines = []
    for task in sorted({r.task for r in results if r.cell == REFERENCE_CELL}):
        rates = {}
        for cell in ("default", REFERENCE_CELL):
            runs = [
                r
                for r in results
                if r.task == task and r.cell == cell and r.test_best is not None and r.metric_calls
            ]
            if runs:
                gains = [
                    ((r.test_best or 0.0) - (r.test_seed or 0.0)) / r.metric_calls for r in runs
                ]
                rates[cell] = mean(gains) * 100
        if len(rates) == 2:
            lines.append(
                f"- {task}: test gain per 100 metric calls, gepa-cli default "
                f"{rates['default']:.3f} vs reference {rates[REFERENCE_CELL]:.3f}"
            )
    return lines


def _stalled_line(results: Sequence[RunResult]) -> str:
    stalled = [
        r
        for r in results
        if r.stopped_because == "stalled"
        and r.unspent
        and r.max_metric_calls
        and r.unspent > 0.1 * r.max_metric_calls
    ]
    return f"- runs stopped `stalled` with > 10% of the budget unspent: {len(stalled)}"


def _headline(results: Sequence[RunResult], tasks: Sequence[str]) -> list[str]:
    return [
        _gained_line(results, tasks),
        *_comparison_lines(results, tasks),
        *_fruitless_lines(results),
        *_gain_per_call_lines(results),
        *economy_headline(results),
        _stalled_line(results),
    ]


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
    economy = economy_section(results)
    body = "\n".join(tables) + ("\n" + economy if economy else "")
    return "\n".join(head) + "\n" + body + ("\n" + notes if notes else "")


def as_json(results: Sequence[RunResult]) -> list[dict[str, Any]]:
    return [r.__dict__ for r in results]
