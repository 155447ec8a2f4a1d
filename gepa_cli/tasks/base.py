"""The Task protocol: the program being optimized and its metric."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gepa_cli.engine.types import Example, ModuleCall, Prompts
from gepa_cli.errors import BadInputError
from gepa_cli.lm.base import LM


@dataclass(frozen=True)
class TaskOutput:
    """The program's final output for one example and the trace of every module call."""

    output: str
    trace: tuple[ModuleCall, ...] = ()


@dataclass(frozen=True)
class Score:
    """The metric's verdict: a score in [0, 1] and textual feedback for reflection.

    `module_feedback` optionally gives a module-specific feedback text; modules
    without an entry get `feedback`.
    """

    score: float
    feedback: str
    module_feedback: Mapping[str, str] = field(default_factory=dict)


class TaskConfigError(BadInputError, ValueError):
    """A task's options or data are unusable; the message names the key or field."""


class Task(Protocol):
    """A program with named modules (one instruction each) and a metric.

    `run` may call `lm` several times (once per module, say) and must record each
    call in the trace. Both methods may raise; the evaluator turns an exception
    into a score of 0 with the error as feedback.
    """

    modules: tuple[str, ...]
    required_fields: tuple[str, ...]

    def run(self, example: Example, prompts: Prompts, lm: LM) -> TaskOutput: ...

    def score(self, example: Example, output: TaskOutput) -> Score: ...


TaskFactory = Any
"""A callable `(options: Mapping[str, Any]) -> Task` registered for a task type."""
