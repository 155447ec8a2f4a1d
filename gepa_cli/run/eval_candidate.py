"""`gepa eval`: score one candidate of a run (or a config's seed prompts) on any split
with any task model, outside any budget. In a run directory the result is written to
`evals/<split>_<candidate>_<model>.json` (the transfer experiment of the paper in one
command: optimize on one model, evaluate on another)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gepa_cli.config import ExperimentConfig, load_config, load_config_dict
from gepa_cli.lm.cache import CachedLM, ResponseCache
from gepa_cli.lm.usage import UsageMeter
from gepa_cli.run.evaluator import ConcurrentEvaluator
from gepa_cli.run.models import build_lm
from gepa_cli.run.runner import load_task_and_data
from gepa_cli.rundir.directory import RunDir, RunDirError, write_atomic
from gepa_cli.rundir.frontier import best_record, resolve_candidate

SPLITS = ("train", "val", "test", "select")


@dataclass(frozen=True)
class EvalTarget:
    """What to evaluate: a config, the prompts of one candidate, and where to write."""

    cfg: ExperimentConfig
    candidate: str
    prompts: dict[str, str]
    rundir: RunDir | None


def resolve_target(path: Path, candidate: str, overrides: Sequence[str]) -> EvalTarget:
    """A run directory (any candidate) or a config file (its seed prompts only)."""
    if path.is_dir():
        rundir = RunDir.open(path)
        source = str(rundir.path / "config.yaml")
        cfg = load_config_dict(rundir.read_config(), rundir.path, source, overrides)
        records = rundir.load_candidates()
        if candidate == "best":
            record = best_record(rundir, records)
        elif candidate == "seed":
            record = records[0]
        else:
            record = resolve_candidate(records, candidate)
        if not record.get("prompts"):
            raise RunDirError(f"{rundir.path}: candidate {record['id']} has no prompts")
        return EvalTarget(cfg, str(record["id"]), dict(record["prompts"]), rundir)
    cfg = load_config(path, overrides)
    if candidate not in ("seed", "best"):
        raise RunDirError(
            f"{path} is a config file: only --candidate seed applies (got {candidate})"
        )
    return EvalTarget(cfg, "seed", dict(cfg.task.prompts), None)


def run_eval(target: EvalTarget, split: str, use_cache: bool = True) -> dict[str, Any]:
    """Score the target's prompts on `split`; return (and in a run dir, write) the result."""
    if split not in SPLITS:
        raise RunDirError(f"--split must be one of {', '.join(SPLITS)}; got {split!r}")
    task, splits = load_task_and_data(target.cfg)
    examples = getattr(splits, split)
    if not examples:
        raise RunDirError(f"the config has no {split} split")
    meter = UsageMeter()
    lm, where = build_lm(target.cfg.models.task, "task", target.cfg, meter)
    cache = None
    if use_cache and target.rundir is not None:
        cache = ResponseCache(target.rundir.path / "cache.sqlite")
        lm = CachedLM(lm, cache, meter, ledger=False)  # type: ignore[assignment]
    runtime, repeats = target.cfg.runtime, target.cfg.search.rollouts_per_example
    with ConcurrentEvaluator(task, lm, runtime.max_concurrency, repeats) as evaluator:
        rollouts = evaluator.evaluate(target.prompts, examples)
    if cache is not None:
        cache.close()
    result = {
        "split": split,
        "candidate": target.candidate,
        "model": target.cfg.models.task.model,
        "where": where,
        "mean": sum(r.score for r in rollouts) / len(rollouts),
        "n": len(rollouts),
        "errors": sum(1 for r in rollouts if r.error is not None),
        "usage": meter.snapshot(),
        "scores": {r.example_id: r.score for r in rollouts},
    }
    if target.rundir is not None:
        _write_result(target.rundir, result)
    return result


def _write_result(rundir: RunDir, result: dict[str, Any]) -> Path:
    import json

    model = re.sub(r"[^A-Za-z0-9._-]+", "-", str(result["model"]))
    path = rundir.path / "evals" / f"{result['split']}_{result['candidate']}_{model}.json"
    path.parent.mkdir(exist_ok=True)
    write_atomic(path, json.dumps(result, indent=2) + "\n")
    return path
