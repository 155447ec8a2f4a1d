"""`gepa report`: the HTML report built from a hand-made run directory: charts, lineage,
diffs, heatmap, tables, escaping of hostile strings, and runs with missing files."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gepa_cli.report import REPORT_FILE, load_report_data, write_report
from gepa_cli.report.data import frontier_curve, score_curves
from gepa_cli.report.heatmap_svg import score_color
from gepa_cli.report.html_candidates import diff_counts, prompt_diff
from gepa_cli.report.svg import Series, generation_layers, nice_ticks, step_chart
from gepa_cli.report.values import CandidateInfo, CurvePoint
from gepa_cli.rundir.directory import RunDirError

SVG_NS = "{http://www.w3.org/2000/svg}"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
A, B, C, D = "aaaa00000001", "bbbb00000002", "cccc00000003", "dddd00000004"
SEED = {"solve": "Solve it.", "check": "Check it."}
B_PROMPTS = {"solve": "Solve it.\nShow your steps.", "check": "Check it."}
C_PROMPTS = {"solve": "Solve it.", "check": f"Check it.\n{SCRIPT}\n{IMG}"}
D_PROMPTS = {"solve": B_PROMPTS["solve"], "check": C_PROMPTS["check"]}
VAL_IDS = ["v1", "v2", "v3", IMG]
MATRIX = {
    A: ["1.0", "0.0", "0.0", "0.0"],
    B: ["1.0", "1.0", "0.0", "0.0"],
    C: ["1.0", "0.0", "1.0", ""],  # one score the run does not hold
    D: ["1.0", "1.0", "1.0", "0.0"],
}
USAGE = {
    "task": {"calls": 40, "cached_calls": 4, "input_tokens": 4000, "output_tokens": 400},
    "reflection": {"calls": 3, "cached_calls": 0, "input_tokens": 900, "output_tokens": 120},
}


def _candidate(cid: str, prompts: dict, parents: list, origin: str, it: int, val: float, at: int):
    return {
        "id": cid,
        "parents": parents,
        "origin": origin,
        "iteration": it,
        "prompts": prompts,
        "val_score": val,
        "metric_calls_at_discovery": at,
    }


def _events() -> list[dict]:
    def proposal(it: int, child: str, accepted: bool, calls: int) -> dict:
        return {
            "event": "ProposalEvaluated",
            "iteration": it,
            "parent_id": A,
            "child_id": child,
            "accepted": accepted,
            "metric_calls": calls,
        }

    def added(it: int, cid: str, parents: list, origin: str, val: float, calls: int) -> dict:
        return {
            "event": "CandidateAdded",
            "iteration": it,
            "candidate_id": cid,
            "parents": parents,
            "origin": origin,
            "val_score": val,
            "metric_calls": calls,
        }

    def frontier(it: int, ids: list) -> dict:
        return {"event": "FrontierChanged", "iteration": it, "frontier": ids, "best_id": ids[-1]}

    return [
        {"event": "SeedEvaluated", "candidate_id": A, "val_score": 0.25, "metric_calls": 4},
        frontier(0, [A]),
        proposal(1, B, True, 10),
        added(1, B, [A], "mutation", 0.5, 14),
        frontier(1, [B]),
        proposal(2, "eeee00000005", False, 20),
        {"event": "IterationSkipped", "iteration": 3, "parent_id": A, "reason": "all_perfect"},
        proposal(4, C, True, 26),
        added(4, C, [A], "mutation", 0.5, 30),
        frontier(4, [B, C]),
        {"event": "MergeEvaluated", "iteration": 5, "child_id": "f0", "accepted": False},
        {"event": "MergeEvaluated", "iteration": 5, "child_id": D, "accepted": True},
        added(5, D, [B, C], "merge", 0.75, 36),
        frontier(5, [D]),
        {"event": "RunFinished", "stopped_because": "max_metric_calls", "metric_calls": 36},
    ]


def build_run(path: Path, summary: bool = True) -> Path:
    """A finished four-candidate run (D merges B and C); C's prompt holds hostile strings."""
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(
        f"name: {json.dumps(SCRIPT)}\nmodels:\n  task: {{model: {json.dumps(IMG)}}}\n"
    )
    candidates = [
        _candidate(A, SEED, [], "seed", 0, 0.25, 0),
        _candidate(B, B_PROMPTS, [A], "mutation", 1, 0.5, 10),
        _candidate(C, C_PROMPTS, [A], "mutation", 4, 0.5, 26),
        _candidate(D, D_PROMPTS, [B, C], "merge", 5, 0.75, 32),
    ]
    lines = [json.dumps(c) for c in candidates]
    (path / "candidates.jsonl").write_text("\n".join(lines) + "\n")
    with (path / "score_matrix.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["candidate", *VAL_IDS])
        writer.writerows([cid, *cells] for cid, cells in MATRIX.items())
    frontier = {"non_dominated": [{"id": D, "wins": 4, "mean_val_score": 0.75}]}
    (path / "frontier.json").write_text(json.dumps({**frontier, "best_candidate": D}))
    (path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in _events()))
    (path / "checkpoint.json").write_text(json.dumps({"schema_version": 1, "usage": USAGE}))
    if summary:
        (path / "summary.json").write_text(json.dumps(_summary()))
    return path


def _summary() -> dict:
    return {
        "best_candidate": D,
        "best_val_score": 0.75,
        "seed_candidate": A,
        "seed_val_score": 0.25,
        "test": {"seed": 0.3, "best": 0.8, "n": 10},
        "metric_calls": 36,
        "max_metric_calls": 40,
        "lm_calls": 43,
        "tokens": USAGE,
        "cost_usd": 0.0123,
        "candidates": 4,
        "iterations": 5,
        "stopped_because": "max_metric_calls",
        "elapsed_s": 12.5,
    }


@pytest.fixture
def report(tmp_path: Path) -> str:
    out = write_report(build_run(tmp_path / "run"))
    assert out == tmp_path / "run" / REPORT_FILE
    return out.read_text(encoding="utf-8")


def svgs(page: str) -> list[ET.Element]:
    """Every inline SVG of the page, parsed as XML (so each must be well-formed)."""
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", page, flags=re.S)]


def candidate_section(page: str, cid: str) -> str:
    match = re.search(rf'<section class="[^"]*" id="cand-{cid}">.*?</section>', page, re.S)
    assert match, f"no section for {cid}"
    return match.group(0)


# --- the page ------------------------------------------------------------------------------


def test_report_has_four_wellformed_charts_and_no_external_resources(report: str) -> None:
    labels = [svg.get("aria-label") for svg in svgs(report)]
    assert labels == ["val score", "candidates", "candidate lineage", "score matrix"]
    assert re.findall(r"https?://[^\s\"'<>]+", report) == ["http://www.w3.org/2000/svg"] * 4
    assert "<link" not in report and "@import" not in report


def test_score_chart_steps_through_best_and_mean(report: str) -> None:
    chart = svgs(report)[0]
    paths = chart.findall(f"{SVG_NS}path")
    assert len(paths) == 2 and paths[1].get("stroke-dasharray")  # mean of pool is dashed
    titles = [t.text for t in chart.iter(f"{SVG_NS}title")]
    assert "best val score: 0.75 at 36 metric calls" in titles
    assert "mean of pool: 0.5 at 36 metric calls" in titles  # (0.25 + 0.5 + 0.5 + 0.75) / 4


def test_lineage_draws_merge_edges_dashed_and_mutations_solid(report: str) -> None:
    lineage = svgs(report)[2]
    edges = lineage.findall(f"{SVG_NS}path")
    merges = [e for e in edges if e.get("class") == "edge merge"]
    mutations = [e for e in edges if e.get("class") == "edge mutation"]
    assert len(merges) == 2 and all(e.get("stroke-dasharray") for e in merges)
    assert len(mutations) == 3 - 1 and not any(e.get("stroke-dasharray") for e in mutations)
    texts = [t.text for t in lineage.iter(f"{SVG_NS}text")]
    assert {"aaaa0000", "dddd0000", "0.750"} <= set(texts)
    links = [a.get("href") for a in lineage.iter(f"{SVG_NS}a")]
    assert links == [f"#cand-{cid}" for cid in (A, B, C, D)]


def test_diff_marks_added_lines_and_collapses_unchanged_modules(report: str) -> None:
    section_b = candidate_section(report, B)
    assert '<span class="line add">+ Show your steps.</span>' in section_b
    assert '<span class="line ctx">  Solve it.</span>' in section_b
    assert "unchanged from the parent" in section_b  # B's "check" equals the seed's
    section_d = candidate_section(report, D)
    assert f'diff against parent <a class="mono" href="#cand-{B}"' in section_d
    assert "same as parent cccc0000" in section_d  # D's "check" came from its second parent


def test_heatmap_has_one_rect_per_cell_with_tooltips(report: str) -> None:
    heatmap = svgs(report)[3]
    cells = [r for r in heatmap.iter(f"{SVG_NS}rect") if r.get("class") == "cell"]
    assert len(cells) == 4 * 4
    tooltips = [c.find(f"{SVG_NS}title").text for c in cells]  # type: ignore[union-attr]
    assert f"{C} · {IMG}: not scored" in tooltips
    assert f"{D} · v3: 1" in tooltips
    fills = {t: c.get("fill") for t, c in zip(tooltips, cells, strict=True)}
    assert fills[f"{A} · v2: 0"] != fills[f"{A} · v1: 1"]


def test_hostile_strings_are_escaped_everywhere(report: str) -> None:
    assert SCRIPT not in report and IMG not in report
    assert "<script" not in report.lower() and "<img" not in report.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in report
    assert "<title>GEPA report: &lt;script&gt;" in report  # the run name from config.yaml
    assert "Content-Security-Policy" in report


def test_header_and_tables_show_summary_facts(report: str) -> None:
    assert "max_metric_calls" in report and "36 of 40" in report
    assert "2 accepted, 1 rejected; skipped iterations: 1; failed examples: 0" in report
    assert "<dt>merges</dt><dd>1 accepted, 1 rejected</dd>" in report
    assert "0.300 → 0.800" in report and "(n = 10)" in report
    assert "<td>task</td>" in report and "4,000" in report and "4,900" in report  # total in
    assert "Cost: $0.0123" in report


# --- incomplete runs -----------------------------------------------------------------------


def test_report_renders_without_summary(tmp_path: Path) -> None:
    run = build_run(tmp_path / "run", summary=False)
    page = write_report(run, tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    assert "summary.json is missing" in page and "not finished" in page
    assert len(svgs(page)) == 4
    assert "from the last checkpoint" in page and "4,000" in page
    data = load_report_data(run)
    assert data.headline.best_id == D  # from frontier.json
    assert data.headline.metric_calls == 36  # from the events
    assert data.headline.test is None
    (run / "frontier.json").unlink()
    unscored = _candidate("ffff00000006", SEED, [A], "mutation", 6, 0.0, 40) | {"val_score": None}
    with (run / "candidates.jsonl").open("a") as handle:
        handle.write(json.dumps(unscored) + "\n")
    assert load_report_data(run).headline.best_id == D  # the top val score in candidates.jsonl


def test_report_of_a_run_that_only_has_its_config(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("name: early\n")
    page = write_report(run).read_text(encoding="utf-8")
    assert "No candidate has been scored yet" in page and "<svg" not in page


def test_damaged_lines_are_skipped_and_noted(tmp_path: Path) -> None:
    run = build_run(tmp_path / "run")
    with (run / "events.jsonl").open("a") as handle:
        handle.write('{"event": "CandidateAdd')  # cut off mid-write
    (run / "summary.json").write_text("{not json")
    data = load_report_data(run)
    assert any("events.jsonl: 1 damaged line" in n for n in data.notes)
    assert any("summary.json" in n for n in data.notes)
    assert len(data.best_curve) == 4


def test_not_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="no such run directory"):
        write_report(tmp_path / "missing")
    with pytest.raises(RunDirError, match="not a run directory"):
        write_report(tmp_path)


# --- pieces --------------------------------------------------------------------------------


def info(cid: str, parents: tuple[str, ...], val: float | None = None, at: int = 0):
    origin = "merge" if len(parents) > 1 else "mutation" if parents else "seed"
    return CandidateInfo(cid, parents, origin, 0, SEED, val, at)


def test_score_curves_fall_back_to_candidates_without_events() -> None:
    cands = [info(A, (), 0.2, 0), info(B, (A,), 0.6, 9), info(C, (A,), 0.4, 15)]
    best, mean = score_curves([], cands)
    assert best == (CurvePoint(0, 0.2), CurvePoint(9, 0.6), CurvePoint(15, 0.6))
    assert [round(p.value, 3) for p in mean] == [0.2, 0.4, 0.4]
    assert frontier_curve(_events())[-1] == CurvePoint(36, 1.0)


def test_generation_layers_put_a_merge_below_its_deepest_parent() -> None:
    cands = [info("a", ()), info("b", ("a",)), info("c", ("a",))]
    cands += [info("e", ("b",)), info("m", ("e", "c")), info("orphan", ("gone",))]
    layers = [[c.id for c in layer] for layer in generation_layers(cands)]
    assert layers == [["a", "orphan"], ["b", "c"], ["e"], ["m"]]


def test_prompt_diff_and_counts() -> None:
    assert diff_counts("a\nb\nc", "a\nB\nc\nd") == (2, 1)
    html = prompt_diff("keep\nold", "keep\nnew <b>")
    assert '<span class="line del">- old</span>' in html
    assert '<span class="line add">+ new &lt;b&gt;</span>' in html


def test_nice_ticks_and_colour_scale() -> None:
    assert nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0.0, 36.0) == [0.0, 10.0, 20.0, 30.0]
    assert score_color(0.0, 0.0, 1.0) == "#440154" and score_color(1.0, 0.0, 1.0) == "#fde725"
    assert score_color(None, 0.0, 1.0) == "#d9d9d9"


def test_count_chart_has_whole_number_ticks_only() -> None:
    def y_labels(top: float) -> list[str | None]:
        sizes = Series("frontier size", [CurvePoint(3, 1.0), CurvePoint(9, top)], "#000")
        svg = step_chart([sizes], 12, (0.0, top), "metric calls", "candidates", integer_y=True)
        texts = ET.fromstring(svg).iter(f"{SVG_NS}text")
        return [t.text for t in texts if t.get("text-anchor") == "end"]

    assert y_labels(2.0) == ["0", "1", "2"]  # the 0.5 steps are dropped
    assert y_labels(6.0) == ["0", "2", "4", "6"]
