"""The small HTML pieces the report's sections are built from: scores, score changes,
counts, links to a candidate's section (its id escaped with `esc`), and tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gepa_cli.report.svg import esc, short_id


def score_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def delta_span(new: float | None, old: float | None) -> str:
    if new is None or old is None:
        return ""
    shift = new - old
    css = "up" if shift > 0 else "down" if shift < 0 else "muted"
    return f'<span class="{css}">{shift:+.3f}</span>'


def count_text(value: int | None) -> str:
    return "—" if value is None else str(value)


def candidate_link(cid: str | None) -> str:
    if cid is None:
        return "—"
    return f'<a class="mono" href="#cand-{esc(cid)}" title="{esc(cid)}">{esc(short_id(cid))}</a>'


def html_table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric_from: int = 1) -> str:
    """A table whose cells are already HTML; columns from `numeric_from` align right."""
    header = "".join(f"<th>{esc(h)}</th>" for h in head)
    lines = [
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if i >= numeric_from else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    ]
    return f"<table><tr>{header}</tr>{''.join(lines)}</table>"
