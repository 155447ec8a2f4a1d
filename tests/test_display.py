"""The console displays, fed a scripted sequence of engine events."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from gepa_cli.display.live import Throughput, duration_text, preview_lines, sparkline
from gepa_cli.display.plain import (
    NullDisplay,
    PlainDisplay,
    ResumePoint,
    RichDisplay,
    RunFacts,
    RunInfo,
    RunProgress,
    make_display,
    summary_rows,
)
from gepa_cli.engine import events as ev
from gepa_cli.engine.state import Candidate, EngineState
from gepa_cli.rundir.views import FrontierMember

A, B, C, D = "aaaaaa111111", "bbbbbb222222", "cccccc333333", "dddddd444444"
INFO = RunInfo(
    run_dir=Path("runs/x"),
    name="demo",
    task_model="embedded/qwen2.5-coder-1.5b",
    reflection_model="openai/gpt-4.1-mini",
    max_metric_calls=300,
    train_size=20,
    val_size=30,
    task_endpoint="embedded llama.cpp at http://127.0.0.1:5000/v1",
    reflection_endpoint="openai-compatible at https://api.openai.com/v1",
)
SOLVE = ("solve",)
EVENTS: list[ev.Event] = [
    ev.SeedEvaluated(A, 0.4, 30),
    ev.FrontierChanged(0, (A,), A, 0.4),
    ev.IterationStarted(1, A, SOLVE, ("t1", "t2", "t3"), 30),
    ev.ProposalEvaluated(1, A, B, SOLVE, {"solve": "b"}, 1.0, 1.0, False, 36),
    ev.IterationStarted(2, A, SOLVE, ("t4", "t5", "t6"), 36),
    ev.IterationSkipped(2, A, "all_perfect", "the parent is perfect on this minibatch", 39),
    ev.IterationStarted(3, A, SOLVE, ("t7", "t8", "t9"), 39),
    ev.ExampleFailed(C, "t8", "LM timeout\nafter 6 retries"),
    ev.ProposalEvaluated(3, A, C, SOLVE, {"solve": "c"}, 1.0, 2.0, True, 42),
    ev.CandidateAdded(3, C, (A,), "mutation", 0.7333, 72),
    ev.FrontierChanged(3, (A, C), C, 0.7333),
    ev.IterationStarted(4, C, SOLVE, ("t1", "t2", "t3"), 72),
    ev.ProposalEvaluated(4, C, D, SOLVE, {"solve": "d"}, 2.0, 2.5, True, 78),
    ev.CandidateAdded(4, D, (C,), "mutation", 0.5, 108),  # the frontier does not change
    ev.RunFinished("max_metric_calls", C, 0.7333, 108, 4),
]
SUMMARY = {
    "best_candidate": C,
    "best_val_score": 0.7333,
    "seed_val_score": 0.4,
    "test": {"seed": 0.35, "best": 0.61, "n": 50},
    "metric_calls": 108,
    "lm_calls": 140,
    "tokens": 51234,
    "cost_usd": None,
    "candidates": 3,
    "iterations": 4,
    "stopped_because": "max_metric_calls",
}


def stats() -> dict[str, int]:
    return {"lm_calls": 140, "tokens": 51234, "errors": 2}


def run_plain(events: list[ev.Event], info: RunInfo = INFO) -> list[str]:
    stream = io.StringIO()
    display = PlainDisplay(stream, stats)
    display.start(info)
    for event in events:
        display.handle(event)
    display.finish(SUMMARY)
    return stream.getvalue().splitlines()


def test_plain_display_prints_one_line_per_iteration() -> None:
    lines = run_plain(EVENTS)
    assert lines[:4] == [
        "gepa: run demo in runs/x",
        "task model embedded/qwen2.5-coder-1.5b (embedded llama.cpp at http://127.0.0.1:5000/v1)",
        "reflection model openai/gpt-4.1-mini (openai-compatible at https://api.openai.com/v1)",
        "train 20 | val 30 | metric calls 300",
    ]
    assert lines[4:11] == [
        "seed aaaaaa.. val 0.400 | calls 30/300",
        "iter 1 parent aaaaaa.. module solve: 1.0 -> 1.0 rejected"
        " | best 0.400 (seed 0.400) | frontier 1 | calls 36/300",
        "iter 2 parent aaaaaa.. skipped: all_perfect (the parent is perfect on this minibatch)"
        " | best 0.400 (seed 0.400) | frontier 1 | calls 39/300",
        "error: candidate cccccc.. example t8: LM timeout after 6 retries",
        "iter 3 parent aaaaaa.. module solve: 1.0 -> 2.0 accepted (cccccc.. val 0.733)"
        " | best 0.733 (seed 0.400) | frontier 2 | calls 72/300",
        "iter 4 parent cccccc.. module solve: 2.0 -> 2.5 accepted (dddddd.. val 0.500)"
        " | best 0.733 (seed 0.400) | frontier 2 | calls 108/300",
        "stopped: max_metric_calls after 4 iterations",
    ]
    done = lines[11]
    assert done.startswith("done: best candidate cccccc333333 | best val score 0.733 (seed 0.400)")
    assert "test 0.350 -> 0.610 (n=50)" in done and "cost" not in done
    assert "lm calls 140 | tokens 51,234 | LM errors 2 |" in done
    assert lines[12:] == ["results in runs/x"]


def test_plain_display_caps_error_lines() -> None:
    failures: list[ev.Event] = [ev.ExampleFailed(A, f"e{i}", "boom") for i in range(10)]
    lines = [line for line in run_plain(failures) if line.startswith("error:")]
    assert len(lines) == 4
    assert lines[-1] == "error: further failed examples are only counted (see events.jsonl)"


def test_plain_display_shows_where_a_resumed_run_starts() -> None:
    state = EngineState()
    state.add_candidate(Candidate(A, {"solve": "a"}, (), "seed", 0, 0), {"v1": 1.0, "v2": 0.0})
    state.add_candidate(Candidate(C, {"solve": "c"}, (A,), "mutation", 2, 9), {"v1": 0, "v2": 1})
    state.iteration, state.metric_calls = 5, 40
    point = ResumePoint.from_state(state)
    frontier = (FrontierMember(A, 1, 0.5), FrontierMember(C, 1, 0.5))
    assert point == ResumePoint(5, 40, 2, 2, A, 0.5, 0.5, frontier)
    lines = run_plain([], RunInfo(**{**INFO.__dict__, "max_metric_calls": None, "resume": point}))
    assert lines[0] == "gepa: resuming demo in runs/x"
    assert "train 20 | val 30 | metric calls unlimited" in lines
    assert "resumed at iter 5 | best 0.500 (seed 0.500) | frontier 2 | calls 40" in lines


def test_progress_takes_the_best_from_added_candidates_and_the_frontier() -> None:
    progress = RunProgress(300)
    for event in EVENTS[:10]:
        progress.update(event)
    assert (progress.best_id, progress.best_val_score) == (C, 0.7333)
    assert progress.frontier_size == 1  # FrontierChanged not seen yet
    progress.update(EVENTS[10])
    assert progress.frontier_size == 2 and progress.candidates == 2
    assert progress.failed_examples == 1 and progress.iteration == 3


def test_rich_display_renders_the_run_and_the_result() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    display = RichDisplay(console, stats)
    display.start(INFO)
    for event in EVENTS[:11]:
        display.handle(event)
    snapshot = Console(file=io.StringIO(), width=120, color_system=None)
    snapshot.print(display.render())
    panel = snapshot.file.getvalue()  # type: ignore[attr-defined]
    assert "0.733 cccccc..  (seed 0.400)" in panel
    assert "72/300 metric calls" in panel
    assert "module solve: 1.0 -> 2.0 ACCEPTED (cccccc.. val 0.733)" in panel
    assert "2 non-dominated of 2 candidates" in panel
    assert "140 LM calls, 51,234 tokens" in panel and "1 example scored 0" in panel
    assert "embedded llama.cpp at http://127.0.0.1:5000/v1" in panel
    display.finish(SUMMARY)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "0.733" in out and "GEPA result" in out and C in out
    assert "0.350 -> 0.610 (n=50)" in out


def test_rich_display_tolerates_events_before_start_and_finish_without_start() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    display = RichDisplay(console)
    display.handle(EVENTS[0])
    display.finish({"best_candidate": A, "best_val_score": 0.4})
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "0.400" in out and "LM usage" not in out  # no counters: no usage row


def test_make_display_picks_the_kind_and_the_stream() -> None:
    stream = io.StringIO()
    plain = make_display("plain", stream, stats)
    assert isinstance(plain, PlainDisplay) and plain.stream is stream
    rich = make_display("rich", stream)
    assert isinstance(rich, RichDisplay) and rich.console.file is stream
    quiet = make_display("none", stream)
    assert isinstance(quiet, NullDisplay)
    quiet.start(INFO)
    for event in EVENTS:
        quiet.handle(event)
    quiet.finish(SUMMARY)
    assert stream.getvalue() == ""
    with pytest.raises(ValueError, match="unknown display 'fancy'"):
        make_display("fancy", stream)


def test_summary_rows_fall_back_to_live_counters() -> None:
    rows = dict(summary_rows({"best_candidate": A, "cost_usd": 0.0123}, stats()))
    assert rows["LM usage"] == "140 LM calls, 51,234 tokens, 2 LM errors"
    assert rows["cost"] == "$0.0123" and "test" not in rows


# --- the live view: curve, leaders, proposal, throughput, ETA, cost ---------------------------


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def render_text(display: RichDisplay) -> str:
    snapshot = Console(file=io.StringIO(), width=120, color_system=None)
    snapshot.print(display.render())
    return snapshot.file.getvalue()  # type: ignore[attr-defined]


def test_rich_display_shows_curve_leaders_proposal_speed_eta_and_cost() -> None:
    clock, counters = FakeClock(), {"lm_calls": 100, "tokens": 0, "errors": 0}
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    display = RichDisplay(console, lambda: counters, clock=clock)
    display.start(INFO)
    for event in EVENTS[:11]:
        display.handle(event)
        if isinstance(event, ev.FrontierChanged):
            display.facts(RunFacts(0.0123, 1.0, {A: 1, C: 2} if len(event.frontier) > 1 else None))
    clock.now, counters["lm_calls"] = 110.0, 130  # 72 metric calls and 30 LM calls in 10 s
    panel = render_text(display)
    assert "▁▁▁█  best per iteration, 0.400 → 0.733" in panel  # best after the seed and iters 1..3
    assert "cccccc.. val 0.733  2 wins" in panel and "aaaaaa.. val 0.400  1 win " in panel
    assert panel.index("cccccc.. val 0.733") < panel.index("aaaaaa.. val 0.400")
    assert "iter 3 solve (accepted)" in panel
    assert "7.2 metric calls/s, 3.0 LM calls/s" in panel
    assert "ETA 32s for 228 metric calls left" in panel  # 228 left at 7.2 per second
    assert "$0.0123 of $1.00" in panel
    display.finish(SUMMARY)


def test_rich_display_before_any_facts_or_time_shows_no_rate_cost_or_leaders() -> None:
    display = RichDisplay(Console(file=io.StringIO(), width=120), clock=FakeClock())
    display.start(RunInfo(**{**INFO.__dict__, "max_metric_calls": None}))
    display.handle(EVENTS[0])
    panel = render_text(display)
    assert "elapsed 0s" in panel and "calls/s" not in panel and "ETA" not in panel
    assert "cost" not in panel and "leaders" not in panel  # no FrontierChanged yet
    display.finish({})


def test_rich_display_truncates_the_proposed_prompt_and_shows_markup_as_text() -> None:
    long = "[bold]Rule[/bold]: " + " ".join(f"word{i}" for i in range(200))
    display = RichDisplay(Console(file=io.StringIO(), width=120), clock=FakeClock())
    display.start(INFO)
    display.handle(ev.ProposalEvaluated(1, A, B, SOLVE, {"solve": long}, 0.0, 1.0, False, 9))
    panel = render_text(display)
    assert "iter 1 solve (rejected)" in panel and "[bold]Rule[/bold]: word0" in panel
    assert "word30" in panel and "word199" not in panel and "..." in panel
    display.finish({})


def test_resumed_rich_display_lists_leaders_from_the_resume_point() -> None:
    point = ResumePoint(
        5, 40, 2, 2, A, 0.5, 0.5, (FrontierMember(A, 1, 0.5), FrontierMember(C, 3, 0.6))
    )
    display = RichDisplay(Console(file=io.StringIO(), width=120), clock=FakeClock())
    display.start(RunInfo(**{**INFO.__dict__, "resume": point}))
    panel = render_text(display)
    assert panel.index("cccccc.. val 0.600  3 wins") < panel.index("aaaaaa.. val 0.500  1 win")
    display.finish({})


def test_plain_display_adds_the_cost_once_the_run_loop_reports_one() -> None:
    stream = io.StringIO()
    display = PlainDisplay(stream, stats)
    display.start(INFO)
    for event in EVENTS[:4]:
        display.handle(event)
    display.facts(RunFacts(0.25, None))
    for event in EVENTS[4:6]:
        display.handle(event)
    display.warning("report.html not written\n(disk full)")
    lines = stream.getvalue().splitlines()
    assert lines[5].endswith("| calls 36/300")  # iter 1: no cost known yet
    assert lines[6].endswith("| calls 39/300 | $0.2500")
    assert lines[7] == "warning: report.html not written (disk full)"


def test_sparkline_scales_from_min_to_max_and_thins_long_series() -> None:
    assert sparkline([0.0, 0.5, 1.0]) == "▁▅█"
    assert sparkline([0.3, 0.3]) == "▁▁" and sparkline([]) == ""
    thin = sparkline([float(i) for i in range(100)], width=10)
    assert len(thin) == 10 and thin[0] == "▁" and thin[-1] == "█"


def test_preview_lines_and_durations_and_throughput() -> None:
    assert preview_lines({"a": "short"}) == ["short"]
    assert preview_lines({"a": "x", "b": "y"}) == ["[a] x | [b] y"]
    lines = preview_lines({"a": "one\ntwo\nthree\nfour"}, lines=3, width=20)
    assert lines == ["one", "two", "three..."]
    assert [duration_text(s) for s in (4.6, 185, 7620)] == ["5s", "3m05s", "2h07m"]
    assert Throughput.measure(0, 5, 5, 10) is None
    rate = Throughput.measure(10, 20, 5, 100)
    assert rate == Throughput(2.0, 0.5, 50.0)
    assert Throughput.measure(10, 0, 5, 100) == Throughput(0.0, 0.5, None)
