"""The rollout-economy part of bench/QUALITY.md: staged vs full validation seed by seed
(does `staged` reach `full`'s best test score, and with what share of `full`'s metric
calls), and the val-vs-select gap of runs with a select split."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import mean
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.quality_results import RunResult

CALL_SHARE_TARGET = 0.6
"""Issue 16's target: staged reaches full's best test with at most this share of the calls."""


@dataclass(frozen=True)
class StagedPair:
    """One task and seed run with `val_policy: full` (the default cell) and `staged`."""

    full: RunResult
    staged: RunResult

    @property
    def comparable(self) -> bool:
        """Both runs have a test score and full found something better than the seed (else
        staged "reaching" full says nothing)."""
        has_tests = self.full.test_best is not None and self.staged.test_best is not None
        return has_tests and self.full.calls_to_best > 0

    @property
    def reached(self) -> bool:
        """The staged run's best scores at least the full run's best on test."""
        return (self.staged.test_best or 0.0) >= (self.full.test_best or 0.0) - 1e-9

    @property
    def call_share(self) -> float | None:
        """Metric calls the staged run spent to find its best, as a share of the calls the
        full run spent to find its own; None when staged never reached full's test score."""
        if not self.comparable or not self.reached:
            return None
        return self.staged.calls_to_best / max(1, self.full.calls_to_best)


def staged_pairs(results: Sequence[RunResult]) -> list[StagedPair]:
    """Every (task, seed) with both a finished default (full) and a finished staged run."""
    by_key = {(r.task, r.cell, r.seed): r for r in results}
    return [
        StagedPair(by_key[(r.task, "default", r.seed)], r)
        for r in sorted(results, key=lambda r: (r.task, r.seed))
        if r.cell == "staged" and (r.task, "default", r.seed) in by_key
    ]


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _pair_row(pair: StagedPair) -> str:
    full, staged = pair.full, pair.staged
    share = pair.call_share
    if not pair.comparable:
        verdict = "n/a (no test score, or full's best is the seed)"
    elif share is not None:
        verdict = f"yes, at {staged.calls_to_best} calls ({share:.2f}x full's)"
    else:
        verdict = f"no within {staged.max_metric_calls or staged.metric_calls} calls"
    return (
        f"| {full.task} | {full.seed} | {_fmt(full.test_best)} | {full.calls_to_best} "
        f"| {_fmt(staged.test_best)} | {staged.calls_to_best} | {staged.calls_saved or 0} "
        f"| {verdict} |"
    )


def economy_headline(results: Sequence[RunResult]) -> list[str]:
    """The headline lines: how often staged met the target, and the val-vs-select gaps."""
    lines = []
    pairs = [p for p in staged_pairs(results) if p.comparable]
    if pairs:
        met = [p for p in pairs if (s := p.call_share) is not None and s <= CALL_SHARE_TARGET]
        kinds = sorted({p.full.task for p in met})
        lines.append(
            f"- staged reaches full's best test with <= {CALL_SHARE_TARGET}x full's calls to "
            f"its best: {len(met)} of {len(pairs)} (task, seed) pairs; task kinds where it "
            f"did: {', '.join(kinds) or 'none'}"
        )
    lines += _gap_lines(results)
    return lines


def _gap_lines(results: Sequence[RunResult]) -> list[str]:
    gaps = [r for r in results if r.val_select_gap is not None]
    lines = []
    for task in sorted({r.task for r in gaps}):
        values = [float(r.val_select_gap or 0.0) for r in gaps if r.task == task]
        lines.append(
            f"- {task}, val-vs-select gap (best val mean minus the final candidate's select "
            f"mean): mean {mean(values):.3f} over {len(values)} run(s)"
        )
    return lines


def economy_section(results: Sequence[RunResult]) -> str:
    """The `## Rollout economy` section: one row per (task, seed) pair, then the gaps."""
    pairs = staged_pairs(results)
    if not pairs and not _gap_lines(results):
        return ""
    lines = [
        "## Rollout economy: staged vs full validation, select split",
        "",
        'Same task, seed, data and budget; `full` is the default cell. "Calls to best" are '
        "the metric calls spent when the run found its final best candidate. Staged "
        "reaches full when its best scores at least full's best on test; the share is its "
        "calls to best over full's.",
        "",
        "| task | seed | full: test best | full: calls to best | staged: test best "
        "| staged: calls to best | staged: calls saved | staged reaches full's test? |",
        "|---|---|---|---|---|---|---|---|",
        *(_pair_row(p) for p in pairs),
        "",
        *_gap_lines(results),
    ]
    return "\n".join(lines) + "\n"
