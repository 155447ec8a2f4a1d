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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from gepa_cli.engine import events as ev
from gepa_cli.engine.state import EngineState
from gepa_cli.rundir_views import non_dominated

Stats = Callable[[], Mapping[str, int]]
"""Live LM counters: {"lm_calls": int, "tokens": int, "errors": int}."""

MAX_ERROR_LINES = 3


@dataclass(frozen=True)
class ResumePoint:
    """Where a resumed run starts: the numbers the display shows before any new event."""

    iteration: int
    metric_calls: int
    candidates: int
    frontier_size: int
    best_id: str
    best_val_score: float
    seed_val_score: float

    @staticmethod
    def from_state(state: EngineState) -> ResumePoint:
        best = state.best_id()
        return ResumePoint(
            state.iteration, state.metric_calls, len(state.candidates),
            len(non_dominated(state)), best, state.mean_val_score(best),
            state.mean_val_score(state.seed_id()),
        )  # fmt: skip


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


def short_id(cid: str) -> str:
    return f"{cid[:6]}.."


def minibatch_score(value: float) -> str:
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


@dataclass(frozen=True)
class Outcome:
    """What the latest iteration did: a proposal (accepted or not), a skip, or an addition."""

    iteration: int
    parent_id: str
    text: str  # e.g. "module solve: 1.0 -> 2.0 accepted (9b1c07.. val 0.733)"
    verdict: str  # accepted | rejected | skipped | added


class RunProgress:
    """The numbers of a run so far, folded from events."""

    def __init__(self, max_metric_calls: int | None = None) -> None:
        self.max_metric_calls = max_metric_calls
        self.iteration = 0
        self.metric_calls = 0
        self.candidates = 0
        self.frontier_size = 0
        self.best_id: str | None = None
        self.best_val_score: float | None = None
        self.seed_val_score: float | None = None
        self.last: Outcome | None = None
        self.failed_examples = 0
        self.stopped_because: str | None = None

    def resume_from(self, point: ResumePoint) -> None:
        self.iteration, self.metric_calls = point.iteration, point.metric_calls
        self.candidates, self.frontier_size = point.candidates, point.frontier_size
        self.best_id, self.best_val_score = point.best_id, point.best_val_score
        self.seed_val_score = point.seed_val_score

    def update(self, event: ev.Event) -> None:
        calls = getattr(event, "metric_calls", None)
        if isinstance(calls, int):
            self.metric_calls = max(self.metric_calls, calls)
        if isinstance(event, ev.SeedEvaluated):
            self.candidates = max(self.candidates, 1)
            self.seed_val_score = event.val_score
            self._offer_best(event.candidate_id, event.val_score)
        elif isinstance(event, ev.IterationStarted):
            self.iteration = event.iteration
        elif isinstance(event, ev.IterationSkipped):
            detail = f" ({one_line(event.detail)})" if event.detail else ""
            text = f"skipped: {event.reason}{detail}"
            self.last = Outcome(event.iteration, event.parent_id, text, "skipped")
        elif isinstance(event, ev.ProposalEvaluated):
            self.last = _proposal_outcome(event)
        elif isinstance(event, ev.CandidateAdded):
            self._added(event)
        elif isinstance(event, ev.FrontierChanged):
            self.frontier_size = len(event.frontier)
            self.best_id, self.best_val_score = event.best_id, event.best_val_score
        elif isinstance(event, ev.ExampleFailed):
            self.failed_examples += 1
        elif isinstance(event, ev.RunFinished):
            self.stopped_because = event.stopped_because
            self.best_id, self.best_val_score = event.best_id, event.best_val_score

    def _offer_best(self, cid: str, score: float) -> None:
        if self.best_val_score is None or score > self.best_val_score:
            self.best_id, self.best_val_score = cid, score

    def _added(self, event: ev.CandidateAdded) -> None:
        self.candidates += 1
        self._offer_best(event.candidate_id, event.val_score)
        val = f"{short_id(event.candidate_id)} val {event.val_score:.3f}"
        last = self.last
        if last is not None and last.verdict == "accepted" and last.iteration == event.iteration:
            self.last = replace(last, text=f"{last.text} ({val})")
        else:
            parents = "+".join(short_id(p) for p in event.parents) or "-"
            text = f"{event.origin} of {parents}: {val}"
            self.last = Outcome(
                event.iteration, event.parents[0] if event.parents else "", text, "added"
            )

    def status(self) -> str:
        """`best 0.733 (seed 0.400) | frontier 3 | calls 58/300`."""
        best = "-" if self.best_val_score is None else f"{self.best_val_score:.3f}"
        seed = "-" if self.seed_val_score is None else f"{self.seed_val_score:.3f}"
        return f"best {best} (seed {seed}) | frontier {self.frontier_size} | {self.calls_text()}"

    def calls_text(self) -> str:
        cap = "" if self.max_metric_calls is None else f"/{self.max_metric_calls}"
        return f"calls {self.metric_calls}{cap}"


def _proposal_outcome(event: ev.ProposalEvaluated) -> Outcome:
    verdict = "accepted" if event.accepted else "rejected"
    scores = f"{minibatch_score(event.parent_minibatch_score)} -> "
    scores += minibatch_score(event.child_minibatch_score)
    text = f"module {','.join(event.modules)}: {scores} {verdict}"
    return Outcome(event.iteration, event.parent_id, text, verdict)


def outcome_line(outcome: Outcome) -> str:
    """`iter 7 parent 3f2a91.. module solve: 1.0 -> 2.0 accepted (9b1c07.. val 0.733)`."""
    parent = f" parent {short_id(outcome.parent_id)}" if outcome.parent_id else ""
    return f"iter {outcome.iteration}{parent} {outcome.text}"


def _no_stats() -> Mapping[str, int]:
    return {}


def stats_text(stats: Mapping[str, int]) -> str:
    return (
        f"{stats.get('lm_calls', 0):,} LM calls, {stats.get('tokens', 0):,} tokens, "
        f"{stats.get('errors', 0)} LM errors"
    )


def summary_rows(summary: Mapping[str, Any], stats: Mapping[str, int]) -> list[tuple[str, str]]:
    """The result as (label, value) pairs; keys absent from `summary` are left out.

    The live LM counters fill in when the summary has no `lm_calls`; LM errors show if any.
    """
    rows: list[tuple[str, str]] = []
    best, seed = summary.get("best_val_score"), summary.get("seed_val_score")
    if summary.get("best_candidate"):
        rows.append(("best candidate", str(summary["best_candidate"])))
    if isinstance(best, int | float):
        seed_text = f" (seed {seed:.3f})" if isinstance(seed, int | float) else ""
        rows.append(("best val score", f"{best:.3f}{seed_text}"))
    test = summary.get("test")
    if isinstance(test, Mapping) and "best" in test:
        rows.append(("test", f"{test['seed']:.3f} -> {test['best']:.3f} (n={test.get('n')})"))
    for key in ("candidates", "iterations", "metric_calls", "lm_calls", "tokens"):
        if isinstance(summary.get(key), int):
            rows.append((key.replace("_", " "), f"{summary[key]:,}"))
    if isinstance(summary.get("cost_usd"), int | float):
        rows.append(("cost", f"${summary['cost_usd']:.4f}"))
    if "lm_calls" not in summary and stats:
        rows.append(("LM usage", stats_text(stats)))
    elif stats.get("errors"):
        rows.append(("LM errors", str(stats["errors"])))
    if summary.get("stopped_because"):
        rows.append(("stopped because", str(summary["stopped_because"])))
    return rows


def _opens_pending_line(event: ev.Event) -> bool:
    """An accepted proposal or an added candidate: its line waits for the frontier update."""
    accepted = isinstance(event, ev.ProposalEvaluated) and event.accepted
    return accepted or isinstance(event, ev.CandidateAdded)


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

    def __init__(self, stream: TextIO, stats: Stats = _no_stats) -> None:
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
        elif _opens_pending_line(event):
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
        self, console: Console, stats: Stats = _no_stats, refresh_per_second: float = 2
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
    live_stats = stats if stats is not None else _no_stats
    if kind == "rich":
        return RichDisplay(Console(file=stream), live_stats)
    if kind == "plain":
        return PlainDisplay(stream, live_stats)
    if kind == "none":
        return NullDisplay()
    raise ValueError(f"unknown display {kind!r}; choose rich, plain or none")
