"""`gepa show-frontier` as Rich tables: the non-dominated candidates, then which
candidates win which val examples (the data comes from `rundir/frontier.py`). Ids come
from data files: every cell is a `Text` (no markup) with control characters visible."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from gepa_cli.display.safe_text import sanitized
from gepa_cli.rundir.directory import RunDir
from gepa_cli.rundir.frontier import frontier_json

_EXAMPLE_IDS_SHOWN = 6


def frontier_table(rundir: RunDir) -> Table:
    """The non-dominated candidates, then which candidates win which val examples."""
    data = sanitized(frontier_json(rundir))
    examples = data["examples"]
    layout = Table.grid()
    heading = (
        f"Pareto frontier of {data['run_dir']}: {len(data['non_dominated'])} non-dominated "
        f"of {data['candidates']} candidates"
    )
    layout.add_row(Text(heading, style="bold"))
    layout.add_row(_candidates_table(data))
    layout.add_row("")
    layout.add_row(Text(f"Winners per val example ({len(examples)} examples)", style="bold"))
    layout.add_row(_winners_table(examples))
    return layout


def _candidates_table(data: Mapping[str, Any]) -> Table:
    table = Table()
    for name in ("id", "origin", "parents"):
        table.add_column(name, no_wrap=True)
    table.add_column("wins", justify="right")
    table.add_column("mean val", justify="right")
    table.add_column("best", justify="center")
    rows = list(data["non_dominated"])
    best = data["best_candidate"]
    if best is not None and all(m["id"] != best for m in rows):
        note = "(not on the frontier)"
        rows.append(
            {"id": best, "note": note, "best": True, "mean_val_score": data["best_val_score"]}
        )
    for m in rows:
        mean = m.get("mean_val_score")
        table.add_row(
            Text(m["id"]),
            Text(m.get("note") or m.get("origin", "")),
            Text(", ".join(m.get("parents", [])) or "-"),
            str(m.get("wins", 0)),
            "-" if mean is None else f"{mean:.3f}",
            Text("best", style="bold green") if m.get("best") else "",
        )
    return table


def _winners_table(examples: Sequence[Mapping[str, Any]]) -> Table:
    """Val examples grouped by the set of candidates that win them: one row per set."""
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for ex in examples:
        groups.setdefault(tuple(ex.get("candidates", [])), []).append(ex)
    table = Table()
    table.add_column("winning candidates")
    table.add_column("examples", justify="right")
    table.add_column("best score", justify="right")
    table.add_column("example ids")
    for winners, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        scores = [float(ex["best_score"]) for ex in members]
        low, high = min(scores), max(scores)
        score_text = f"{low:.3f}" if low == high else f"{low:.3f}-{high:.3f}"
        ids = [str(ex["example_id"]) for ex in members]
        shown = ", ".join(ids[:_EXAMPLE_IDS_SHOWN])
        if len(ids) > _EXAMPLE_IDS_SHOWN:
            shown += f", ... (+{len(ids) - _EXAMPLE_IDS_SHOWN})"
        table.add_row(Text(", ".join(winners)), str(len(members)), score_text, Text(shown))
    return table
