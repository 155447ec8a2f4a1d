"""MLflow tracking of a run (`tracking.mlflow`): an observer of the engine's events.

One MLflow run per gepa run, found again on resume by a tag that names the run
directory (`gepa.run_key`), so a resumed run continues the same MLflow run. At the
start: params from the resolved config (no prompts, no secrets) and tags (task type,
models, executor). After each iteration: best and mean val score (the mean over the
frontier's candidates), frontier size, candidates, metric calls and cost. At the end:
`summary.json`, `best/`, `report.html` and `candidates.jsonl` as artifacts, with
secrets masked (`redact.py`), and the run's status.

`mlflow` is imported here only; this module is loaded only when a config asks for it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gepa_cli.config import ExperimentConfig, config_to_dict
from gepa_cli.display.progress import RunProgress
from gepa_cli.display.run_info import RunFacts, RunInfo
from gepa_cli.engine import events as ev
from gepa_cli.tracking.redact import Redactor, flatten

MAX_PARAM_CHARS = 500
BATCH = 100
"""MLflow takes at most 100 params (and 1000 metrics) per batch."""
ARTIFACTS = ("summary.json", "report.html", "candidates.jsonl")
KILLED = {"interrupted", "sigint", "sigterm"}
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "15"}
"""An unreachable server costs seconds, not MLflow's minutes of retries (env overrides)."""


class MlflowTracker:
    """Logs one gepa run to MLflow; any method may raise (the caller guards it)."""

    def __init__(self, cfg: ExperimentConfig, run_dir: Path) -> None:
        spec = cfg.tracking.mlflow
        assert spec is not None
        self.cfg, self.run_dir = cfg, Path(run_dir)
        self.redact = Redactor.for_config(cfg)
        self.uri, self.experiment = spec.tracking_uri, spec.experiment or cfg.name
        self.progress = RunProgress(cfg.budget.max_metric_calls)
        self.cost: float | None = None
        self.run_id: str | None = None
        self._step: int | None = None
        self._client: Any = None

    # --- the Display protocol ---------------------------------------------------------

    def start(self, info: RunInfo) -> None:
        if info.resume is not None:
            self.progress.resume_from(info.resume)
        for name, value in HTTP_DEFAULTS.items():
            os.environ.setdefault(name, value)
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        from mlflow import MlflowClient

        self._client = MlflowClient(tracking_uri=self.uri)
        self.run_id = self._find_or_create_run()
        self._log_params()

    def handle(self, event: ev.Event) -> None:
        iteration = getattr(event, "iteration", None)
        if isinstance(iteration, int) and self._step is not None and iteration != self._step:
            self._log_row(self._step)
        self.progress.update(event)
        if isinstance(event, ev.SeedEvaluated):
            self._log_row(0)
        elif isinstance(iteration, int):
            self._step = iteration

    def facts(self, facts: RunFacts) -> None:
        self.cost = facts.cost_usd

    def warning(self, message: str) -> None:
        """Warnings are the console's business."""

    def finish(self, summary: Mapping[str, Any]) -> None:
        if self.run_id is None:
            return
        if self._step is not None:
            self._log_row(self._step)
        self._log_summary(summary)
        self._log_artifacts()
        reason = str(summary.get("stopped_because"))
        status = "KILLED" if reason in KILLED else "FAILED" if reason == "outage" else "FINISHED"
        self._client.set_terminated(self.run_id, status=status)

    # --- the MLflow run -----------------------------------------------------------------

    def _find_or_create_run(self) -> str:
        client = self._client
        experiment = client.get_experiment_by_name(self.experiment)
        experiment_id = (
            experiment.experiment_id
            if experiment is not None
            else client.create_experiment(self.experiment)
        )
        key = hashlib.sha256(str(self.run_dir.resolve()).encode()).hexdigest()[:20]
        found = client.search_runs(
            [experiment_id], filter_string=f"tags.`gepa.run_key` = '{key}'", max_results=1
        )
        if found:
            run_id = str(found[0].info.run_id)
            client.update_run(run_id, status="RUNNING")
            return run_id
        run = client.create_run(experiment_id, tags=self._tags(key), run_name=self.run_dir.name)
        return str(run.info.run_id)

    def _tags(self, key: str) -> dict[str, str]:
        models = self.cfg.models
        tags = {
            "gepa.run_key": key,
            "gepa.run_dir": str(self.run_dir.resolve()),
            "gepa.task_type": self.cfg.task.type,
            "gepa.task_model": models.task.model,
            "gepa.reflection_model": models.reflection.model,
            "gepa.executor": self.cfg.runtime.executor,
        }
        return {name: self.redact.text(value) for name, value in tags.items()}

    def _log_params(self) -> None:
        """The resolved config as params; on resume only keys it lacks are added, and a
        value changed by `--set` is recorded as a `gepa.resumed_with.<key>` tag."""
        from mlflow.entities import Param, RunTag

        config = config_to_dict(self.cfg)
        config["task"] = {k: v for k, v in config["task"].items() if k != "prompts"}
        wanted = {key: self._param_text(value) for key, value in flatten(config).items()}
        known = self._client.get_run(self.run_id).data.params
        params = [Param(k, v) for k, v in wanted.items() if k not in known]
        tags = [RunTag(f"gepa.resumed_with.{k}", v) for k, v in wanted.items()
                if k in known and known[k] != v]  # fmt: skip
        for start in range(0, len(params), BATCH):
            self._client.log_batch(self.run_id, params=params[start : start + BATCH])
        if tags:
            self._client.log_batch(self.run_id, tags=tags)

    def _param_text(self, value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return self.redact.text(text)[:MAX_PARAM_CHARS]

    def _log_row(self, step: int) -> None:
        progress = self.progress
        if progress.best_val_score is None:
            return
        frontier = [progress.val_scores[c] for c in progress.frontier if c in progress.val_scores]
        values = {
            "best_val_score": progress.best_val_score,
            "mean_val_score": sum(frontier) / len(frontier) if frontier else None,
            "frontier_size": progress.frontier_size,
            "candidates": progress.candidates,
            "metric_calls": progress.metric_calls,
            "cost_usd": self.cost,
        }
        self._log_metrics(values, step)
        self._step = None

    def _log_summary(self, summary: Mapping[str, Any]) -> None:
        found = summary.get("test")
        test: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        values = {
            "final_best_val_score": summary.get("best_val_score"),
            "final_seed_val_score": summary.get("seed_val_score"),
            "test_seed_score": test.get("seed"),
            "test_best_score": test.get("best"),
            "lm_calls": summary.get("lm_calls"),
            "total_metric_calls": summary.get("metric_calls"),
            "total_cost_usd": summary.get("cost_usd"),
        }
        self._log_metrics(values, int(summary.get("iterations") or self.progress.iteration))

    def _log_metrics(self, values: Mapping[str, Any], step: int) -> None:
        from mlflow.entities import Metric

        stamp = _now_ms()
        metrics = [Metric(name, float(value), stamp, step) for name, value in values.items()
                   if isinstance(value, int | float) and not isinstance(value, bool)]  # fmt: skip
        if metrics:
            self._client.log_batch(self.run_id, metrics=metrics)

    def _log_artifacts(self) -> None:
        """The run's result files, each copied with secrets masked, then uploaded."""
        with tempfile.TemporaryDirectory(prefix="gepa-mlflow-") as staging:
            root = Path(staging)
            for name in ARTIFACTS:
                self._stage(self.run_dir / name, root / name)
            best = self.run_dir / "best"
            if best.is_dir():
                for path in sorted(best.iterdir()):
                    self._stage(path, root / "best" / path.name)
            if any(root.iterdir()):
                self._client.log_artifacts(self.run_id, str(root))

    def _stage(self, source: Path, target: Path) -> None:
        if not source.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            text = source.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            shutil.copyfile(source, target)
            return
        target.write_text(self.redact.text(text), encoding="utf-8")


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
