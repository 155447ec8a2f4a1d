"""The console display of a run: a Rich live view, plain lines, or nothing.

Displays only consume engine events, a `stats()` callable for LM usage and the
`RunFacts` the run loop adds (cost, frontier win counts); they never touch the
engine. `RunProgress` folds events into the numbers both visible displays show;
`make_display` picks one for `--display`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Protocol, TextIO

from rich.console import Console

from gepa_cli.display.live import RichDisplay
from gepa_cli.display.progress import (  # noqa: F401  (re-exported for the runner and tests)
    RunProgress,
    opens_pending_line,
    outcome_line,
)
from gepa_cli.display.run_info import (  # noqa: F401  (re-exported for the runner and tests)
    ResumePoint,
    RunFacts,
    RunInfo,
    Stats,
    no_stats,
)
from gepa_cli.display.summary_text import one_line, short_id, summary_rows
from gepa_cli.engine import events as ev

__all__ = [
    "Display", "NullDisplay", "PlainDisplay", "ResumePoint", "RichDisplay", "RunFacts",
    "RunInfo", "RunProgress", "make_display", "summary_rows",
]  # fmt: skip

MAX_ERROR_LINES = 3


class Display(Protocol):
    def start(self, info: RunInfo) -> None: ...
    def handle(self, event: ev.Event) -> None: ...
    def facts(self, facts: RunFacts) -> None: ...
    def warning(self, message: str) -> None: ...
    def finish(self, summary: Mapping[str, Any]) -> None: ...


class NullDisplay:
    """Shows nothing (--display none)."""

    def start(self, info: RunInfo) -> None:
        pass

    def handle(self, event: ev.Event) -> None:
        pass

    def facts(self, facts: RunFacts) -> None:
        pass

    def warning(self, message: str) -> None:
        pass

    def finish(self, summary: Mapping[str, Any]) -> None:
        pass


class PlainDisplay:
    """One line per iteration, for logs and pipes.

    An accepted proposal's line waits for the candidate's val score and the
    frontier update that follow it, so the status it carries is current.
    """

    def __init__(self, stream: TextIO, stats: Stats = no_stats) -> None:
        self.stream = stream
        self.stats = stats
        self.progress = RunProgress()
        self.info: RunInfo | None = None
        self._pending = False  # the last outcome is not printed yet
        self._cost: str | None = None

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def start(self, info: RunInfo) -> None:
        self.info = info
        self.progress.max_metric_calls = info.max_metric_calls
        verb = "resuming" if info.resume else "run"
        self._write(f"gepa: {verb} {info.name} in {info.run_dir}")
        self._write(f"task model {info.model_line('task')}")
        self._write(f"reflection model {info.model_line('reflection')}")
        budget = "unlimited" if info.max_metric_calls is None else str(info.max_metric_calls)
        self._write(f"train {info.train_size} | val {info.val_size} | metric calls {budget}")
        if info.resume:
            self.progress.resume_from(info.resume)
            self._write(f"resumed at iter {info.resume.iteration} | {self.progress.status()}")

    def handle(self, event: ev.Event) -> None:
        quiet = isinstance(event, ev.ExampleFailed | ev.FrontierChanged | ev.ValidationStaged)
        if not (quiet or self._continues_pending(event)):
            self._flush()  # an event of a later step: the pending line is complete
        self.progress.update(event)
        if isinstance(event, ev.SeedEvaluated):
            seed = f"seed {short_id(event.candidate_id)} val {event.val_score:.3f}"
            self._write(f"{seed} | {self.progress.calls_text()}")
        elif opens_pending_line(event):
            self._pending = True
        elif isinstance(event, ev.ProposalEvaluated | ev.IterationSkipped):
            self._emit_last()
        elif isinstance(event, ev.FrontierChanged):
            self._flush()
        elif isinstance(event, ev.ExampleFailed):
            self._example_failed(event)
        elif isinstance(event, ev.RunFinished):
            its = "iteration" if event.iterations == 1 else "iterations"
            self._write(f"stopped: {event.stopped_because} after {event.iterations} {its}")

    def facts(self, facts: RunFacts) -> None:
        self._cost = facts.cost_text()

    def warning(self, message: str) -> None:
        self._write(f"warning: {one_line(message, 300)}")

    def _continues_pending(self, event: ev.Event) -> bool:
        """True for the CandidateAdded that completes the pending accepted proposal."""
        last = self.progress.last
        return (
            self._pending
            and isinstance(event, ev.CandidateAdded | ev.PartialCandidateAdded)
            and last is not None
            and last.verdict == "accepted"
            and last.iteration == event.iteration
        )

    def _emit_last(self) -> None:
        if self.progress.last is not None:
            cost = f" | {self._cost}" if self._cost else ""
            self._write(f"{outcome_line(self.progress.last)} | {self.progress.status()}{cost}")

    def _flush(self) -> None:
        if self._pending:
            self._pending = False
            self._emit_last()

    def _example_failed(self, event: ev.ExampleFailed) -> None:
        count = self.progress.failed_examples
        if count <= MAX_ERROR_LINES:
            where = f"candidate {short_id(event.candidate_id)} example {event.example_id}"
            self._write(f"error: {where}: {one_line(event.error)}")
        if count == MAX_ERROR_LINES:
            self._write("error: further failed examples are only counted (see events.jsonl)")

    def finish(self, summary: Mapping[str, Any]) -> None:
        self._flush()
        rows = summary_rows(summary, self.stats())
        result = " | ".join(f"{label} {value}" for label, value in rows)
        self._write(f"done: {result}" if result else "done")
        if self.info is not None:
            self._write(f"results in {self.info.run_dir}")


def make_display(
    kind: str, console_stream: TextIO | None = None, stats: Stats | None = None
) -> Display:
    """The display for `--display rich|plain|none`, writing to `console_stream` (stderr)."""
    stream = console_stream if console_stream is not None else sys.stderr
    live_stats = stats if stats is not None else no_stats
    if kind == "rich":
        return RichDisplay(Console(file=stream, markup=False), live_stats)  # data is text
    if kind == "plain":
        return PlainDisplay(stream, live_stats)
    if kind == "none":
        return NullDisplay()
    raise ValueError(f"unknown display {kind!r}; choose rich, plain or none")
