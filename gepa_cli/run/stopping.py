"""Reasons to stop from outside the engine: SIGINT/SIGTERM, a STOP file in the
run directory, the wall-clock budget, and a model outage (a step whose
evaluations nearly all failed, or a model that keeps failing call after call)."""

from __future__ import annotations

import copy
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from gepa_cli.engine.types import Evaluator, Example, Prompts, Rollout
from gepa_cli.lm.base import Completion, LMError, Message
from gepa_cli.lm.cache import CacheableLM, with_temperature
from gepa_cli.rundir.directory import STOP_FILE

OUTAGE_MIN_EVALS = 3
"""Fewer evaluations than this (in a batch or a step) are never judged an outage."""
OUTAGE_ERROR_SHARE = 0.9
"""A batch or a step in which at least this share of the evaluations failed is an outage."""


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
    if (run_dir / STOP_FILE).exists():
        return "stop_file"
    if max_time_s is not None and clock.elapsed() >= max_time_s:
        return "max_time"
    return None


class EvaluationWatch:
    """The engine's evaluator, watched: counts each step's evaluations and failures and
    remembers the worst evaluation batch, so the run loop can tell an outage (nearly all
    of a batch or of the step failed) from an example failing now and then."""

    def __init__(self, inner: Evaluator) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self.begin_step()

    def begin_step(self) -> None:
        with self._lock:
            self._evaluated = 0
            self._failed = 0
            self._worst: tuple[int, int] | None = None  # (failed, evaluated) of a failed batch

    def evaluate(self, prompts: Prompts, examples: Sequence[Example]) -> list[Rollout]:
        rollouts = self.inner.evaluate(prompts, examples)
        failed = sum(1 for r in rollouts if r.error is not None)
        with self._lock:
            self._evaluated += len(rollouts)
            self._failed += failed
            if _mostly_failed(failed, len(rollouts)):
                self._worst = (failed, len(rollouts))
        return rollouts

    def outage(self) -> str | None:
        """How this step's evaluations failed, if that looks like an outage; else None."""
        with self._lock:
            if self._worst is not None:
                failed, evaluated = self._worst
                return f"{failed} of {evaluated} evaluations of one batch failed"
            if _mostly_failed(self._failed, self._evaluated):
                return f"{self._failed} of {self._evaluated} evaluations failed"
        return None


def _mostly_failed(failed: int, evaluated: int) -> bool:
    return evaluated >= OUTAGE_MIN_EVALS and failed >= OUTAGE_ERROR_SHARE * evaluated


class FailFastLM:
    """Wraps a model client; after `limit` calls in a row failed for good (LMError after
    the client's own retries) with no success between, every later call fails at once.
    Any other exception from the client is turned into an LMError, so a protocol slip
    costs one example (or one reflection), never the run.

    A tripped guard turns a total outage into a quick stop instead of hours of
    retries; the run loop checks `tripped` after every step. Cache hits never reach
    it when it sits inside the response cache.
    """

    def __init__(self, inner: CacheableLM, limit: int) -> None:
        self.inner: CacheableLM = inner
        self.limit = max(1, limit)
        self.name = inner.name
        self.role = inner.role
        self._lock = threading.Lock()
        self._failures_in_a_row = 0
        self.last_error = ""

    @property
    def tripped(self) -> bool:
        with self._lock:
            return self._failures_in_a_row >= self.limit

    def cache_identity(self) -> dict[str, Any]:
        return self.inner.cache_identity()

    def with_temperature(self, temperature: float) -> FailFastLM:
        """The inner model at `temperature` behind this same guard (one failure count)."""
        hotter = copy.copy(self)
        hotter.inner = with_temperature(self.inner, temperature)
        return hotter

    def complete(self, messages: Sequence[Message]) -> Completion:
        if self.tripped:
            raise LMError(
                f"{self.last_error} (not retried: {self.limit} calls in a row failed before)"
            )
        try:
            completion = self.inner.complete(messages)
        except Exception as exc:
            error = exc if isinstance(exc, LMError) else _as_lm_error(self.inner.name, exc)
            with self._lock:
                self._failures_in_a_row += 1
                self.last_error = str(error)
            if error is exc:
                raise
            raise error from exc
        with self._lock:
            self._failures_in_a_row = 0
        return completion


def _as_lm_error(name: str, exc: Exception) -> LMError:
    """A client that broke the LM protocol (raised something else than LMError)."""
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    return LMError(f"{name}: unexpected client failure ({detail})")
