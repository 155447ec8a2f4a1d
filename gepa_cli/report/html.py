"""Renders `ReportData` as one self-contained HTML page (inline CSS and SVG, no scripts).

Every string from the run (prompts, ids, names, model ids, notes) is escaped with
`esc`; the page also carries a Content-Security-Policy that forbids scripts and
external loads, so a missed escape could still not run code or leak data.
"""

from __future__ import annotations

from collections.abc import Sequence

from gepa_cli.display.summary_text import reflections_text
from gepa_cli.report.heatmap_svg import heatmap_svg
from gepa_cli.report.html_candidates import candidates_section
from gepa_cli.report.html_cells import (
    candidate_link,
    count_text,
    delta_span,
    html_table,
    score_text,
)
from gepa_cli.report.svg import Series, esc, lineage_svg, step_chart
from gepa_cli.report.values import USAGE_COLUMNS, ReportData

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;
max-width:1100px;padding:24px;color:#222}
h1{margin:0 0 4px}h2{margin-top:36px;border-bottom:1px solid #ddd;padding-bottom:4px}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.dir{color:#666}.notes{background:#fff8e1;border:1px solid #f0d98c;padding:8px 16px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}
dl.facts dt{color:#555}dl.facts dd{margin:0}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px;border-bottom:1px solid #eee}
th{text-align:left;background:#f6f6f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.figure{overflow-x:auto;margin:8px 0}.legend,.muted{color:#666;font-size:13px}
.up{color:#1a7f37}.down{color:#cf222e}
section.candidate{border:1px solid #ddd;border-radius:6px;padding:4px 16px;margin:12px 0}
section.candidate.best{border-color:#d4a72c;box-shadow:0 0 0 2px #fff1b8}
pre.diff{background:#fafafa;border:1px solid #eee;padding:6px 0;white-space:pre-wrap;
word-break:break-word;margin:4px 0 12px}
.line{display:block;padding:0 8px}.line.add{background:#e6ffec}.line.del{background:#ffebe9}
summary{cursor:pointer}
"""


def render_report(data: ReportData) -> str:
    """The whole page."""
    body = [
        _header(data),
        _notes(data.notes),
        _progress(data),
        _lineage(data),
        _heatmap(data),
        _test_results(data),
        _usage(data),
        candidates_section(data),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>GEPA report: {esc(data.name)}</title><style>{_CSS}</style></head>\n"
        f"<body>{''.join(body)}</body></html>\n"
    )


# --- header -------------------------------------------------------------------------------


def _header(data: ReportData) -> str:
    head, ev = data.headline, data.events
    calls = "—" if head.metric_calls is None else str(head.metric_calls)
    if head.max_metric_calls is not None:
        calls += f" of {head.max_metric_calls}"
    facts = [
        ("stopped because", esc(head.stopped_because or "not finished (no summary.json)")),
        ("best candidate", f"{candidate_link(head.best_id)} val {score_text(head.best_val_score)}"),
        ("seed", f"{candidate_link(head.seed_id)} val {score_text(head.seed_val_score)}"),
        ("improvement on val", delta_span(head.best_val_score, head.seed_val_score) or "—"),
        ("test (seed → best)", _test_line(data)),
        *_select_facts(data),
        ("metric calls", calls),
        ("iterations", count_text(head.iterations)),
        ("candidates in pool", str(len(data.candidates))),
        (
            "proposals",
            f"{ev.proposals_accepted} accepted, {ev.proposals_rejected} rejected; "
            f"skipped iterations: {ev.iterations_skipped}; failed examples: {ev.examples_failed}",
        ),
        ("merges", f"{ev.merges_accepted} accepted, {ev.merges_rejected} rejected"),
        ("reflections", esc(reflections_text(ev.reflections) or "—")),
        ("elapsed", "—" if head.elapsed_s is None else f"{head.elapsed_s:.1f} s"),
    ]
    facts += [
        (f"{role} model", f'<span class="mono">{esc(m)}</span>') for role, m in data.models.items()
    ]
    items = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in facts)
    return (
        f"<header><h1>GEPA run: {esc(data.name)}</h1>"
        f'<div class="dir mono">{esc(data.run_dir)}</div>'
        f'<dl class="facts">{items}</dl></header>'
    )


def _select_facts(data: ReportData) -> list[tuple[str, str]]:
    """With a select split: the final choice on it, and the val-vs-select gap."""
    sel = data.headline.select
    if sel is None:
        return []
    final = f"{candidate_link(sel.final_id)} select {score_text(sel.select_score)}"
    final += f" val {score_text(sel.val_score)}"
    gap = "—" if sel.gap is None else f"{sel.gap:+.3f}"
    gap += f" (best val {score_text(sel.best_val_score)}"
    gap += f" − final select {score_text(sel.select_score)})"
    return [("final candidate (on select)", final), ("val-vs-select gap", gap)]


def _test_line(data: ReportData) -> str:
    test = data.headline.test
    if test is None:
        return '<span class="muted">no test scores</span>'
    n = "" if test.n is None else f" (n = {test.n})"
    return (
        f"{score_text(test.seed)} → {score_text(test.best)} {delta_span(test.best, test.seed)}{n}"
    )


def _notes(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    return '<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"


# --- figures ------------------------------------------------------------------------------


def _figure(title: str, svg: str, legend: str = "") -> str:
    caption = f'<p class="legend">{legend}</p>' if legend else ""
    return f'<h2>{esc(title)}</h2><div class="figure">{svg}</div>{caption}'


def _progress(data: ReportData) -> str:
    if not data.best_curve:
        return '<h2>Progress</h2><p class="muted">No candidate has been scored yet.</p>'
    x_end = float(data.headline.metric_calls or 0)
    values = [p.value for p in (*data.best_curve, *data.mean_curve)]
    scores = step_chart(
        [
            Series("best val score", data.best_curve, "#1f5fa8"),
            Series("mean of pool", data.mean_curve, "#e07b00", dashed=True),
        ],
        x_end,
        (min([0.0, *values]), max([1.0, *values])),
        "metric calls",
        "val score",
    )
    html = _figure("Best and mean-of-pool val score vs metric calls", scores)
    if data.frontier_curve:
        top = max(p.value for p in data.frontier_curve)
        sizes = step_chart(
            [Series("frontier size", data.frontier_curve, "#6a3d9a")],
            x_end,
            (0.0, max(1.0, top)),
            "metric calls",
            "candidates",
            integer_y=True,
        )
        html += _figure("Pareto frontier size over time", sizes)
    return html


def _lineage(data: ReportData) -> str:
    if not data.candidates:
        return ""
    legend = (
        "Solid edge: mutation (reflective rewrite); dashed edge: merge. Gold: best candidate; "
        "blue: on the Pareto frontier. Select a node to jump to its prompts."
    )
    svg = lineage_svg(data.candidates, data.headline.best_id, data.frontier_wins.keys())
    return _figure("Candidate lineage", svg, legend)


def _heatmap(data: ReportData) -> str:
    matrix = data.matrix
    if matrix is None or not matrix.candidate_ids:
        return ""
    legend = (
        f"{len(matrix.candidate_ids)} candidates × {len(matrix.example_ids)} val examples; "
        "hover a cell for its candidate, example and score. ★ marks the best candidate."
    )
    return _figure("Score matrix", heatmap_svg(matrix, data.headline.best_id), legend)


# --- tables -------------------------------------------------------------------------------


def _test_results(data: ReportData) -> str:
    test = data.headline.test
    if test is None:
        return '<h2>Test results</h2><p class="muted">No test scores in this run.</p>'
    sel = data.headline.select
    final = (
        ("final " + candidate_link(sel.final_id))
        if sel
        else ("best " + candidate_link(data.headline.best_id))
    )
    rows = [
        ["seed " + candidate_link(data.headline.seed_id), score_text(test.seed), ""],
        [final, score_text(test.best), delta_span(test.best, test.seed)],
    ]
    if sel is not None and test.best_by_val is not None:
        by_val = test.best_by_val
        label = "best on val " + candidate_link(sel.best_val_id)
        rows.append([label, score_text(by_val), delta_span(by_val, test.seed)])
    n = "" if test.n is None else f" ({test.n} examples)"
    head = ["candidate", "mean score", "change"]
    return f"<h2>Test results{esc(n)}</h2>" + html_table(head, rows)


def _usage(data: ReportData) -> str:
    head_line = data.headline
    cost = "not tracked" if head_line.cost_usd is None else f"${head_line.cost_usd:.4f}"
    if head_line.max_cost_usd is not None:
        cost += f" (cap ${head_line.max_cost_usd:.2f})"
    if not data.usage:
        return (
            f'<h2>Calls, tokens and cost</h2><p class="muted">No usage recorded. Cost: {cost}.</p>'
        )
    priced = any(c is not None for c in head_line.cost_by_role.values())
    rows = [
        [esc(u.role), *(f"{u.counts[c]:,}" for c in USAGE_COLUMNS)]
        + ([_dollars(head_line.cost_by_role.get(u.role))] if priced else [])
        for u in data.usage
    ]
    totals = [f"<b>{sum(u.counts[c] for u in data.usage):,}</b>" for c in USAGE_COLUMNS]
    total_cost = [f"<b>{_dollars(head_line.cost_usd)}</b>"] if priced else []
    rows.append(["<b>total</b>", *totals, *total_cost])
    head = ["role", *(c.replace("_", " ") for c in USAGE_COLUMNS), *(["cost"] if priced else [])]
    source = "" if data.summary_found else " (from the last checkpoint)"
    return (
        f"<h2>Calls, tokens and cost{esc(source)}</h2>"
        + html_table(head, rows)
        + f"<p>Cost: {esc(cost)}</p>"
    )


def _dollars(value: float | None) -> str:
    return "—" if value is None else f"${value:.4f}"
