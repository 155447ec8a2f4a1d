"""Hand-written inline SVG for the report: step-line charts and the lineage tree (the
heatmap is in `heatmap_svg`).

No plotting library: the report must be one self-contained file. Every string that
came from a run (ids, example ids, labels) goes through `esc`, in text and in
attributes alike; numbers are formatted here and never taken as text from a file.
"""

from __future__ import annotations

import html
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from gepa_cli.report.values import CandidateInfo, CurvePoint

SHORT_ID = 8
_FONT = 'font-family="ui-monospace,SFMono-Regular,Menlo,Consolas,monospace" font-size="11"'


def esc(value: object) -> str:
    """`value` as text safe inside HTML/SVG text and double- or single-quoted attributes."""
    return html.escape(str(value), quote=True)


def short_id(cid: str) -> str:
    return cid[:SHORT_ID]


def num(value: float) -> str:
    """A coordinate as SVG text, to one decimal."""
    return f"{value:.1f}"


def svg_open(width: float, height: float, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {num(width)} {num(height)}" '
        f'width="{num(width)}" height="{num(height)}" role="img" aria-label="{esc(label)}" '
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
    parts = [svg_open(frame.left + frame.width + 20, frame.top + frame.height + 44, y_label)]
    parts += _axes(frame, x_label, y_label, integer_y)
    for index, line in enumerate(series):
        parts += _step_line(frame, line, x_max)
        legend_x = frame.left + 8 + 170 * index
        parts.append(
            f'<line x1="{num(legend_x)}" y1="12" x2="{num(legend_x + 24)}" y2="12" '
            f'stroke="{line.color}" stroke-width="2.5"{_dash(line.dashed)}/>'
            f'<text x="{num(legend_x + 30)}" y="16">{esc(line.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _dash(dashed: bool) -> str:
    return ' stroke-dasharray="6 4"' if dashed else ""


def _axes(frame: _Frame, x_label: str, y_label: str, integer_y: bool) -> list[str]:
    bottom, right = frame.top + frame.height, frame.left + frame.width
    parts = [
        f'<rect x="{num(frame.left)}" y="{num(frame.top)}" width="{num(frame.width)}" '
        f'height="{num(frame.height)}" fill="none" stroke="#999"/>'
    ]
    for tick in nice_ticks(frame.y_lo, frame.y_hi):
        if integer_y and not tick.is_integer():
            continue
        y = num(frame.y(tick))
        parts.append(
            f'<line x1="{num(frame.left)}" y1="{y}" x2="{num(right)}" y2="{y}" stroke="#eee"/>'
            f'<text x="{num(frame.left - 6)}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{tick:g}</text>'
        )
    for tick in nice_ticks(0.0, frame.x_max):
        x = num(frame.x(tick))
        parts.append(
            f'<line x1="{x}" y1="{num(bottom)}" x2="{x}" y2="{num(bottom + 4)}" stroke="#999"/>'
            f'<text x="{x}" y="{num(bottom + 16)}" text-anchor="middle">{tick:g}</text>'
        )
    parts.append(
        f'<text x="{num(frame.left + frame.width / 2)}" y="{num(bottom + 36)}" '
        f'text-anchor="middle">{esc(x_label)}</text>'
        f'<text transform="translate(14 {num(frame.top + frame.height / 2)}) rotate(-90)" '
        f'text-anchor="middle">{esc(y_label)}</text>'
    )
    return parts


def _step_line(frame: _Frame, series: Series, x_max: float) -> list[str]:
    points = sorted(series.points, key=lambda p: p.metric_calls)
    if not points:
        return []
    path = [f"M{num(frame.x(points[0].metric_calls))},{num(frame.y(points[0].value))}"]
    for point in points[1:]:
        path.append(f"H{num(frame.x(point.metric_calls))}V{num(frame.y(point.value))}")
    path.append(f"H{num(frame.x(x_max))}")
    parts = [
        f'<path d="{"".join(path)}" fill="none" stroke="{series.color}" '
        f'stroke-width="2"{_dash(series.dashed)}/>'
    ]
    for point in points:
        parts.append(
            f'<circle cx="{num(frame.x(point.metric_calls))}" cy="{num(frame.y(point.value))}" '
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
    parts = [svg_open(width, height, "candidate lineage")]
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
        f'<path class="edge {kind}" d="M{num(x1)},{num(y1)} C{num(x1)},{num(mid)} '
        f'{num(x2)},{num(mid)} {num(x2)},{num(y2)}" fill="none" stroke="#667" '
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
        f'<rect x="{num(x - _NODE_W / 2)}" y="{num(y - _NODE_H / 2)}" width="{num(_NODE_W)}" '
        f'height="{num(_NODE_H)}" rx="6" fill="{fill}" stroke="#556"/>'
        f'<text x="{num(x)}" y="{num(y - 3)}" text-anchor="middle">{esc(short_id(cand.id))}'
        f'</text><text x="{num(x)}" y="{num(y + 11)}" text-anchor="middle">{score}</text>'
        "</g></a>"
    )
