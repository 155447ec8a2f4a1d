"""The report's score-matrix heatmap as inline SVG: one cell per (candidate, val example),
coloured on a perceptual scale, grey where a cell was not scored (staged validation)."""

from __future__ import annotations

from gepa_cli.report.svg import esc, num, short_id, svg_open
from gepa_cli.report.values import ScoreMatrix

# viridis, sampled: perceptually uniform and readable with colour-vision deficiencies
_SCALE = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
_MISSING_FILL = "#d9d9d9"


def score_color(score: float | None, lo: float, hi: float) -> str:
    """The fill for a score on the lo..hi scale (grey when there is no score)."""
    if score is None:
        return _MISSING_FILL
    t = min(1.0, max(0.0, (score - lo) / (hi - lo))) * (len(_SCALE) - 1)
    i = min(int(t), len(_SCALE) - 2)
    mix = [a + (b - a) * (t - i) for a, b in zip(_SCALE[i], _SCALE[i + 1], strict=True)]
    return "#" + "".join(f"{round(c):02x}" for c in mix)


def heatmap_svg(matrix: ScoreMatrix, best_id: str | None) -> str:
    """One rect per (candidate, val example) cell, coloured by score, with a tooltip."""
    scores = [s for row in matrix.cells for s in row if s is not None]
    lo, hi = min([0.0, *scores]), max([1.0, *scores])
    cols, rows = len(matrix.example_ids), len(matrix.candidate_ids)
    cell_w = min(26.0, max(4.0, 640 / max(cols, 1)))
    cell_h = min(18.0, max(4.0, 640 / max(rows, 1)))
    labelled, row_labels = cols <= 40, cell_h >= 10
    left, top = 88.0, 84.0 if labelled else 12.0
    width = max(left + cell_w * cols + (64 if labelled else 16), left + 300)
    parts = [svg_open(width, top + cell_h * rows + 40, "score matrix")]
    if labelled:
        parts += [
            f'<text transform="translate({num(left + cell_w * (j + 0.5))} {num(top - 4)}) '
            f'rotate(-60)">{esc(eid[:12])}</text>'
            for j, eid in enumerate(matrix.example_ids)
        ]
    for i, (cid, row) in enumerate(zip(matrix.candidate_ids, matrix.cells, strict=True)):
        y = top + cell_h * i
        mark = "★ " if cid == best_id else ""
        if row_labels:
            parts.append(
                f'<text x="{num(left - 4)}" y="{num(y + cell_h / 2)}" text-anchor="end" '
                f'dominant-baseline="middle">{esc(mark + short_id(cid))}</text>'
            )
        parts.append('<g stroke="#fff" stroke-width="0.5">')
        parts += [
            _cell(left + cell_w * j, y, cell_w, cell_h, cid, eid, score, lo, hi)
            for j, (eid, score) in enumerate(zip(matrix.example_ids, row, strict=True))
        ]
        parts.append("</g>")
    parts.append(_scale_legend(left, top + cell_h * rows + 14, lo, hi))
    parts.append("</svg>")
    return "".join(parts)


def _cell(
    x: float,
    y: float,
    w: float,
    h: float,
    cid: str,
    eid: str,
    score: float | None,
    lo: float,
    hi: float,
) -> str:
    shown = "not scored" if score is None else f"{score:.4g}"
    return (
        f'<rect class="cell" x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" '
        f'fill="{score_color(score, lo, hi)}">'
        f"<title>{esc(cid)} · {esc(eid)}: {shown}</title></rect>"
    )


def _scale_legend(x: float, y: float, lo: float, hi: float) -> str:
    steps = 10
    swatches = "".join(
        f'<rect x="{num(x + 14 * k)}" y="{num(y)}" width="14" height="10" '
        f'fill="{score_color(lo + (hi - lo) * k / (steps - 1), lo, hi)}"/>'
        for k in range(steps)
    )
    return (
        f'<text x="{num(x - 4)}" y="{num(y + 9)}" text-anchor="end">{lo:g}</text>{swatches}'
        f'<text x="{num(x + 14 * steps + 4)}" y="{num(y + 9)}">{hi:g}</text>'
        f'<rect x="{num(x + 14 * steps + 40)}" y="{num(y)}" width="14" height="10" '
        f'fill="{_MISSING_FILL}"/><text x="{num(x + 14 * steps + 58)}" y="{num(y + 9)}">'
        "not scored</text>"
    )
