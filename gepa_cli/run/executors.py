"""Choosing where rollouts run (`runtime.executor`) and checking, before a run starts,
that the optional extras its config asks for (`gepa-cli[ray]`, `gepa-cli[mlflow]`)
are installed. Ray and MLflow are imported only when a config uses them."""

from __future__ import annotations

from gepa_cli.config import ConfigError, ExperimentConfig
from gepa_cli.config.schema import RuntimeSpec
from gepa_cli.lm.base import LM
from gepa_cli.run.evaluator import ConcurrentEvaluator
from gepa_cli.tasks.base import Task


def make_evaluator(
    runtime: RuntimeSpec, task: Task, lm: LM, rollouts_per_example: int = 1
) -> ConcurrentEvaluator:
    """The thread-pool evaluator, or its Ray-backed twin for `executor: ray` (one rollout
    per example only: `check_extras` refuses more)."""
    if runtime.executor == "ray":
        from gepa_cli.run.ray_executor import RayEvaluator

        return RayEvaluator(task, lm, runtime.max_concurrency, runtime.ray, runtime.max_retries)
    return ConcurrentEvaluator(task, lm, runtime.max_concurrency, rollouts_per_example)


def check_extras(cfg: ExperimentConfig, task: Task) -> None:
    """A one-line error (exit 2) naming the extra to install, or a task Ray cannot ship."""
    if cfg.runtime.executor == "ray" and cfg.search.rollouts_per_example > 1:
        raise ConfigError(
            "rollouts_per_example > 1 needs runtime.executor: threads (the Ray executor "
            "runs one rollout per example)",
            key="search.rollouts_per_example",
        )
    if cfg.runtime.executor == "ray":
        from gepa_cli.run.ray_executor import check_ray_ready

        check_ray_ready(task)
    if cfg.tracking.mlflow is not None:
        from gepa_cli.tracking import check_mlflow_installed

        check_mlflow_installed()
