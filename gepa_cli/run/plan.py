"""`gepa validate` and `gepa run --dry-run`: check a config, its task, data and model
setup without calling a model or writing anything, and say what the budget affords;
with `--ping`, send one tiny request to each distinct model endpoint."""

from __future__ import annotations

import dataclasses
import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from gepa_cli.config import ExperimentConfig, ModelSpec, config_to_dict
from gepa_cli.engine.budget import proposals_affordable
from gepa_cli.lm.base import LMError, Message
from gepa_cli.lm.usage import UsageMeter

PING_MESSAGES: list[Message] = [{"role": "user", "content": "Reply with the single word: ok"}]
PING_TIMEOUT_S = 30.0
MIN_ACCEPTED_PROPOSALS = 2


def _iterations_if_none_accepted(budget: int, val: int, batch: int) -> int:
    """Iterations that fit when no child is accepted: each spends at most 2*batch, but
    starts only if its worst case (parent and child minibatch, child val) still fits.
    (`val` and `batch` in metric calls: examples x rollouts per example.)"""
    left = budget - val
    if left < 2 * batch + val:
        return 0
    return (left - 2 * batch - val) // (2 * batch) + 1


def budget_lines(cfg: ExperimentConfig, val_size: int, train_size: int) -> list[str]:
    """Plain-language arithmetic of the metric-call budget, with warnings when it is too
    small to learn anything."""
    budget = cfg.budget.max_metric_calls
    batch = min(cfg.search.minibatch_size, train_size)
    n = cfg.search.rollouts_per_example
    per_accepted = (2 * batch + val_size) * n
    each = f" x {n} rollouts" if n > 1 else ""
    lines = [
        f"seed scoring: {val_size * n} metric calls (the seed on every val example{each})",
        f"each iteration: up to {2 * batch * n} calls on a minibatch of {batch}{each}, "
        f"plus {val_size * n} more when the child is accepted",
    ]
    if budget is None:
        return [*lines, "budget: unlimited metric calls"]
    worst = proposals_affordable(budget, val_size, batch, n)
    best = _iterations_if_none_accepted(budget, val_size * n, batch * n)
    lines.append(
        f"budget {budget}: between {worst} (every child accepted) and {best} "
        f"(none accepted) proposals"
    )
    if best == 0:
        lines.append(
            f"warning: no iteration fits after the seed scoring, so the run would only "
            f"score the seed; raise max_metric_calls to at least {val_size * n + per_accepted}"
        )
    elif worst < MIN_ACCEPTED_PROPOSALS:
        lines.append(
            f"warning: the budget affords fewer than {MIN_ACCEPTED_PROPOSALS} accepted "
            f"proposals, too few to learn much; raise max_metric_calls to at least "
            f"{val_size * n + MIN_ACCEPTED_PROPOSALS * per_accepted}"
        )
    return lines


def _embedded_warning(spec: ModelSpec) -> str | None:
    """Unknown embedded models are errors; a missing runtime or weights only a warning."""
    from gepa_cli.lm.embedded_models import (
        XLLAMACPP_REQUIREMENT,
        EmbeddedModelError,
        get_model,
        packaged_paths,
    )

    model = get_model(spec.model_name)  # raises EmbeddedModelError for an unknown name
    if importlib.util.find_spec("xllamacpp") is None:
        return (
            f"warning: the embedded runtime is not installed: pip install {XLLAMACPP_REQUIREMENT}"
        )
    try:
        packaged_paths(model)
    except EmbeddedModelError as exc:
        return f"warning: {exc}"
    return None


def model_lines(cfg: ExperimentConfig) -> list[str]:
    """Check each model's setup (API key variable, known embedded model) without a request."""
    from gepa_cli.run.models import build_lm

    lines = []
    for role, spec in (("task", cfg.models.task), ("reflection", cfg.models.reflection)):
        if spec.provider == "embedded":
            warning = _embedded_warning(spec)
            lines.append(f"{role} model: {spec.model} (embedded, started on first use)")
            lines += [warning] if warning else []
        else:
            _, where = build_lm(spec, role, cfg, UsageMeter())  # no request is sent
            lines.append(f"{role} model: {where}")
    return lines


def describe_plan(cfg: ExperimentConfig, config_dir: Path) -> str:
    """Load the task and every split; return the resolved config and the budget plan."""
    from gepa_cli.run.runner import prepare, run_warnings

    cfg, task, splits, _settings = prepare(cfg, config_dir.resolve())
    sizes = f"train {len(splits.train)}, val {len(splits.val)}"
    if splits.test is not None:
        sizes += f", test {len(splits.test)}"
    if splits.select is not None:
        sizes += f", select {len(splits.select)}"
    parts = [
        "# resolved config",
        yaml.safe_dump(config_to_dict(cfg), sort_keys=False, allow_unicode=True).rstrip(),
        "",
        f"# task: {cfg.task.type} with modules {', '.join(task.modules)}; {sizes}",
        *[f"# {line}" for line in model_lines(cfg)],
        *[f"# {line}" for line in budget_lines(cfg, len(splits.val), len(splits.train))],
        *[f"# warning: {line}" for line in run_warnings(cfg, splits)],
        "# ok: config, task and data are valid (no model was called)",
    ]
    return "\n".join(parts)


@dataclass(frozen=True)
class PingResult:
    """One endpoint's answer to the ping: reachable or not, and what happened."""

    roles: tuple[str, ...]
    model: str
    where: str
    reachable: bool
    detail: str

    def line(self) -> str:
        status = "reachable" if self.reachable else "UNREACHABLE"
        return f"ping {'+'.join(self.roles)}: {self.where}: {status} ({self.detail})"


def ping_models(cfg: ExperimentConfig) -> list[PingResult]:
    """One tiny chat request per distinct (model, base_url), with at most one retry."""
    runtime = dataclasses.replace(
        cfg.runtime,
        max_retries=min(cfg.runtime.max_retries, 1),
        request_timeout=min(cfg.runtime.request_timeout, PING_TIMEOUT_S),
    )
    quick = dataclasses.replace(cfg, runtime=runtime)
    endpoints: dict[tuple[str, str | None], list[str]] = {}
    specs = {"task": cfg.models.task, "reflection": cfg.models.reflection}
    for role, spec in specs.items():
        endpoints.setdefault((spec.model, spec.base_url), []).append(role)
    return [_ping(specs[roles[0]], tuple(roles), quick) for roles in endpoints.values()]


def _ping(spec: ModelSpec, roles: tuple[str, ...], cfg: ExperimentConfig) -> PingResult:
    from gepa_cli.run.models import build_lm

    lm, where = build_lm(spec, roles[0], cfg, UsageMeter())
    start = time.monotonic()
    try:
        lm.complete(PING_MESSAGES)
    except LMError as exc:
        return PingResult(roles, spec.model, where, False, str(exc))
    return PingResult(
        roles, spec.model, where, True, f"replied in {time.monotonic() - start:.2f} s"
    )
