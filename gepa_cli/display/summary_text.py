"""The text a display writes for a run's numbers: short candidate ids, minibatch scores,
one-line flattening, the LM-usage, reflection and staged-validation lines, and the
closing summary rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def short_id(cid: str) -> str:
    return f"{cid[:6]}.."


def minibatch_score(value: float) -> str:
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def reflections_text(counts: Mapping[str, Any]) -> str | None:
    """`12 calls: 9 new, 2 unchanged, 1 unusable (3 retries, 2 asked for rules: 1 new);
    41 s on fruitless replies`."""
    calls = int(counts.get("calls", 0) or 0)
    if calls <= 0:
        return None
    parts = ", ".join(f"{int(counts.get(k, 0) or 0)} {k}" for k in ("new", "unchanged", "unusable"))
    wasted = float(counts.get("wasted_s", 0.0) or 0.0)
    retries = int(counts.get("retries", 0) or 0)
    rules = int(counts.get("rules", 0) or 0)
    rules_new = int(counts.get("rules_new", 0) or 0)
    asked = f", {rules} asked for rules: {rules_new} new" if rules else ""
    return f"{calls} calls: {parts} ({retries} retries{asked}); {wasted:.0f} s on fruitless replies"


def staged_text(staged: Mapping[str, Any]) -> str:
    """`3 children stopped early, 24 metric calls saved`."""
    stopped, saved = staged.get("stopped_early", 0), staged.get("metric_calls_saved", 0)
    children = "child" if stopped == 1 else "children"
    return f"{stopped} {children} stopped early, {saved:,} metric calls saved"


def stats_text(stats: Mapping[str, int]) -> str:
    return (
        f"{stats.get('lm_calls', 0):,} LM calls, {stats.get('tokens', 0):,} tokens, "
        f"{stats.get('errors', 0)} LM errors"
    )


def summary_rows(summary: Mapping[str, Any], stats: Mapping[str, int]) -> list[tuple[str, str]]:
    """The result as (label, value) pairs; keys absent from `summary` are left out.

    The live LM counters fill in when the summary has no `lm_calls`; LM errors show if any.
    """
    return [*_score_rows(summary), *_usage_rows(summary, stats), *_closing_rows(summary)]


def _score_rows(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The best candidate, its val score against the seed's, test and select scores."""
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
    return rows


def _usage_rows(summary: Mapping[str, Any], stats: Mapping[str, int]) -> list[tuple[str, str]]:
    """The counts (candidates, iterations, calls, tokens), the cost and the LM usage."""
    rows: list[tuple[str, str]] = []
    for key in ("candidates", "iterations", "metric_calls", "lm_calls", "tokens"):
        if isinstance(summary.get(key), int):
            rows.append((key.replace("_", " "), f"{summary[key]:,}"))
    if isinstance(summary.get("cost_usd"), int | float):
        rows.append(("cost", f"${summary['cost_usd']:.4f}"))
    if "lm_calls" not in summary and stats:
        rows.append(("LM usage", stats_text(stats)))
    elif stats.get("errors"):
        rows.append(("LM errors", str(stats["errors"])))
    return rows


def _closing_rows(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Reflections, staged validation and why the run stopped."""
    rows: list[tuple[str, str]] = []
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
