"""The Rich live view of a run: a panel refreshed on each event and a few times a
second, and the text pieces it is made of (sparkline, prompt preview, throughput, ETA).

It folds events with `RunProgress` like the plain display; everything it shows comes
from engine events, the run loop's `RunFacts` and the `stats()` LM counters.
"""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from gepa_cli.display.progress import RunProgress, outcome_line
from gepa_cli.display.run_info import RunFacts, RunInfo, Stats, no_stats
from gepa_cli.display.summary_text import (
    one_line,
    reflections_text,
    short_id,
    stats_text,
    summary_rows,
)
from gepa_cli.engine import events as ev

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 40) -> str:
    """`values` as unicode blocks from their minimum (▁) to their maximum (█); longer
    series are thinned to `width` points, keeping the last value of each stretch."""
    if len(values) > width:
        values = [values[(i + 1) * len(values) // width - 1] for i in range(width)]
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARK_BLOCKS[0] * len(values)
    top = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[round((v - low) / (high - low) * top)] for v in values)


def preview_lines(prompts: Mapping[str, str], lines: int = 3, width: int = 96) -> list[str]:
    """The start of the proposed instruction(s), wrapped to `width`: at most `lines` lines,
    the last ending in "..." when more was cut. Several modules are named inline."""
    text = " | ".join(
        f"[{module}] {prompt}" if len(prompts) > 1 else prompt for module, prompt in prompts.items()
    )
    wrapped = [line for para in text.splitlines() for line in textwrap.wrap(para, width) or [""]]
    wrapped = [line for line in wrapped if line.strip()] or ["(empty)"]
    if len(wrapped) <= lines:
        return wrapped
    shown = wrapped[:lines]
    shown[-1] = shown[-1][: width - 3] + "..."
    return shown


def duration_text(seconds: float) -> str:
    """`45s`, `3m05s`, `2h07m`."""
    whole = max(0, int(round(seconds)))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


@dataclass(frozen=True)
class Throughput:
    """Calls per second since this process started, and the time the budget has left."""

    metric_calls_per_s: float
    lm_calls_per_s: float
    eta_s: float | None  # None: no metric-call cap, or no rate yet

    @staticmethod
    def measure(
        elapsed_s: float, metric_calls: int, lm_calls: int, metric_calls_left: int | None
    ) -> Throughput | None:
        """From the calls made in `elapsed_s` seconds; None before any time passed."""
        if elapsed_s <= 0:
            return None
        rate = metric_calls / elapsed_s
        eta = None if metric_calls_left is None or rate <= 0 else metric_calls_left / rate
        return Throughput(rate, lm_calls / elapsed_s, eta)

    def text(self) -> str:
        """`2.4 metric calls/s, 3.1 LM calls/s`."""
        return f"{self.metric_calls_per_s:.1f} metric calls/s, {self.lm_calls_per_s:.1f} LM calls/s"


class RichDisplay:
    """A live panel on the console, refreshed on each event and a few times a second:
    budget, best score and its curve, the frontier's leaders, the last outcome and the
    last proposed instruction, throughput, ETA and cost."""

    def __init__(
        self,
        console: Console,
        stats: Stats = no_stats,
        refresh_per_second: float = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.stats = stats
        self.refresh_per_second = refresh_per_second
        self.clock = clock
        self.progress = RunProgress()
        self.info: RunInfo | None = None
        self.run_facts: RunFacts | None = None
        self._live: Live | None = None
        self._lock = threading.Lock()
        self._started = clock()
        self._calls_at_start = (0, 0)  # (metric calls, LM calls) when this process started

    def start(self, info: RunInfo) -> None:
        with self._lock:
            self.info = info
            self.progress.max_metric_calls = info.max_metric_calls
            if info.resume:
                self.progress.resume_from(info.resume)
            self._started = self.clock()
            lm_calls = self.stats().get("lm_calls", 0)
            self._calls_at_start = (self.progress.metric_calls, lm_calls)
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

    def facts(self, facts: RunFacts) -> None:
        with self._lock:
            self.run_facts = facts
            if facts.frontier_wins is not None:
                self.progress.set_wins(facts.frontier_wins)

    def warning(self, message: str) -> None:
        self.console.print(Text(f"warning: {one_line(message, 300)}", style="yellow"))

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
        self._add_score_rows(grid)
        grid.add_row("last", self._last_text())
        if p.proposed is not None:
            grid.add_row("proposed", self._proposed_text())
        grid.add_row("LM", stats_text(self.stats()))
        reflections = reflections_text(p.reflections)
        if reflections is not None:
            grid.add_row("reflections", reflections)
        cost = self.run_facts.cost_text() if self.run_facts is not None else None
        if cost is not None:
            grid.add_row("cost", cost)
        if p.failed_examples:
            plural = "" if p.failed_examples == 1 else "s"
            failed = f"{p.failed_examples} example{plural} scored 0 after an error"
            grid.add_row("failed", Text(failed, style="red"))
        grid.add_row("speed", self._speed_text())
        title = f"gepa · {info.name}" if info is not None else "gepa"
        return Panel(Group(grid), title=Text(title), title_align="left", border_style="blue")

    def _add_score_rows(self, grid: Table) -> None:
        p = self.progress
        best = "-" if p.best_val_score is None else f"{p.best_val_score:.3f}"
        seed = "-" if p.seed_val_score is None else f"{p.seed_val_score:.3f}"
        best_id = f" {short_id(p.best_id)}" if p.best_id else ""
        grid.add_row("best val", Text(f"{best}{best_id}  (seed {seed})", style="bold green"))
        history = p.best_history
        if history:
            curve = Text(sparkline(history, 50), style="green")
            curve.append(f"  best per iteration, {min(history):.3f} → {max(history):.3f}")
            grid.add_row("curve", curve)
        grid.add_row("frontier", f"{p.frontier_size} non-dominated of {p.candidates} candidates")
        leaders = p.leaders()
        if leaders:
            lines = []
            for leader in leaders:
                wins = "" if leader.wins is None else f"  {leader.wins} win"
                plural = "s" if leader.wins is not None and leader.wins != 1 else ""
                lines.append(f"{short_id(leader.id)} val {leader.val_score:.3f}{wins}{plural}")
            grid.add_row("leaders", Text("\n".join(lines)))

    def _proposed_text(self) -> Text:
        proposed = self.progress.proposed
        assert proposed is not None
        verdict = "accepted" if proposed.accepted else "rejected"
        modules = ", ".join(proposed.prompts)
        text = Text(f"iter {proposed.iteration} {modules} ({verdict})\n", style="dim")
        text.append("\n".join(preview_lines(proposed.prompts, 3, 90)), style="italic")
        return text

    def _speed_text(self) -> str:
        p = self.progress
        elapsed = self.clock() - self._started
        metric0, lm0 = self._calls_at_start
        left = None if p.max_metric_calls is None else max(0, p.max_metric_calls - p.metric_calls)
        lm_calls = self.stats().get("lm_calls", lm0)
        rate = Throughput.measure(elapsed, p.metric_calls - metric0, lm_calls - lm0, left)
        parts = [f"elapsed {duration_text(elapsed)}"]
        if rate is not None:
            parts.append(rate.text())
        if rate is not None and rate.eta_s is not None and p.stopped_because is None:
            parts.append(f"ETA {duration_text(rate.eta_s)} for {left} metric calls left")
        return " · ".join(parts)

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
