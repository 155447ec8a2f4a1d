"""Reasons to stop from outside the engine: SIGINT/SIGTERM, a STOP file in the
run directory, and the wall-clock budget."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any


class StopSignals:
    """Within `with`, the first SIGINT or SIGTERM asks for a clean stop after the
    current step; a second SIGINT interrupts at once (KeyboardInterrupt)."""

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = "sigint" if signum == signal.SIGINT else "sigterm"

    def __enter__(self) -> StopSignals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class Clock:
    """Elapsed run time, continued across resumes."""

    def __init__(self, already_elapsed: float = 0.0) -> None:
        self._start = time.monotonic() - already_elapsed

    def elapsed(self) -> float:
        return time.monotonic() - self._start


def external_stop_reason(
    signals: StopSignals, run_dir: Path, clock: Clock, max_time_s: float | None
) -> str | None:
    """Why the run must stop now for a reason outside the engine, or None."""
    if signals.requested:
        return signals.requested
    if (run_dir / "STOP").exists():
        return "stop_file"
    if max_time_s is not None and clock.elapsed() >= max_time_s:
        return "max_time"
    return None
