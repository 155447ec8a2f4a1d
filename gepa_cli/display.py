"""The console display of a run: a Rich live view, plain lines, or nothing.

Displays only consume engine events (and a `stats()` callable for LM usage);
they never touch the engine. `RunProgress` folds events into the numbers both
visible displays show; `make_display` picks one for `--display`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from gepa_cli.engine import events as ev
from gepa_cli.run_progress import (  # noqa: F401  (ResumePoint, summary_rows re-exported)
    ResumePoint,
    RunProgress,
    no_stats,
    one_line,
    opens_pending_line,
    outcome_line,
    short_id,
    stats_text,
    summary_rows,
)

Stats = Callable[[], Mapping[str, int]]
"""Live LM counters: {"lm_calls": int, "tokens": int, "errors": int}."""

MAX_ERROR_LINES = 3


@dataclass(frozen=True)
class RunInfo:
    """What a display says at the start: where results go and which model runs where.

    An endpoint is e.g. "embedded llama.cpp at http://127.0.0.1:PORT/v1" or
    "openai-compatible at URL"; leave it empty if the model text already says it.
    """

    run_dir: Path | str
    name: str  # the config's `name`
    task_model: str
    reflection_model: str
    max_metric_calls: int | None
    train_size: int
    val_size: int
    task_endpoint: str = ""
    reflection_endpoint: str = ""
    resume: ResumePoint | None = None

    def model_line(self, role: str) -> str:
        """`<model> (<endpoint>)` for role "task" or "reflection"."""
        model, where = (
            (self.task_model, self.task_endpoint)
            if role == "task"
            else (self.reflection_model, self.reflection_endpoint)
        )
        return f"{model} ({where})" if where else model


class Display(Protocol):
    def start(self, info: RunInfo) -> None: ...
    def handle(self, event: ev.Event) -> None: ...
    def finish(self, summary: Mapping[str, Any]) -> None: ...


class NullDisplay:
    """Shows nothing (--display none)."""

    def start(self, info: RunInfo) -> None:
        pass

    def handle(self, event: ev.Event) -> None:
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
        quiet = isinstance(event, ev.ExampleFailed | ev.FrontierChanged)
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

    def _continues_pending(self, event: ev.Event) -> bool:
        """True for the CandidateAdded that completes the pending accepted proposal."""
        last = self.progress.last
        return (
            self._pending
            and isinstance(event, ev.CandidateAdded)
            and last is not None
            and last.verdict == "accepted"
            and last.iteration == event.iteration
        )

    def _emit_last(self) -> None:
        if self.progress.last is not None:
            self._write(f"{outcome_line(self.progress.last)} | {self.progress.status()}")

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


class RichDisplay:
    """A live panel on the console, refreshed on each event and a few times a second."""

    def __init__(
        self, console: Console, stats: Stats = no_stats, refresh_per_second: float = 2
    ) -> None:
        self.console = console
        self.stats = stats
        self.refresh_per_second = refresh_per_second
        self.progress = RunProgress()
        self.info: RunInfo | None = None
        self._live: Live | None = None
        self._lock = threading.Lock()
        self._started = time.monotonic()

    def start(self, info: RunInfo) -> None:
        with self._lock:
            self.info = info
            self.progress.max_metric_calls = info.max_metric_calls
            if info.resume:
                self.progress.resume_from(info.resume)
        self._started = time.monotonic()
        self._live = Live(
            console=self.console,
            get_renderable=self.render,
            refresh_per_second=self.refresh_per_second,
            transient=False,
        )
        self._live.start()

    def handle(self, event: ev.Event) -> None:
        with self._lock:
            self.progress.update(event)
        if self._live is not None:
            self._live.refresh()

    def finish(self, summary: Mapping[str, Any]) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
            if not self.console.is_terminal:
                self.console.line()  # rich leaves the last frame unterminated off a terminal
        table = Table(title="GEPA result", show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        for label, value in summary_rows(summary, self.stats()):
            table.add_row(label, value)
        if self.info is not None:
            table.add_row("run directory", str(self.info.run_dir))
        self.console.print(table)

    def render(self) -> RenderableType:
        with self._lock:
            return self._render()

    def _render(self) -> RenderableType:
        p, info = self.progress, self.info
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold cyan", no_wrap=True)
        grid.add_column()
        if info is not None:
            grid.add_row("task model", info.model_line("task"))
            grid.add_row("reflection", info.model_line("reflection"))
        grid.add_row("budget", self._budget_bar())
        grid.add_row("iteration", str(p.iteration))
        best = "-" if p.best_val_score is None else f"{p.best_val_score:.3f}"
        seed = "-" if p.seed_val_score is None else f"{p.seed_val_score:.3f}"
        best_id = f" {short_id(p.best_id)}" if p.best_id else ""
        grid.add_row("best val", Text(f"{best}{best_id}  (seed {seed})", style="bold green"))
        grid.add_row("frontier", f"{p.frontier_size} non-dominated of {p.candidates} candidates")
        grid.add_row("last", self._last_text())
        grid.add_row("LM", stats_text(self.stats()))
        if p.failed_examples:
            plural = "" if p.failed_examples == 1 else "s"
            failed = f"{p.failed_examples} example{plural} scored 0 after an error"
            grid.add_row("failed", Text(failed, style="red"))
        elapsed = int(time.monotonic() - self._started)
        grid.add_row("elapsed", f"{elapsed // 60}m{elapsed % 60:02d}s")
        title = f"gepa · {info.name}" if info is not None else "gepa"
        return Panel(Group(grid), title=title, title_align="left", border_style="blue")

    def _budget_bar(self) -> RenderableType:
        p = self.progress
        if p.max_metric_calls is None:
            return Text(f"{p.metric_calls} metric calls (no cap)")
        bar = Table.grid(padding=(0, 1))
        bar.add_row(
            ProgressBar(total=p.max_metric_calls, completed=p.metric_calls, width=30),
            f"{p.metric_calls}/{p.max_metric_calls} metric calls",
        )
        return bar

    def _last_text(self) -> Text:
        last = self.progress.last
        if last is None:
            return Text("-", style="dim")
        line = outcome_line(last)
        if last.verdict == "accepted":
            line = line.replace(" accepted", " ACCEPTED", 1)
        style = {"accepted": "green", "added": "green", "rejected": "yellow"}.get(
            last.verdict, "dim"
        )
        return Text(line, style=style)


def make_display(
    kind: str, console_stream: TextIO | None = None, stats: Stats | None = None
) -> Display:
    """The display for `--display rich|plain|none`, writing to `console_stream` (stderr)."""
    stream = console_stream if console_stream is not None else sys.stderr
    live_stats = stats if stats is not None else no_stats
    if kind == "rich":
        return RichDisplay(Console(file=stream), live_stats)
    if kind == "plain":
        return PlainDisplay(stream, live_stats)
    if kind == "none":
        return NullDisplay()
    raise ValueError(f"unknown display {kind!r}; choose rich, plain or none")
