"""bench/quality_economy.py: when staged validation counts as reaching full's test score."""

from __future__ import annotations

from bench.quality_economy import economy_headline, economy_section, staged_pairs
from bench.quality_results import RunResult


def _run(cell: str, seed: int, test_best: float, calls_to_best: int, task: str = "t") -> RunResult:
    return RunResult(
        task, cell, seed, 0.1, test_best, 0.0, 0.5, calls_to_best, 110, 120, {},
        "max_metric_calls", 10, 5.0, calls_saved=20 if cell == "staged" else None,
    )  # fmt: skip


def test_pairs_need_both_cells_of_the_same_seed() -> None:
    results = [_run("default", 0, 0.5, 80), _run("staged", 0, 0.5, 40), _run("staged", 1, 0.5, 9)]
    pairs = staged_pairs(results)
    assert [(p.full.seed, p.staged.seed) for p in pairs] == [(0, 0)]


def test_call_share_only_when_staged_reaches_full_test() -> None:
    reached = staged_pairs([_run("default", 0, 0.5, 80), _run("staged", 0, 0.5, 40)])[0]
    short = staged_pairs([_run("default", 0, 0.5, 80), _run("staged", 0, 0.45, 10)])[0]
    assert reached.call_share == 0.5
    assert short.call_share is None


def test_headline_counts_pairs_within_the_target() -> None:
    results = [
        _run("default", 0, 0.5, 80), _run("staged", 0, 0.6, 40),  # 0.5x: met
        _run("default", 1, 0.5, 50), _run("staged", 1, 0.5, 45),  # 0.9x: reached, not met
        _run("default", 0, 0.3, 60, "u"), _run("staged", 0, 0.2, 10, "u"),  # not reached
    ]  # fmt: skip
    (line,) = economy_headline(results)
    assert "1 of 3 (task, seed) pairs" in line and line.endswith("did: t")
    section = economy_section(results)
    assert "yes, at 40 calls (0.50x full's)" in section
    assert "no within 120 calls" in section


def test_pairs_without_a_test_score_or_where_full_kept_the_seed_are_not_counted() -> None:
    results = [
        _run("default", 0, 0.1, 0), _run("staged", 0, 0.1, 0),  # full's best is the seed
        _run("default", 1, 0.5, 80), _run("staged", 1, 0.6, 40),
    ]  # fmt: skip
    (line,) = economy_headline(results)
    assert "1 of 1 (task, seed) pairs" in line
    assert "n/a (no test score, or full's best is the seed)" in economy_section(results)
