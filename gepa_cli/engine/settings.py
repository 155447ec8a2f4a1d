"""The search settings the engine needs: a projection of the experiment config.

The runner builds one `EngineSettings` from the resolved config (every field set from
there); the defaults below only serve callers that build an engine by hand, e.g. tests.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineSettings:
    """The search settings the engine needs (a projection of the experiment config)."""

    seed: int = 0
    minibatch_size: int = 3
    candidate_selection: str = "pareto"
    epsilon: float = 0.1
    module_selection: str = "round_robin"
    skip_perfect: bool = True
    perfect_score: float = 1.0
    max_metric_calls: int | None = None
    rollouts_per_example: int = 1
    """Rollouts per (candidate, example) evaluation; each one is a metric call."""
    reflection_template: str | None = None
    merge_enabled: bool = False
    merge_max_invocations: int = 5
    merge_subsample: int = 5
    parallel_proposals: int = 1
    reflection_retries: int = 2
    reflection_retry_temperature: float | None = None
    """Temperature of the retries (None: the reflection model's own)."""
    val_policy: str = "full"
    """How accepted children are scored on val: `full`, or `staged` (a subsample first)."""
    val_stage_size: int | None = None
    """Val examples of the first stage of `staged` (None: a third of val, at least 4)."""
