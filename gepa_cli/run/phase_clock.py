"""Wall time per phase of a run (seed, minibatch, reflection, val, test) for summary.json.

The engine is pure and never reads a clock, so the run layer times what it hands the
engine: a `PhasedEvaluator` attributes every evaluation to a phase by what it is asked
to score (val rows: `val`, train rows: `minibatch`; the seed's scoring and the final
test scoring are marked by the run loop with `PhaseClock.marking`), and a `PhasedLM`
times the reflection model. A phase's time is the wall time during which at least one
of its calls was running, so concurrent calls of one phase are not counted twice; phases
that overlap (parallel proposals) are each counted in full.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from gepa_cli.engine.types import Evaluator, Example, Prompts, Rollout
from gepa_cli.lm.base import LM, Completion, Message

PHASES = ("seed", "minibatch", "reflection", "val", "test")


class PhaseClock:
    """Accumulates, per phase, the wall time during which any call of that phase ran."""

    def __init__(
        self, start: Mapping[str, Any] | None = None, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._seconds = dict.fromkeys(PHASES, 0.0)
        for name, value in (start or {}).items():
            if name in self._seconds and isinstance(value, int | float):
                self._seconds[name] = float(value)
        self._active = dict.fromkeys(PHASES, 0)
        self._since = dict.fromkeys(PHASES, 0.0)
        self.mark: str | None = None
        """A phase that overrides the evaluator's own attribution (seed, test)."""

    @contextmanager
    def timing(self, phase: str) -> Iterator[None]:
        """Count the wall time of the enclosed call towards `phase`."""
        with self._lock:
            if self._active[phase] == 0:
                self._since[phase] = self._now()
            self._active[phase] += 1
        try:
            yield
        finally:
            with self._lock:
                self._active[phase] -= 1
                if self._active[phase] == 0:
                    self._seconds[phase] += self._now() - self._since[phase]

    @contextmanager
    def marking(self, phase: str) -> Iterator[None]:
        """Attribute every evaluation inside the block to `phase` (the seed, the test)."""
        before, self.mark = self.mark, phase
        try:
            yield
        finally:
            self.mark = before

    def seconds(self) -> dict[str, float]:
        """Seconds per phase so far (completed calls only), rounded to milliseconds."""
        with self._lock:
            return {name: round(value, 3) for name, value in self._seconds.items()}


class PhasedEvaluator:
    """An evaluator that times each evaluation under the phase its examples belong to."""

    def __init__(self, inner: Evaluator, clock: PhaseClock, val: Sequence[Example]) -> None:
        self.inner = inner
        self.clock = clock
        self.val_ids = frozenset(ex.id for ex in val)

    def phase_of(self, examples: Sequence[Example]) -> str:
        if self.clock.mark is not None:
            return self.clock.mark
        on_val = bool(examples) and all(ex.id in self.val_ids for ex in examples)
        return "val" if on_val else "minibatch"

    def evaluate(self, prompts: Prompts, examples: Sequence[Example]) -> list[Rollout]:
        with self.clock.timing(self.phase_of(examples)):
            return self.inner.evaluate(prompts, examples)


class PhasedLM:
    """A model whose calls are timed under one phase (the reflection model)."""

    def __init__(self, inner: LM, clock: PhaseClock, phase: str = "reflection") -> None:
        self.inner = inner
        self.clock = clock
        self.phase = phase
        self.name = inner.name

    def complete(self, messages: Sequence[Message]) -> Completion:
        with self.clock.timing(self.phase):
            return self.inner.complete(messages)

    def with_temperature(self, temperature: float) -> PhasedLM:
        """The same model at another temperature (for reflection retries), still timed."""
        change = getattr(self.inner, "with_temperature", None)
        inner = change(temperature) if change is not None else self.inner
        return PhasedLM(inner, self.clock, self.phase)
