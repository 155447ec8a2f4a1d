"""Runs an experiment: wires config -> task, data, models, engine; owns the loop,
the checkpoints, resume, stop signals and the end-of-run test scoring.

Everything that can be wrong with the input (config, task, data, prompt files,
budget, model setup) is checked before the run directory is created or touched,
so a refused run leaves nothing behind. A run directory is locked for the life
of the process that writes it. Nothing here prints or exits: progress goes to the
display, files to the run directory, and failures up to the CLI as exceptions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from gepa_cli.config import ConfigError, ExperimentConfig, config_to_dict, load_config_dict
from gepa_cli.display.guard import GuardedDisplay
from gepa_cli.display.plain import ResumePoint, RunInfo, make_display
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.state import EngineState
from gepa_cli.engine.types import Example
from gepa_cli.lm.base import LM
from gepa_cli.lm.cache import CacheableLM, CachedLM, ResponseCache
from gepa_cli.lm.usage import UsageMeter
from gepa_cli.run.engine_config import engine_settings
from gepa_cli.run.executors import check_extras, make_evaluator
from gepa_cli.run.loop import RunFailure, RunInterrupted, RunLoop
from gepa_cli.run.models import ModelSet, build_models
from gepa_cli.run.resume_check import check_resumable, checked_extra, run_fingerprint
from gepa_cli.run.rollouts import repeat_warning
from gepa_cli.run.run_parts import RunParts, RunResult, Splits
from gepa_cli.run.select import select_overlap_warning
from gepa_cli.run.spend import FETCH_SEQ_KEY, settle_unrecorded
from gepa_cli.run.stopping import FailFastLM
from gepa_cli.rundir.directory import RunDir
from gepa_cli.tasks.base import Task, TaskConfigError
from gepa_cli.tasks.data import DataError, load_split
from gepa_cli.tasks.registry import build_task, example_checker, required_fields
from gepa_cli.tracking import with_tracking

__all__ = ["RunFailure", "RunInterrupted", "RunResult", "resume_run", "start_run"]

REFLECTION_FAILURES_IN_A_ROW = 3
"""Reflection calls failing for good one after another before the run stops as an outage."""


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


def _build_task(cfg: ExperimentConfig) -> Task:
    """The task; user code that crashes or exits while loading is bad input, not a bug."""
    try:
        return build_task(cfg.task.type, cfg.task.options, list(cfg.task.prompts), Path.cwd())
    except (TaskConfigError, ConfigError, DataError):
        raise
    except (Exception, SystemExit) as exc:
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise TaskConfigError(f"[task.type] {cfg.task.type} failed to load ({detail})") from exc


def load_task_and_data(cfg: ExperimentConfig) -> tuple[Task, Splits]:
    """Build the task and read its splits (raises TaskConfigError / DataError)."""
    task = _build_task(cfg)
    needed = required_fields(task)
    data = cfg.task.data

    check = example_checker(task)

    def read(name: str, spec: Any) -> list[Example]:
        fields = cfg.task.fields
        rows = (spec.offset, spec.limit, spec.stride)
        return load_split(name, spec.path, fields, needed, *rows, check=check)

    test = read("test", data.test) if data.test is not None else None
    select = read("select", data.select) if data.select is not None else None
    return task, Splits(read("train", data.train), read("val", data.val), test, select)


def check_budget_covers_seed(cfg: ExperimentConfig, val_size: int) -> None:
    """A budget that cannot score the seed on val is a config error, found before any spending."""
    budget = cfg.budget.max_metric_calls
    n = cfg.search.rollouts_per_example
    if budget is not None and budget < val_size * n:
        rollouts = f" x {n} rollouts" if n > 1 else ""
        raise ConfigError(
            f"{budget} metric calls cannot even score the seed on the {val_size} val "
            f"examples{rollouts}; raise it to at least {val_size * n} (or limit the val split)",
            key="budget.max_metric_calls",
        )


def prepare(
    cfg: ExperimentConfig, config_dir: Path
) -> tuple[ExperimentConfig, Task, Splits, EngineSettings]:
    """Check everything that can be checked without a model: task, data, prompts, budget."""
    cfg = absolutize_task_type(cfg, config_dir)
    task, splits = load_task_and_data(cfg)
    settings = engine_settings(cfg)  # reads the custom reflection prompt, if any
    check_budget_covers_seed(cfg, len(splits.val))
    check_extras(cfg, task)  # gepa-cli[ray] / [mlflow] when the config uses them
    return cfg, task, splits, settings


def start_run(
    cfg: ExperimentConfig, config_dir: Path, run_dir: Path | None, display_kind: str
) -> RunResult:
    """A fresh run of `cfg` in a new run directory (created only once the input checks out)."""
    cfg, task, splits, settings = prepare(cfg, config_dir)
    meter = UsageMeter()
    models, _ = build_models(cfg, meter, None)
    rundir = RunDir.create(cfg.output.runs_dir, cfg.name, run_dir)
    with rundir.lock():
        rundir.write_config(config_to_dict(cfg))
        rundir.truncate_events(0)  # an explicit --run-dir may hold a run killed before its seed
        run = _Run(cfg, settings, rundir, task, splits, models, meter, run_fingerprint(cfg))
        return _execute(run, None, {}, display_kind)


def resume_run(
    run_dir: Path, overrides: Sequence[str], display_kind: str, force: bool = False
) -> RunResult:
    """Continue a run from its checkpoint, with its stored config (plus overrides).

    Refuses (RunDirError) when the task or data changed since the checkpoint, unless
    `force`. A run killed before its first checkpoint starts over, answered from its cache.
    """
    rundir = RunDir.open(run_dir)
    with rundir.lock():
        cfg = load_config_dict(
            rundir.read_config(), rundir.path, str(rundir.path / "config.yaml"), overrides
        )
        cfg, task, splits, settings = prepare(cfg, rundir.path)
        state, extra = rundir.load_checkpoint() if rundir.has_checkpoint else (None, {})
        extra = checked_extra(extra, rundir.file("checkpoint.json"))
        fingerprint = run_fingerprint(cfg)
        if state is not None:
            val_ids = {ex.id for ex in splits.val}
            check_resumable(rundir.path, state, extra, fingerprint, val_ids, force)
        meter = UsageMeter()
        meter.restore(extra.get("usage", {}))
        models, _ = build_models(cfg, meter, None)
        if overrides:
            rundir.write_config(config_to_dict(cfg))
        rundir.clear_stop_request()
        if state is None:
            rundir.truncate_events(0)  # killed before its first checkpoint: start over
        elif "events_bytes" in extra:  # (checkpoints of older versions do not say)
            rundir.truncate_events(extra["events_bytes"])
        run = _Run(cfg, settings, rundir, task, splits, models, meter, fingerprint)
        return _execute(run, state, extra, display_kind)


def _guarded(lm: LM, limit: int) -> FailFastLM:
    if not hasattr(lm, "cache_identity"):
        raise TypeError(f"{lm!r} cannot be cached (no cache_identity)")
    return FailFastLM(cast(CacheableLM, lm), limit)


def _wire_models(
    cfg: ExperimentConfig, models: ModelSet, meter: UsageMeter, cache: ResponseCache | None
) -> tuple[ModelSet, dict[str, FailFastLM]]:
    """Each role's client behind a fail-fast guard, behind the response cache if any."""
    task_limit = max(8, 2 * cfg.runtime.max_concurrency)
    guards = {
        "task": _guarded(models.task, task_limit),
        "reflection": _guarded(models.reflection, REFLECTION_FAILURES_IN_A_ROW),
    }
    if cache is None:
        return ModelSet(guards["task"], guards["reflection"], models.where), guards
    wired = ModelSet(
        CachedLM(guards["task"], cache, meter),
        CachedLM(guards["reflection"], cache, meter),
        models.where,
    )
    return wired, guards


@dataclass(frozen=True)
class _Run:
    """A checked run, ready to execute: its config, directory, task, data and models."""

    cfg: ExperimentConfig
    settings: EngineSettings
    rundir: RunDir
    task: Task
    splits: Splits
    models: ModelSet
    meter: UsageMeter
    fingerprint: Mapping[str, Any]


def _execute(
    run: _Run, state: EngineState | None, extra: dict[str, Any], display_kind: str
) -> RunResult:
    cfg, meter = run.cfg, run.meter
    cache = ResponseCache(run.rundir.cache_path) if cfg.runtime.cache else None
    extra = {**extra, FETCH_SEQ_KEY: settle_unrecorded(cache, meter, extra)}
    wired, guards = _wire_models(cfg, run.models, meter, cache)
    console = GuardedDisplay(make_display(display_kind, stats=lambda: _live_stats(meter)))
    display = with_tracking(console, cfg, run.rundir.path)
    evaluator = make_evaluator(cfg.runtime, run.task, wired.task, cfg.search.rollouts_per_example)
    try:
        display.start(_run_info(cfg, run.rundir, wired, run.splits, state))
        for warning in run_warnings(cfg, run.splits):
            display.warning(warning)
        parts = RunParts(
            cfg, run.settings, run.rundir, run.splits, wired, guards, evaluator, display,
            meter, run.fingerprint,
        )  # fmt: skip
        return RunLoop(parts, state, extra).run()
    finally:
        evaluator.close()
        if cache is not None:
            cache.close()


def run_warnings(cfg: ExperimentConfig, splits: Splits) -> list[str]:
    """One-line warnings about the config and data that do not stop a run."""
    others = {"train": splits.train, "val": splits.val, "test": splits.test or []}
    found = (
        repeat_warning(cfg.search.rollouts_per_example, cfg.models.task),
        select_overlap_warning(splits.select, others),
    )
    return [line for line in found if line is not None]


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
