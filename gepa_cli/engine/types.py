"""Value types shared by the engine, the tasks and the evaluator.

Everything here is a frozen dataclass or a Protocol: the vocabulary in which
the engine asks for evaluations and receives their results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Prompts = Mapping[str, str]
"""A candidate's instructions: module name -> instruction text."""


@dataclass(frozen=True)
class Example:
    """One dataset row after field mapping. `data` holds the task's field names."""

    id: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class ModuleCall:
    """What one module saw and produced while running one example."""

    module: str
    inputs: str
    output: str


@dataclass(frozen=True)
class Rollout:
    """The scored result of running one candidate on one example."""

    example_id: str
    score: float
    feedback: str
    output: str = ""
    trace: tuple[ModuleCall, ...] = ()
    module_feedback: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "example_id": self.example_id,
            "score": self.score,
            "feedback": self.feedback,
            "output": self.output,
            "trace": [[c.module, c.inputs, c.output] for c in self.trace],
            "module_feedback": dict(self.module_feedback),
            "error": self.error,
        }

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> Rollout:
        return Rollout(
            example_id=raw["example_id"],
            score=float(raw["score"]),
            feedback=raw["feedback"],
            output=raw.get("output", ""),
            trace=tuple(ModuleCall(m, i, o) for m, i, o in raw.get("trace", [])),
            module_feedback=dict(raw.get("module_feedback", {})),
            error=raw.get("error"),
        )


class Evaluator(Protocol):
    """Runs a candidate on examples and scores each one.

    Implementations run examples concurrently but return rollouts in the order
    of `examples`. They never raise for one example's failure: that example
    scores 0 with the error as feedback.
    """

    def evaluate(self, prompts: Prompts, examples: Sequence[Example]) -> list[Rollout]: ...
