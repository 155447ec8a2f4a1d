"""Hand-written inline SVG for the report: step-line charts, the lineage tree, the heatmap.

No plotting library: the report must be one self-contained file. Every string that
came from a run (ids, example ids, labels) goes through `esc`, in text and in
attributes alike; numbers are formatted here and never taken as text from a file.
"""

from __future__ import annotations

import html
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from gepa_cli.report.values import CandidateInfo, CurvePoint, ScoreMatrix

SHORT_ID = 8
_FONT = 'font-family="ui-monospace,SFMono-Regular,Menlo,Consolas,monospace" font-size="11"'
# viridis, sampled: perceptually uniform and readable with colour-vision deficiencies
_SCALE = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
_MISSING_FILL = "#d9d9d9"


def esc(value: object) -> str:
    """`value` as text safe inside HTML/SVG text and double- or single-quoted attributes."""
    return html.escape(str(value), quote=True)


def short_id(cid: str) -> str:
    return cid[:SHORT_ID]


def _num(value: float) -> str:
    return f"{value:.1f}"


def _svg_open(width: float, height: float, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'width="{_num(width)}" height="{_num(height)}" role="img" aria-label="{esc(label)}" '
        f"{_FONT}>"
    )


# --- step-line charts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[CurvePoint]
    color: str
    dashed: bool = False


@dataclass(frozen=True)
class _Frame:
    """Maps data coordinates into the plot area of a chart."""

    x_max: float
    y_lo: float
    y_hi: float
    left: float = 56
    top: float = 28
    width: float = 560
    height: float = 200

    def x(self, value: float) -> float:
        return self.left + self.width * value / self.x_max

    def y(self, value: float) -> float:
        return self.top + self.height * (1 - (value - self.y_lo) / (self.y_hi - self.y_lo))


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round numbers from lo to hi (inclusive where they fall on a step)."""
    raw = (hi - lo) / count if hi > lo else 1.0
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return [float(round(i * step, 10)) for i in range(first, last + 1)]


def step_chart(
    series: Sequence[Series],
    x_end: float,
    y_range: tuple[float, float],
    x_label: str,
    y_label: str,
    integer_y: bool = False,
) -> str:
    """Series drawn as step lines (each value holds until the next point), up to `x_end`.

    `integer_y` keeps only whole-number ticks on the y axis (for counts).
    """
    x_max = max([x_end, 1.0, *(p.metric_calls for s in series for p in s.points)])
    frame = _Frame(x_max, *y_range)
    parts = [_svg_open(frame.left + frame.width + 20, frame.top + frame.height + 44, y_label)]
    parts += _axes(frame, x_label, y_label, integer_y)
    for index, line in enumerate(series):
        parts += _step_line(frame, line, x_max)
        legend_x = frame.left + 8 + 170 * index
        parts.append(
            f'<line x1="{_num(legend_x)}" y1="12" x2="{_num(legend_x + 24)}" y2="12" '
            f'stroke="{line.color}" stroke-width="2.5"{_dash(line.dashed)}/>'
            f'<text x="{_num(legend_x + 30)}" y="16">{esc(line.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _dash(dashed: bool) -> str:
    return ' stroke-dasharray="6 4"' if dashed else ""


def _axes(frame: _Frame, x_label: str, y_label: str, integer_y: bool) -> list[str]:
    bottom, right = frame.top + frame.height, frame.left + frame.width
    parts = [
        f'<rect x="{_num(frame.left)}" y="{_num(frame.top)}" width="{_num(frame.width)}" '
        f'height="{_num(frame.height)}" fill="none" stroke="#999"/>'
    ]
    for tick in nice_ticks(frame.y_lo, frame.y_hi):
        if integer_y and not tick.is_integer():
            continue
        y = _num(frame.y(tick))
        parts.append(
            f'<line x1="{_num(frame.left)}" y1="{y}" x2="{_num(right)}" y2="{y}" stroke="#eee"/>'
            f'<text x="{_num(frame.left - 6)}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{tick:g}</text>'
        )
    for tick in nice_ticks(0.0, frame.x_max):
        x = _num(frame.x(tick))
        parts.append(
            f'<line x1="{x}" y1="{_num(bottom)}" x2="{x}" y2="{_num(bottom + 4)}" stroke="#999"/>'
            f'<text x="{x}" y="{_num(bottom + 16)}" text-anchor="middle">{tick:g}</text>'
        )
    parts.append(
        f'<text x="{_num(frame.left + frame.width / 2)}" y="{_num(bottom + 36)}" '
        f'text-anchor="middle">{esc(x_label)}</text>'
        f'<text transform="translate(14 {_num(frame.top + frame.height / 2)}) rotate(-90)" '
        f'text-anchor="middle">{esc(y_label)}</text>'
    )
    return parts


def _step_line(frame: _Frame, series: Series, x_max: float) -> list[str]:
    points = sorted(series.points, key=lambda p: p.metric_calls)
    if not points:
        return []
    path = [f"M{_num(frame.x(points[0].metric_calls))},{_num(frame.y(points[0].value))}"]
    for point in points[1:]:
        path.append(f"H{_num(frame.x(point.metric_calls))}V{_num(frame.y(point.value))}")
    path.append(f"H{_num(frame.x(x_max))}")
    parts = [
        f'<path d="{"".join(path)}" fill="none" stroke="{series.color}" '
        f'stroke-width="2"{_dash(series.dashed)}/>'
    ]
    for point in points:
        parts.append(
            f'<circle cx="{_num(frame.x(point.metric_calls))}" cy="{_num(frame.y(point.value))}" '
            f'r="3" fill="{series.color}"><title>{esc(series.label)}: {point.value:.4g} '
            f"at {point.metric_calls:g} metric calls</title></circle>"
        )
    return parts


# --- lineage tree -------------------------------------------------------------------------

_NODE_W, _NODE_H, _GAP_X, _GAP_Y, _MARGIN = 92.0, 36.0, 108.0, 76.0, 16.0


def generation_layers(candidates: Sequence[CandidateInfo]) -> list[list[CandidateInfo]]:
    """Candidates by generation depth (seed 0, child = 1 + deepest known parent).

    Within a layer, children sit near the mean position of their parents.
    """
    depth: dict[str, int] = {}
    for cand in candidates:
        known = [depth[p] for p in cand.parents if p in depth]
        depth[cand.id] = 1 + max(known) if known else 0
    layers: list[list[CandidateInfo]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for cand in candidates:
        layers[depth[cand.id]].append(cand)
    slot: dict[str, float] = {}
    for layer in layers:
        layer.sort(key=lambda cand: _mean_parent_slot(cand, slot))
        for index, cand in enumerate(layer):
            slot[cand.id] = index - (len(layer) - 1) / 2
    return layers


def _mean_parent_slot(cand: CandidateInfo, slot: dict[str, float]) -> float:
    placed = [slot[p] for p in cand.parents if p in slot]
    return sum(placed) / len(placed) if placed else 0.0


def lineage_svg(
    candidates: Sequence[CandidateInfo], best_id: str | None, frontier: Collection[str]
) -> str:
    """Top-down tree: mutation edges solid, merge edges dashed, nodes link to their section."""
    layers = generation_layers(candidates)
    widest = max((len(layer) for layer in layers), default=1)
    width = 2 * _MARGIN + _NODE_W + _GAP_X * (widest - 1)
    height = 2 * _MARGIN + _NODE_H + _GAP_Y * (len(layers) - 1)
    centre: dict[str, tuple[float, float]] = {}
    for depth, layer in enumerate(layers):
        for index, cand in enumerate(layer):
            x = width / 2 + _GAP_X * (index - (len(layer) - 1) / 2)
            centre[cand.id] = (x, _MARGIN + _NODE_H / 2 + _GAP_Y * depth)
    parts = [_svg_open(width, height, "candidate lineage")]
    for cand in candidates:
        for parent in cand.parents:
            if parent in centre:
                parts.append(_edge(centre[parent], centre[cand.id], cand.origin == "merge"))
    for cand in candidates:
        parts.append(_node(cand, centre[cand.id], cand.id == best_id, cand.id in frontier))
    parts.append("</svg>")
    return "".join(parts)


def _edge(start: tuple[float, float], end: tuple[float, float], merge: bool) -> str:
    (x1, y1), (x2, y2) = start, end
    y1, y2 = y1 + _NODE_H / 2, y2 - _NODE_H / 2
    mid = (y1 + y2) / 2
    kind = "merge" if merge else "mutation"
    return (
        f'<path class="edge {kind}" d="M{_num(x1)},{_num(y1)} C{_num(x1)},{_num(mid)} '
        f'{_num(x2)},{_num(mid)} {_num(x2)},{_num(y2)}" fill="none" stroke="#667" '
        f'stroke-width="1.5"{_dash(merge)}/>'
    )


def _node(cand: CandidateInfo, at: tuple[float, float], best: bool, on_frontier: bool) -> str:
    x, y = at
    fill = "#ffd966" if best else "#cfe2f3" if on_frontier else "#f3f3f3"
    score = "—" if cand.val_score is None else f"{cand.val_score:.3f}"
    tooltip = f"{cand.id} · {cand.origin} · iteration {cand.iteration} · val {score}"
    tooltip += " · best" if best else " · on the frontier" if on_frontier else ""
    return (
        f'<a href="#cand-{esc(cand.id)}"><g class="node">'
        f"<title>{esc(tooltip)}</title>"
        f'<rect x="{_num(x - _NODE_W / 2)}" y="{_num(y - _NODE_H / 2)}" width="{_num(_NODE_W)}" '
        f'height="{_num(_NODE_H)}" rx="6" fill="{fill}" stroke="#556"/>'
        f'<text x="{_num(x)}" y="{_num(y - 3)}" text-anchor="middle">{esc(short_id(cand.id))}'
        f'</text><text x="{_num(x)}" y="{_num(y + 11)}" text-anchor="middle">{score}</text>'
        "</g></a>"
    )


# --- heatmap ------------------------------------------------------------------------------


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
    parts = [_svg_open(width, top + cell_h * rows + 40, "score matrix")]
    if labelled:
        parts += [
            f'<text transform="translate({_num(left + cell_w * (j + 0.5))} {_num(top - 4)}) '
            f'rotate(-60)">{esc(eid[:12])}</text>'
            for j, eid in enumerate(matrix.example_ids)
        ]
    for i, (cid, row) in enumerate(zip(matrix.candidate_ids, matrix.cells, strict=True)):
        y = top + cell_h * i
        mark = "★ " if cid == best_id else ""
        if row_labels:
            parts.append(
                f'<text x="{_num(left - 4)}" y="{_num(y + cell_h / 2)}" text-anchor="end" '
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
        f'<rect class="cell" x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" '
        f'fill="{score_color(score, lo, hi)}">'
        f"<title>{esc(cid)} · {esc(eid)}: {shown}</title></rect>"
    )


def _scale_legend(x: float, y: float, lo: float, hi: float) -> str:
    steps = 10
    swatches = "".join(
        f'<rect x="{_num(x + 14 * k)}" y="{_num(y)}" width="14" height="10" '
        f'fill="{score_color(lo + (hi - lo) * k / (steps - 1), lo, hi)}"/>'
        for k in range(steps)
    )
    return (
        f'<text x="{_num(x - 4)}" y="{_num(y + 9)}" text-anchor="end">{lo:g}</text>{swatches}'
        f'<text x="{_num(x + 14 * steps + 4)}" y="{_num(y + 9)}">{hi:g}</text>'
        f'<rect x="{_num(x + 14 * steps + 40)}" y="{_num(y)}" width="14" height="10" '
        f'fill="{_MISSING_FILL}"/><text x="{_num(x + 14 * steps + 58)}" y="{_num(y + 9)}">'
        "not scored</text>"
    )
