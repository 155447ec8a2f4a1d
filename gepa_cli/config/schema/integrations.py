"""Declarations of the keys that reach beyond one process: the Ray executor
(`runtime.ray`) and experiment tracking (`tracking.mlflow`). Both need optional
extras (`gepa-cli[ray]`, `gepa-cli[mlflow]`); the config only names them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, get_args

from pydantic import Field

Executor = Literal["threads", "ray"]
EXECUTORS: tuple[str, ...] = get_args(Executor)

RAY_ADDRESS_PATTERN = r"^(auto|local|ray://\S+|[A-Za-z0-9_.\-]+:[0-9]+)$"
"""auto, local, a Ray Client URL or a cluster's GCS host:port."""


@dataclass(frozen=True)
class RaySpec:
    """Where example rollouts run when `runtime.executor` is `ray`."""

    address: Annotated[
        str,
        Field(
            pattern=RAY_ADDRESS_PATTERN,
            description="auto (the cluster this machine belongs to: RAY_ADDRESS or "
            "`ray start`), local (a private Ray on this machine, stopped at the end), "
            "ray://host:port (Ray Client) or host:port (a cluster's GCS).",
        ),
    ] = "auto"
    num_cpus_per_rollout: Annotated[
        float,
        Field(gt=0, description="CPUs Ray reserves for each example rollout."),
    ] = 1.0


@dataclass(frozen=True)
class MlflowSpec:
    """One MLflow run per gepa run: params, per-iteration metrics, tags, artifacts."""

    tracking_uri: Annotated[
        str | None,
        Field(
            description="The MLflow tracking URI (http(s)://..., sqlite:///file.db, a "
            "folder); null: MLflow's default (MLFLOW_TRACKING_URI, else sqlite:///mlflow.db).",
        ),
    ] = None
    experiment: Annotated[
        str | None,
        Field(description="The MLflow experiment; null: the config's name."),
    ] = None


@dataclass(frozen=True)
class TrackingSpec:
    """Experiment trackers that observe the run (a failing tracker never ends it)."""

    mlflow: Annotated[
        MlflowSpec | None,
        Field(description="Log to MLflow (needs gepa-cli[mlflow]); null: off."),
    ] = None
