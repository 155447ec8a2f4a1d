"""The console displays, fed a scripted sequence of engine events."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from gepa_cli.display import (
    NullDisplay,
    PlainDisplay,
    ResumePoint,
    RichDisplay,
    RunInfo,
    RunProgress,
    make_display,
    summary_rows,
)
from gepa_cli.engine import events as ev
from gepa_cli.engine.state import Candidate, EngineState

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
    assert point == ResumePoint(5, 40, 2, 2, A, 0.5, 0.5)
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
