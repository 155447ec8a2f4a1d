"""A display that also feeds a tracker: the console display gets every call first-hand;
the tracker gets the same calls behind a guard, so a tracker that fails (an unreachable
server, a refused write) is reported once as a warning and then left out, and the
optimization goes on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from gepa_cli.display.plain import Display, RunFacts, RunInfo
from gepa_cli.engine import events as ev
from gepa_cli.tracking.redact import Redactor


class Tracker(Protocol):
    def start(self, info: RunInfo) -> None: ...
    def handle(self, event: ev.Event) -> None: ...
    def facts(self, facts: RunFacts) -> None: ...
    def finish(self, summary: Mapping[str, Any]) -> None: ...


class TrackedDisplay:
    """`display` plus a guarded `tracker` (named `label` in the warning)."""

    def __init__(
        self, display: Display, tracker: Tracker, label: str, redact: Redactor | None = None
    ) -> None:
        self.display, self.tracker, self.label = display, tracker, label
        self.redact = redact or Redactor()
        self.failure: str | None = None

    def _track(self, method: Callable[..., None], *args: Any) -> None:
        if self.failure is not None:
            return
        try:
            method(*args)
        except Exception as exc:  # a tracker must never cost the run
            detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            self.failure = self.redact.text(detail)
            self.display.warning(f"{self.label} failed ({self.failure}); the run goes on")

    def start(self, info: RunInfo) -> None:
        self.display.start(info)
        self._track(self.tracker.start, info)

    def handle(self, event: ev.Event) -> None:
        self.display.handle(event)
        self._track(self.tracker.handle, event)

    def facts(self, facts: RunFacts) -> None:
        self.display.facts(facts)
        self._track(self.tracker.facts, facts)

    def warning(self, message: str) -> None:
        self.display.warning(message)

    def finish(self, summary: Mapping[str, Any]) -> None:
        self._track(self.tracker.finish, summary)
        self.display.finish(summary)
