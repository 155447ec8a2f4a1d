"""Experiment tracking: observers that log a run to a tracker (MLflow) next to the
console display, never able to end the run. The tracker's library is imported only
when a config asks for it (`tracking.mlflow`, extra `gepa-cli[mlflow]`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from gepa_cli.config import ConfigError, ExperimentConfig
from gepa_cli.display.plain import Display


def check_mlflow_installed() -> None:
    """A one-line error naming the extra when `tracking.mlflow` is set without MLflow."""
    try:
        found = importlib.util.find_spec("mlflow") is not None
    except (ImportError, ValueError):  # ValueError: sys.modules["mlflow"] is None
        found = False
    if not found:
        raise ConfigError(
            "MLflow tracking needs the optional extra: pip install 'gepa-cli[mlflow]'",
            key="tracking.mlflow",
        )


def with_tracking(display: Display, cfg: ExperimentConfig, run_dir: Path) -> Display:
    """`display`, plus the trackers `cfg.tracking` asks for."""
    if cfg.tracking.mlflow is None:
        return display
    from gepa_cli.tracking.mlflow_tracker import MlflowTracker
    from gepa_cli.tracking.observer import TrackedDisplay

    tracker = MlflowTracker(cfg, run_dir)
    return TrackedDisplay(display, tracker, "MLflow tracking", tracker.redact)
