"""A display that can never end a run: the first exception it raises is reported once on
stderr, and from then on the display is muted while the optimization goes on. It is also
where data and model text become safe to print: every string a display receives has its
terminal control characters made visible (`safe_text.py`)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from gepa_cli.display.plain import Display, RunFacts, RunInfo
from gepa_cli.display.safe_text import sanitized, visible
from gepa_cli.engine import events as ev


class GuardedDisplay:
    """Forwards to `inner` until it fails once; then reports that failure and stays quiet."""

    def __init__(self, inner: Display, stream: TextIO | None = None) -> None:
        self.inner = inner
        self.stream = stream
        self.failure: str | None = None

    def _call(self, method: Callable[..., None], *args: Any) -> None:
        if self.failure is not None:
            return
        try:
            method(*args)
        except Exception as exc:  # a broken display must not cost the run
            self.failure = visible(f"{type(exc).__name__}: {exc}")
            stream = self.stream or sys.stderr
            print(f"gepa: the display failed ({self.failure}); the run goes on", file=stream)

    def start(self, info: RunInfo) -> None:
        self._call(self.inner.start, sanitized(info))

    def handle(self, event: ev.Event) -> None:
        self._call(self.inner.handle, sanitized(event))

    def facts(self, facts: RunFacts) -> None:
        self._call(self.inner.facts, sanitized(facts))

    def warning(self, message: str) -> None:
        self._call(self.inner.warning, visible(message))

    def finish(self, summary: Mapping[str, Any]) -> None:
        self._call(self.inner.finish, sanitized(summary))
