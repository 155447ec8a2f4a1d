"""Building `ExperimentConfig` from the raw (already expanded) config mapping.

Every section is read through its declaration (`declaration.read_keys`): unknown
keys, types, defaults and ranges come from `schema`, and the first bad key raises a
`ConfigError` naming it. The readers here hold only what a declaration cannot say:
provider, URL and API-key-variable checks, the reflection model's default, paths,
durations and the budget rules. The `task:` section lives in `task_section`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

from gepa_cli.config.declaration import build_section, read_keys, yaml_names
from gepa_cli.config.duration import parse_duration
from gepa_cli.config.errors import ConfigError
from gepa_cli.config.reader import Section, describe, key_path, resolve_path, suggest
from gepa_cli.config.schema import (
    PROVIDERS,
    REFLECTION_TEMPERATURE,
    BudgetSpec,
    ExperimentConfig,
    ModelSpec,
    ModelsSpec,
    OutputSpec,
    RaySpec,
    ReflectionPromptName,
    RuntimeSpec,
    SearchSpec,
    TrackingSpec,
    default_runs_dir,
)
from gepa_cli.config.schema.integrations import RAY_ADDRESS_PATTERN
from gepa_cli.config.schema.models import ENV_NAME
from gepa_cli.config.task_section import build_task

_ENV_NAME = re.compile(ENV_NAME)


def build_config(raw: Mapping[Any, Any], base_dir: Path) -> ExperimentConfig:
    """The typed config; relative data and prompt paths are taken from `base_dir`."""
    readers = {
        "name": lambda top, _: top.string("name").strip(),
        "task": lambda top, _: build_task(top.section("task"), base_dir),
        "models": lambda top, _: _models(top.section("models")),
        "budget": lambda top, _: _budget(top.section("budget")),
        "search": lambda top, _: _search(top.section("search"), base_dir),
        "runtime": lambda top, _: _runtime(top.section("runtime")),
        "tracking": lambda top, _: _tracking(top.section("tracking")),
        "output": lambda top, _: _output(top.section("output")),
    }
    cfg = build_section(Section.at("", raw), ExperimentConfig, readers)
    _check_cost_budget(cfg)
    return cfg


def _check_cost_budget(cfg: ExperimentConfig) -> None:
    """A cost cap alone needs a price: without one the cost never grows and the run would
    never stop. (Next to another budget an unpriced cap is only warned about at run start.)"""
    budget = cfg.budget
    alone = budget.max_metric_calls is None and budget.max_time_s is None
    if budget.max_cost_usd is None or not alone or cfg.models.prices_tokens():
        return
    raise ConfigError(
        "needs a price to count against: set models.task.price and/or "
        "models.reflection.price to {input_per_mtok: N, output_per_mtok: N} "
        "(US dollars per million tokens)",
        key="budget.max_cost_usd",
    )


def reject_api_keys(raw: Mapping[Any, Any]) -> None:
    """Refuse any `api_key` (or apiKey, api-key) anywhere under `models`."""
    _find_api_key(raw.get("models"), "models")


def _find_api_key(value: Any, key: str) -> None:
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _find_api_key(item, f"{key}[{index}]")
    if not isinstance(value, Mapping):
        return
    for name, inner in value.items():
        where = key_path(key, name)
        if isinstance(name, str) and re.sub(r"[_-]", "", name.lower()) == "apikey":
            raise ConfigError(
                "API keys are never read from the config: put the key in an environment "
                "variable and give that variable's name as api_key_env",
                key=where,
            )
        _find_api_key(inner, where)


def _models(section: Section) -> ModelsSpec:
    section.check_keys(yaml_names(ModelsSpec))
    task = _model(section.section("task"))
    if section.has("reflection"):
        reflection = _model(section.section("reflection"))
    else:
        reflection = replace(task, temperature=REFLECTION_TEMPERATURE)
    return ModelsSpec(task=task, reflection=reflection)


def _model(section: Section) -> ModelSpec:
    readers = {
        "model": lambda model, _: _model_id(model),
        "base_url": lambda model, values: _base_urls(model, values["model"]),
        "api_key_env": lambda model, _: _api_key_env(model),
    }
    values = read_keys(section, ModelSpec, readers)
    urls = values.pop("base_url")
    return ModelSpec(
        **values, base_url=urls[0] if urls else None, replicas=urls if len(urls) > 1 else ()
    )


def _model_id(section: Section) -> str:
    text = section.string("model").strip()
    provider, slash, name = text.partition("/")
    if not slash or not provider or not name.strip():
        raise ConfigError(
            "expected provider/name such as openai/gpt-4.1-mini or "
            f"embedded/qwen2.5-coder-1.5b, got {describe(text)}",
            key=section.key("model"),
        )
    if provider not in PROVIDERS:
        raise ConfigError(
            f"unknown provider {describe(provider)}{suggest(provider, PROVIDERS)} "
            "(any OpenAI-compatible server is openai/<name> with a base_url)",
            key=section.key("model"),
        )
    return text


def _base_urls(section: Section, model: str) -> tuple[str, ...]:
    """`base_url` as one URL or a list of replica URLs of the same model."""
    value = section.data.get("base_url")
    if isinstance(value, list):
        if not value:
            raise ConfigError(
                "expected a URL or a non-empty list of URLs", key=section.key("base_url")
            )
        return tuple(_check_url(section, model, item) for item in value)
    url = section.optional_string("base_url")
    return () if url is None else (_check_url(section, model, url),)


def _check_url(section: Section, model: str, url: object) -> str:
    if not isinstance(url, str):
        raise ConfigError(f"expected a URL, got {describe(url)}", key=section.key("base_url"))
    if model.startswith("embedded/"):
        raise ConfigError(
            "embedded models run their own local server; remove base_url, "
            "or use openai/<name> to reach a server you started",
            key=section.key("base_url"),
        )
    if not url.strip().startswith(("http://", "https://")):
        raise ConfigError(
            f"expected an http:// or https:// URL, got {describe(url)}",
            key=section.key("base_url"),
        )
    return url.strip()


def _api_key_env(section: Section) -> str | None:
    name = section.optional_string("api_key_env")
    if name is not None and not _ENV_NAME.fullmatch(name):
        # Never echo the value: it may be the key itself.
        raise ConfigError(
            "expected the name of an environment variable (such as OPENAI_API_KEY), "
            "not the key itself",
            key=section.key("api_key_env"),
        )
    return name


def _budget(section: Section) -> BudgetSpec:
    max_time = {"max_time_s": lambda budget, _: parse_duration(
        budget.data.get("max_time"), budget.key("max_time"))}  # fmt: skip
    budget = build_section(section, BudgetSpec, max_time)
    if budget.max_metric_calls is None and budget.max_cost_usd is None and not budget.max_time_s:
        raise ConfigError(
            "set at least one of max_metric_calls, max_cost_usd or max_time "
            "(a run without any budget would never stop)",
            key=section.path,
        )
    return budget


def _search(section: Section, base_dir: Path) -> SearchSpec:
    prompt = {"reflection_prompt": lambda search, _: _reflection_prompt(search, base_dir)}
    return build_section(section, SearchSpec, prompt)


def _reflection_prompt(section: Section, base_dir: Path) -> str | Path | None:
    text = section.optional_string("reflection_prompt")
    if text is None:
        return None
    if text in get_args(ReflectionPromptName):
        return text
    key = section.key("reflection_prompt")
    path = resolve_path(text, base_dir, key)
    if not path.is_file():
        raise ConfigError(f"file not found: {path}", key=key)
    return path


def _runtime(section: Section) -> RuntimeSpec:
    return build_section(section, RuntimeSpec, {"ray": lambda runtime, _: _ray(runtime)})


def _ray(runtime: Section) -> RaySpec:
    section = runtime.section("ray")
    ray = build_section(section, RaySpec)
    if not re.fullmatch(RAY_ADDRESS_PATTERN, ray.address):
        raise ConfigError(
            f"expected auto, local, ray://host:port or host:port, got {describe(ray.address)}",
            key=section.key("address"),
        )
    return ray


def _tracking(section: Section) -> TrackingSpec:
    tracking = build_section(section, TrackingSpec)
    uri = tracking.mlflow.tracking_uri if tracking.mlflow is not None else None
    if uri is not None and "@" in urlsplit(uri).netloc:
        raise ConfigError(
            "the URI holds a user name or password; the config is written to the run "
            "directory, so give them in MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD",
            key="tracking.mlflow.tracking_uri",
        )
    return tracking


def _output(section: Section) -> OutputSpec:
    section.check_keys(yaml_names(OutputSpec))
    text = section.optional_string("runs_dir")
    if text is None:
        return OutputSpec(runs_dir=default_runs_dir())
    return OutputSpec(runs_dir=resolve_path(text, Path.cwd(), section.key("runs_dir")))
