"""What a display is told rather than what it folds: `RunInfo` at the start (with the
`ResumePoint` of a resumed run), `RunFacts` from the run loop after each event, and the
`Stats` callable that reads the live LM counters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gepa_cli.engine.state import EngineState
from gepa_cli.rundir.views import FrontierMember, non_dominated


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
    frontier: tuple[FrontierMember, ...] = ()
    reflections: Mapping[str, float] = field(default_factory=dict)

    @staticmethod
    def from_state(state: EngineState) -> ResumePoint:
        best = state.best_id()
        frontier = tuple(non_dominated(state))
        return ResumePoint(
            state.iteration, state.metric_calls, len(state.candidates),
            len(frontier), best, state.mean_val_score(best),
            state.mean_val_score(state.seed_id()), frontier, dict(state.reflections),
        )  # fmt: skip


Stats = Callable[[], Mapping[str, int]]
"""Live LM counters: {"lm_calls": int, "tokens": int, "errors": int}."""


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


@dataclass(frozen=True)
class RunFacts:
    """What the run loop knows beyond the events, sent after each event."""

    cost_usd: float | None  # dollars so far; None when no model has a price
    max_cost_usd: float | None
    frontier_wins: Mapping[str, int] | None = None  # after a FrontierChanged; None: unchanged

    def cost_text(self) -> str | None:
        """`$0.0123` or `$0.0123 of $1.00`; None when the cost is not tracked."""
        if self.cost_usd is None:
            return None
        cap = "" if self.max_cost_usd is None else f" of ${self.max_cost_usd:.2f}"
        return f"${self.cost_usd:.4f}{cap}"


def no_stats() -> Mapping[str, int]:
    return {}
