"""The experiment config's values and the one declaration of every key (DESIGN §3).

Each key is a field of a frozen dataclass: its annotation is the type, its default
the default, and a pydantic `Field` in `Annotated` holds its YAML name, bounds,
pattern and help text (see `config.declaration`). `build` reads YAML through these
declarations, `serialize` writes them back, `json_schema` and `reference` publish
them. Values hold absolute paths, prompt files already read and `max_time` in seconds.

This module holds the top level and the budget, search, runtime and output sections;
`schema.task` and `schema.models` hold the task and models sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field

from gepa_cli.config.declaration import also_accepts
from gepa_cli.config.duration import DURATION_PATTERN
from gepa_cli.config.schema.integrations import (
    EXECUTORS,
    Executor,
    MlflowSpec,
    RaySpec,
    TrackingSpec,
)
from gepa_cli.config.schema.models import (
    FREE,
    PROVIDERS,
    REFLECTION_TEMPERATURE,
    ModelSpec,
    ModelsSpec,
    Price,
)
from gepa_cli.config.schema.task import MODULE_NAME, DataSpec, SplitSpec, TaskSpec

__all__ = [
    "CANDIDATE_SELECTIONS",
    "EXECUTORS",
    "FREE",
    "MODULE_NAME",
    "MODULE_SELECTIONS",
    "PROVIDERS",
    "REFLECTION_TEMPERATURE",
    "BudgetSpec",
    "DataSpec",
    "ExperimentConfig",
    "MergeSpec",
    "MlflowSpec",
    "ModelSpec",
    "ModelsSpec",
    "OutputSpec",
    "Price",
    "RaySpec",
    "RuntimeSpec",
    "SearchSpec",
    "SplitSpec",
    "TaskSpec",
    "TrackingSpec",
    "default_runs_dir",
]

CandidateSelection = Literal["pareto", "current_best", "epsilon_greedy"]
ModuleSelection = Literal["round_robin", "all"]
ReflectionPromptName = Literal["default", "paper"]
"""Built-in meta-prompts selectable by name in `search.reflection_prompt`."""
ValPolicy = Literal["full", "staged"]
CANDIDATE_SELECTIONS: tuple[str, ...] = get_args(CandidateSelection)
MODULE_SELECTIONS: tuple[str, ...] = get_args(ModuleSelection)


def default_runs_dir() -> Path:
    """`runs` under the current working directory, as an absolute path."""
    return Path("runs").resolve()


@dataclass(frozen=True)
class BudgetSpec:
    """When to stop; null (None) means no limit of that kind."""

    max_metric_calls: Annotated[
        int | None,
        Field(
            ge=1,
            description="(candidate, example) evaluations not served from the cache.",
        ),
    ] = 300
    max_cost_usd: Annotated[
        float | None,
        Field(
            gt=0,
            description="US dollars; needs a model price. Before each iteration: stop if the "
            "cost so far plus the costliest step so far would exceed it.",
        ),
    ] = None
    max_time_s: Annotated[
        float | None,
        Field(
            alias="max_time",
            gt=0,
            description='Wall-clock limit: seconds or a duration such as "30m", "2h", "1h30m".',
            json_schema_extra=also_accepts({"type": "string", "pattern": DURATION_PATTERN}),
        ),
    ] = None


@dataclass(frozen=True)
class MergeSpec:
    """System-aware crossover of two frontier candidates."""

    enabled: Annotated[bool, Field(description="Try merges of frontier candidates.")] = False
    max_invocations: Annotated[
        int, Field(ge=0, description="At most this many accepted merges.")
    ] = 5


@dataclass(frozen=True)
class SearchSpec:
    """How the engine picks parents, modules and minibatches."""

    candidate_selection: Annotated[
        CandidateSelection, Field(description="How each iteration picks its parent.")
    ] = "pareto"
    epsilon: Annotated[
        float, Field(ge=0, le=1, description="Exploration rate of epsilon_greedy.")
    ] = 0.1
    module_selection: Annotated[
        ModuleSelection, Field(description="Modules rewritten per proposal: one in turn, or all.")
    ] = "round_robin"
    minibatch_size: Annotated[
        int, Field(ge=1, description="Train examples per reflection minibatch.")
    ] = 3
    rollouts_per_example: Annotated[
        int,
        Field(
            ge=1,
            description="Rollouts per evaluation of a candidate on an example, for a noisy "
            "task model (temperature > 0) or metric: the score is their mean, each rollout "
            "is a metric call, and the reflection sees rollouts that disagree.",
        ),
    ] = 1
    skip_perfect: Annotated[
        bool,
        Field(description="Skip an iteration whose parent is perfect on the whole minibatch."),
    ] = True
    perfect_score: Annotated[
        float, Field(description="The score skip_perfect counts as perfect.")
    ] = 1.0
    merge: Annotated[MergeSpec, Field(description="System-aware crossover.")] = field(
        default_factory=MergeSpec
    )
    reflection_prompt: Annotated[
        ReflectionPromptName | Path | None,
        Field(
            description="The meta-prompt: 'default', 'paper' (the GEPA paper's), or a file "
            "with {module}, {instruction}, {examples}."
        ),
    ] = None
    parallel_proposals: Annotated[
        int,
        Field(ge=1, description="K proposals per iteration from independently chosen parents."),
    ] = 1
    reflection_retries: Annotated[
        int,
        Field(
            ge=0,
            le=10,
            description="Retries of a reflection whose reply was unchanged or unusable, each "
            "with a changed request; they cost LM calls, never metric calls.",
        ),
    ] = 2
    val_policy: Annotated[
        ValPolicy,
        Field(
            description="How an accepted child is scored on val: full (all of val), or staged "
            "(first a stratified subsample; the rest only if it beats its parent there or "
            "wins an example outright, else it is kept as a partial candidate).",
        ),
    ] = "full"
    val_stage_size: Annotated[
        int | None,
        Field(
            ge=1,
            description="Val examples in the first stage of staged (null: a third of val, "
            "rounded up, at least 4).",
        ),
    ] = None


@dataclass(frozen=True)
class RuntimeSpec:
    """Concurrency, caching and network behaviour of model calls."""

    max_concurrency: Annotated[
        int, Field(ge=1, description="In-flight requests per endpoint (embedded: at most 4).")
    ] = 8
    cache: Annotated[
        bool, Field(description="The response cache (cache.sqlite in the run directory).")
    ] = True
    request_timeout: Annotated[float, Field(gt=0, description="Seconds per request.")] = 120.0
    max_retries: Annotated[
        int, Field(ge=0, description="Retries on 429, 5xx, timeouts and empty replies.")
    ] = 6
    executor: Annotated[
        Executor,
        Field(
            description="Where example rollouts run: threads (this process) or ray (Ray "
            "tasks; needs gepa-cli[ray]). The engine, budget, cache and checkpoint stay here."
        ),
    ] = "threads"
    ray: Annotated[RaySpec, Field(description="The Ray executor's settings.")] = field(
        default_factory=RaySpec
    )


@dataclass(frozen=True)
class OutputSpec:
    """Where run directories go."""

    runs_dir: Annotated[
        Path,
        Field(
            description="Where run directories go; relative to the working directory.",
            json_schema_extra={"default": "runs"},
        ),
    ] = field(default_factory=default_runs_dir)


@dataclass(frozen=True, kw_only=True)
class ExperimentConfig:
    """A whole experiment: what to optimize, with which models, within which budget."""

    name: Annotated[str, Field(pattern=r"\S", description="Used in the run directory's name.")]
    seed: Annotated[
        int, Field(ge=0, description="All randomness derives from (seed, iteration).")
    ] = 0
    task: Annotated[TaskSpec, Field(description="What is optimized, on which data.")]
    models: Annotated[ModelsSpec, Field(description="The task and reflection models.")]
    budget: Annotated[BudgetSpec, Field(description="When to stop (null: no limit).")] = field(
        default_factory=BudgetSpec
    )
    search: Annotated[SearchSpec, Field(description="How proposals are made.")] = field(
        default_factory=SearchSpec
    )
    runtime: Annotated[RuntimeSpec, Field(description="Model-call behaviour.")] = field(
        default_factory=RuntimeSpec
    )
    output: Annotated[OutputSpec, Field(description="Where runs are written.")] = field(
        default_factory=OutputSpec
    )
    tracking: Annotated[TrackingSpec, Field(description="Experiment tracking (MLflow).")] = field(
        default_factory=TrackingSpec
    )
