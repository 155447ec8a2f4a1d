"""`config_to_dict`: an `ExperimentConfig` back into plain, YAML-ready data.

The result reloads to an equal config from any folder: paths are absolute strings,
prompts are inlined text, `max_time` is a number of seconds, and every string is
escaped (`${` -> `$${`) so that reloading does not expand it again. The run
directory stores it as `config.yaml`, which `gepa resume` reads.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from gepa_cli.config.expand import escape_env
from gepa_cli.config.schema import (
    BudgetSpec,
    ExperimentConfig,
    ModelSpec,
    RuntimeSpec,
    SearchSpec,
    SplitSpec,
    TaskSpec,
)


def config_to_dict(cfg: ExperimentConfig) -> dict[str, Any]:
    """Plain dicts, lists, strings, numbers, booleans and nulls, in the order of DESIGN §3."""
    plain = {
        "name": cfg.name,
        "seed": cfg.seed,
        "task": _task(cfg.task),
        "models": {"task": _model(cfg.models.task), "reflection": _model(cfg.models.reflection)},
        "budget": _budget(cfg.budget),
        "search": _search(cfg.search),
        "runtime": _runtime(cfg.runtime),
        "output": {"runs_dir": str(cfg.output.runs_dir)},
    }
    escaped: dict[str, Any] = escape_env(plain)
    return escaped


def _task(task: TaskSpec) -> dict[str, Any]:
    data = task.data
    return {
        "type": task.type,
        "data": {
            "train": _split(data.train),
            "val": _split(data.val),
            "test": None if data.test is None else _split(data.test),
        },
        "fields": dict(task.fields),
        "prompts": dict(task.prompts),
        "options": dict(task.options),
    }


def _split(split: SplitSpec) -> str | dict[str, Any]:
    if split.offset == 0 and split.limit is None:
        return str(split.path)
    return {"path": str(split.path), "offset": split.offset, "limit": split.limit}


def _model(spec: ModelSpec) -> dict[str, Any]:
    return {
        "model": spec.model,
        "base_url": list(spec.replicas) if spec.replicas else spec.base_url,
        "api_key_env": spec.api_key_env,
        "temperature": spec.temperature,
        "max_tokens": spec.max_tokens,
        "top_p": spec.top_p,
        "seed": spec.seed,
        "extra": dict(spec.extra),
        "price": None if spec.price is None else dataclasses.asdict(spec.price),
    }


def _budget(budget: BudgetSpec) -> dict[str, Any]:
    return {
        "max_metric_calls": budget.max_metric_calls,
        "max_cost_usd": budget.max_cost_usd,
        "max_time": budget.max_time_s,
    }


def _search(search: SearchSpec) -> dict[str, Any]:
    return {
        "candidate_selection": search.candidate_selection,
        "epsilon": search.epsilon,
        "module_selection": search.module_selection,
        "minibatch_size": search.minibatch_size,
        "skip_perfect": search.skip_perfect,
        "perfect_score": search.perfect_score,
        "merge": {"enabled": search.merge.enabled, "max_invocations": search.merge.max_invocations},
        "reflection_prompt": _optional_path(search.reflection_prompt),
        "parallel_proposals": search.parallel_proposals,
    }


def _runtime(runtime: RuntimeSpec) -> dict[str, Any]:
    return {
        "max_concurrency": runtime.max_concurrency,
        "cache": runtime.cache,
        "request_timeout": runtime.request_timeout,
        "max_retries": runtime.max_retries,
    }


def _optional_path(path: Path | None) -> str | None:
    return None if path is None else str(path)
