"""Building `ExperimentConfig` from the raw (already expanded) config mapping.

One function per section; each checks its keys, types and ranges through `Section`
and raises `ConfigError` naming the first bad key. The `task:` section lives in
`task_section`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from gepa_cli.config.errors import ConfigError
from gepa_cli.config.reader import (
    Section,
    as_float,
    describe,
    key_path,
    resolve_path,
    suggest,
)
from gepa_cli.config.schema import (
    CANDIDATE_SELECTIONS,
    MODULE_SELECTIONS,
    PROVIDERS,
    BudgetSpec,
    ExperimentConfig,
    MergeSpec,
    ModelSpec,
    ModelsSpec,
    OutputSpec,
    Price,
    RuntimeSpec,
    SearchSpec,
    default_runs_dir,
)
from gepa_cli.config.task_section import build_task

TOP_KEYS = ("name", "seed", "task", "models", "budget", "search", "runtime", "output")
MODELS_KEYS = ("task", "reflection")
MODEL_KEYS = (
    "model",
    "base_url",
    "api_key_env",
    "temperature",
    "max_tokens",
    "top_p",
    "seed",
    "extra",
    "price",
)
PRICE_KEYS = ("input_per_mtok", "output_per_mtok")
BUDGET_KEYS = ("max_metric_calls", "max_cost_usd", "max_time")
SEARCH_KEYS = (
    "candidate_selection",
    "epsilon",
    "module_selection",
    "minibatch_size",
    "skip_perfect",
    "perfect_score",
    "merge",
    "reflection_prompt",
    "parallel_proposals",
)
MERGE_KEYS = ("enabled", "max_invocations")
RUNTIME_KEYS = ("max_concurrency", "cache", "request_timeout", "max_retries")
OUTPUT_KEYS = ("runs_dir",)

REFLECTION_TEMPERATURE = 1.0
"""Temperature of the reflection model when `models.reflection` is omitted."""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DURATION_UNITS = (("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0))
_DURATION = re.compile(r"".join(rf"(?:(\d+(?:\.\d+)?)\s*{u}\s*)?" for u, _ in _DURATION_UNITS))
_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def build_config(raw: Mapping[Any, Any], base_dir: Path) -> ExperimentConfig:
    """The typed config; relative data and prompt paths are taken from `base_dir`."""
    top = Section.at("", raw)
    top.check_keys(TOP_KEYS)
    cfg = ExperimentConfig(
        name=top.string("name").strip(),
        seed=top.integer("seed", 0, minimum=0),
        task=build_task(top.section("task"), base_dir),
        models=_models(top.section("models")),
        budget=_budget(top.section("budget")),
        search=_search(top.section("search"), base_dir),
        runtime=_runtime(top.section("runtime")),
        output=_output(top.section("output")),
    )
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
    section.check_keys(MODELS_KEYS)
    task = _model(section.section("task"))
    if section.has("reflection"):
        reflection = _model(section.section("reflection"))
    else:
        reflection = replace(task, temperature=REFLECTION_TEMPERATURE)
    return ModelsSpec(task=task, reflection=reflection)


def _model(section: Section) -> ModelSpec:
    section.check_keys(MODEL_KEYS)
    model = _model_id(section)
    urls = _base_urls(section, model)
    return ModelSpec(
        model=model,
        base_url=urls[0] if urls else None,
        replicas=urls if len(urls) > 1 else (),
        api_key_env=_api_key_env(section),
        temperature=section.number("temperature", 0.0, minimum=0),
        max_tokens=section.optional_integer("max_tokens", minimum=1),
        top_p=section.optional_number("top_p", minimum=0, maximum=1),
        seed=section.optional_integer("seed"),
        extra=section.free_mapping("extra"),
        price=_price(section),
    )


def _price(section: Section) -> Price | None:
    """`price: {input_per_mtok, output_per_mtok}` in US dollars per million tokens."""
    if not section.has("price"):
        return None
    price = section.section("price")
    price.check_keys(PRICE_KEYS)
    return Price(
        input_per_mtok=price.number("input_per_mtok", minimum=0),
        output_per_mtok=price.number("output_per_mtok", minimum=0),
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
    section.check_keys(BUDGET_KEYS)
    budget = BudgetSpec(
        max_metric_calls=section.optional_integer("max_metric_calls", 300, minimum=1),
        max_cost_usd=section.optional_number("max_cost_usd", positive=True),
        max_time_s=parse_duration(section.data.get("max_time"), section.key("max_time")),
    )
    if budget.max_metric_calls is None and budget.max_cost_usd is None and not budget.max_time_s:
        raise ConfigError(
            "set at least one of max_metric_calls, max_cost_usd or max_time "
            "(a run without any budget would never stop)",
            key=section.path,
        )
    return budget


def parse_duration(value: Any, key: str) -> float | None:
    """Seconds from 90, 90.5, "90", "90s", "30m", "2h", "1h30m" or "1d"; null stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        match = _DURATION.fullmatch(text)
        if _SECONDS.fullmatch(text):
            value = float(text)
        elif text and match:
            pairs = zip(match.groups(), _DURATION_UNITS, strict=True)
            value = sum(float(amount) * unit for amount, (_, unit) in pairs if amount)
        else:
            raise ConfigError(
                'expected a duration such as 90, "90s", "30m", "2h" or "1h30m", '
                f"got {describe(value)}",
                key=key,
            )
    seconds = as_float(value, key)
    if seconds <= 0:
        raise ConfigError(f"must be > 0, got {describe(value)}", key=key)
    return seconds


def _search(section: Section, base_dir: Path) -> SearchSpec:
    section.check_keys(SEARCH_KEYS)
    return SearchSpec(
        candidate_selection=section.choice("candidate_selection", "pareto", CANDIDATE_SELECTIONS),
        epsilon=section.number("epsilon", 0.1, minimum=0, maximum=1),
        module_selection=section.choice("module_selection", "round_robin", MODULE_SELECTIONS),
        minibatch_size=section.integer("minibatch_size", 3, minimum=1),
        skip_perfect=section.boolean("skip_perfect", True),
        perfect_score=section.number("perfect_score", 1.0),
        merge=_merge(section.section("merge")),
        reflection_prompt=_reflection_prompt(section, base_dir),
        parallel_proposals=section.integer("parallel_proposals", 1, minimum=1),
    )


def _merge(section: Section) -> MergeSpec:
    section.check_keys(MERGE_KEYS)
    return MergeSpec(
        enabled=section.boolean("enabled", False),
        max_invocations=section.integer("max_invocations", 5, minimum=0),
    )


def _reflection_prompt(section: Section, base_dir: Path) -> Path | None:
    text = section.optional_string("reflection_prompt")
    if text is None:
        return None
    key = section.key("reflection_prompt")
    path = resolve_path(text, base_dir, key)
    if not path.is_file():
        raise ConfigError(f"file not found: {path}", key=key)
    return path


def _runtime(section: Section) -> RuntimeSpec:
    section.check_keys(RUNTIME_KEYS)
    return RuntimeSpec(
        max_concurrency=section.integer("max_concurrency", 8, minimum=1),
        cache=section.boolean("cache", True),
        request_timeout=section.number("request_timeout", 120.0, positive=True),
        max_retries=section.integer("max_retries", 6, minimum=0),
    )


def _output(section: Section) -> OutputSpec:
    section.check_keys(OUTPUT_KEYS)
    text = section.optional_string("runs_dir")
    if text is None:
        return OutputSpec(runs_dir=default_runs_dir())
    return OutputSpec(runs_dir=resolve_path(text, Path.cwd(), section.key("runs_dir")))
