"""Runs an experiment: wires config -> task, data, models, engine; owns the loop,
the checkpoints, resume, stop signals and the end-of-run test scoring.

Nothing here prints or exits: progress goes to the display, files to the run
directory, and failures up to the CLI as exceptions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gepa_cli.config import ExperimentConfig, config_to_dict, load_config_dict
from gepa_cli.display import ResumePoint, RunInfo, make_display
from gepa_cli.engine.engine import EngineSettings
from gepa_cli.engine.state import EngineState
from gepa_cli.engine.types import Example
from gepa_cli.evaluation import ConcurrentEvaluator
from gepa_cli.lm.usage import UsageMeter
from gepa_cli.model_wiring import ModelSet, build_models
from gepa_cli.run_loop import RunFailure, RunLoop, RunResult, Splits
from gepa_cli.rundir import RunDir
from gepa_cli.tasks.base import Task
from gepa_cli.tasks.data import load_split
from gepa_cli.tasks.registry import build_task, required_fields

__all__ = ["RunFailure", "RunResult", "resume_run", "start_run"]


def absolutize_task_type(cfg: ExperimentConfig, config_dir: Path) -> ExperimentConfig:
    """Make a `python:relative/file.py:Class` task type absolute so resume works anywhere."""
    kind = cfg.task.type
    if not kind.startswith("python:"):
        return cfg
    spec = kind[len("python:") :]
    file_part, sep, cls = spec.rpartition(":")
    if not sep or Path(file_part).is_absolute():
        return cfg
    absolute = f"python:{(config_dir / file_part).resolve()}:{cls}"
    return dataclasses.replace(cfg, task=dataclasses.replace(cfg.task, type=absolute))


def load_task_and_data(cfg: ExperimentConfig) -> tuple[Task, Splits]:
    """Build the task and read its splits (raises TaskConfigError / DataError)."""
    task = build_task(cfg.task.type, cfg.task.options, list(cfg.task.prompts), Path.cwd())
    needed = required_fields(task)
    data = cfg.task.data

    def read(name: str, spec: Any) -> list[Example]:
        return load_split(name, spec.path, cfg.task.fields, needed, spec.offset, spec.limit)

    test = read("test", data.test) if data.test is not None else None
    return task, Splits(read("train", data.train), read("val", data.val), test)


def engine_settings(cfg: ExperimentConfig) -> EngineSettings:
    s = cfg.search
    template = s.reflection_prompt.read_text(encoding="utf-8") if s.reflection_prompt else None
    return EngineSettings(
        seed=cfg.seed,
        minibatch_size=s.minibatch_size,
        candidate_selection=s.candidate_selection,
        epsilon=s.epsilon,
        module_selection=s.module_selection,
        skip_perfect=s.skip_perfect,
        perfect_score=s.perfect_score,
        max_metric_calls=cfg.budget.max_metric_calls,
        reflection_template=template,
    )


def start_run(
    cfg: ExperimentConfig, config_dir: Path, run_dir: Path | None, display_kind: str
) -> RunResult:
    """A fresh run of `cfg` in a new run directory."""
    cfg = absolutize_task_type(cfg, config_dir)
    task, splits = load_task_and_data(cfg)
    rundir = RunDir.create(cfg.output.runs_dir, cfg.name, run_dir)
    rundir.write_config(config_to_dict(cfg))
    return _execute(cfg, rundir, task, splits, None, {}, display_kind)


def resume_run(run_dir: Path, overrides: Sequence[str], display_kind: str) -> RunResult:
    """Continue a run from its checkpoint, with its stored config (plus overrides)."""
    rundir = RunDir.open(run_dir)
    cfg = load_config_dict(
        rundir.read_config(), rundir.path, str(rundir.path / "config.yaml"), overrides
    )
    task, splits = load_task_and_data(cfg)
    state, extra = rundir.load_checkpoint()
    if overrides:
        rundir.write_config(config_to_dict(cfg))
    return _execute(cfg, rundir, task, splits, state, extra, display_kind)


def _execute(
    cfg: ExperimentConfig,
    rundir: RunDir,
    task: Task,
    splits: Splits,
    state: EngineState | None,
    extra: dict[str, Any],
    display_kind: str,
) -> RunResult:
    meter = UsageMeter()
    meter.restore(extra.get("usage", {}))
    cache_path = rundir.path / "cache.sqlite" if cfg.runtime.cache else None
    models, cache = build_models(cfg, meter, cache_path)
    display = make_display(display_kind, stats=lambda: _live_stats(meter))
    evaluator = ConcurrentEvaluator(task, models.task, cfg.runtime.max_concurrency)
    try:
        display.start(_run_info(cfg, rundir, models, splits, state))
        loop = RunLoop(cfg, rundir, splits, models, evaluator, display, meter, state, extra)
        return loop.run()
    finally:
        evaluator.close()
        if cache is not None:
            cache.close()


def _live_stats(meter: UsageMeter) -> dict[str, int]:
    errors = sum(row.get("errors", 0) for row in meter.snapshot().values())
    return {"lm_calls": meter.total_calls(), "tokens": meter.total_tokens(), "errors": errors}


def _run_info(
    cfg: ExperimentConfig,
    rundir: RunDir,
    models: ModelSet,
    splits: Splits,
    state: EngineState | None,
) -> RunInfo:
    resume = ResumePoint.from_state(state) if state is not None and state.candidates else None
    return RunInfo(
        run_dir=str(rundir.path),
        name=cfg.name,
        task_model=models.where["task"],
        reflection_model=models.where["reflection"],
        max_metric_calls=cfg.budget.max_metric_calls,
        train_size=len(splits.train),
        val_size=len(splits.val),
        resume=resume,
    )
