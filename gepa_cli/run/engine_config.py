"""The engine's settings from an experiment config: the `search` section, the budget, the
reflection meta-prompt (a built-in by name, or a file read once here) and the hotter
temperature the reflection model retries at."""

from __future__ import annotations

from pathlib import Path

from gepa_cli.config import ConfigError, ExperimentConfig
from gepa_cli.engine.reflection import BUILTIN_TEMPLATES
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.input_limits import MAX_TEXT_BYTES, read_regular_file


def _reflection_template(prompt: str | Path | None) -> str | None:
    if prompt is None or isinstance(prompt, str):
        return BUILTIN_TEMPLATES[prompt or "default"]
    path = prompt
    key = "search.reflection_prompt"
    try:
        text = read_regular_file(path, MAX_TEXT_BYTES).decode("utf-8")  # not /dev/zero
        return text.replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not valid UTF-8", key=key) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror or exc})", key=key) from None


def engine_settings(cfg: ExperimentConfig) -> EngineSettings:
    """The settings the engine runs with, for `cfg`."""
    s = cfg.search
    return EngineSettings(
        seed=cfg.seed,
        minibatch_size=s.minibatch_size,
        candidate_selection=s.candidate_selection,
        epsilon=s.epsilon,
        module_selection=s.module_selection,
        skip_perfect=s.skip_perfect,
        perfect_score=s.perfect_score,
        max_metric_calls=cfg.budget.max_metric_calls,
        rollouts_per_example=s.rollouts_per_example,
        reflection_template=_reflection_template(s.reflection_prompt),
        merge_enabled=s.merge.enabled,
        merge_max_invocations=s.merge.max_invocations,
        parallel_proposals=s.parallel_proposals,
        reflection_retries=s.reflection_retries,
        reflection_retry_temperature=retry_temperature(cfg.models.reflection.temperature),
        val_policy=s.val_policy,
        val_stage_size=s.val_stage_size,
    )


def retry_temperature(temperature: float) -> float:
    """The reflection model's temperature for retries: hotter than its own (at least 1.0
    from a cold model), capped at 1.2 so a small model stays coherent."""
    return round(min(1.2, max(temperature, 0.7) + 0.3), 3)
