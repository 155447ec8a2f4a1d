"""Turns the config's `models` section into LM objects: OpenAI-compatible
clients, the embedded llama.cpp server behind the same client, and the response
cache around both. Also says in one line where each model runs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gepa_cli.config import ExperimentConfig, ModelSpec
from gepa_cli.errors import BadInputError
from gepa_cli.lm.base import LM
from gepa_cli.lm.cache import CachedLM, ResponseCache
from gepa_cli.lm.openai_client import OpenAIChatLM
from gepa_cli.lm.replicas import ReplicaLM
from gepa_cli.lm.usage import UsageMeter

MAX_EMBEDDED_SLOTS = 4
"""More llama.cpp slots than this add memory but little speed on a small CPU."""


class ModelSetupError(BadInputError):
    """A model cannot be set up (missing key, missing embedded package); one line."""


@dataclass(frozen=True)
class ModelSet:
    task: LM
    reflection: LM
    where: Mapping[str, str]  # role -> "embedded/qwen... (llama.cpp at http://127.0.0.1:PORT/v1)"


def split_model_id(model: str) -> tuple[str, str]:
    provider, _, name = model.partition("/")
    return provider, name


def _embedded_base_url(name: str, slots: int) -> str:
    from gepa_cli.lm.embedded import EMBEDDED_SERVERS
    from gepa_cli.lm.embedded_models import EmbeddedModelError

    try:
        return EMBEDDED_SERVERS.acquire(name, slots).base_url
    except EmbeddedModelError as exc:
        raise ModelSetupError(str(exc)) from exc


def _embedded_defaults(name: str) -> dict[str, Any]:
    from gepa_cli.lm.embedded_models import get_model

    model = get_model(name)
    return {"max_tokens": model.default_max_tokens, "stop": list(model.default_stop)}


def _api_key(spec: ModelSpec, role: str) -> str | None:
    env = spec.api_key_env
    if env is None:
        return None
    value = os.environ.get(env)
    if not value and spec.base_url is None:
        raise ModelSetupError(
            f"[models.{role}.api_key_env] environment variable {env} is not set "
            f"(needed for {spec.model}); export it or add it to .env"
        )
    return value or None


def build_lm(
    spec: ModelSpec, role: str, cfg: ExperimentConfig, meter: UsageMeter
) -> tuple[OpenAIChatLM | ReplicaLM, str]:
    """One role's client (over all replicas when there are several) and where it runs."""
    provider, name = split_model_id(spec.model)
    extra = dict(spec.extra)
    max_tokens = spec.max_tokens
    base_url: str | None
    cache_endpoint = None  # the base_url; an embedded server's port changes every run
    if provider == "embedded":
        cache_endpoint = spec.model
        base_url = _embedded_base_url(name, min(cfg.runtime.max_concurrency, MAX_EMBEDDED_SLOTS))
        defaults = _embedded_defaults(name)
        max_tokens = max_tokens or defaults["max_tokens"]
        if defaults["stop"]:
            extra.setdefault("stop", defaults["stop"])
        api_key: str | None = "embedded"
        where = f"{spec.model} (embedded llama.cpp at {base_url})"
    else:
        base_url = spec.base_url
        api_key = _api_key(spec, role)
        where = f"{spec.model} (OpenAI-compatible at {base_url or 'api.openai.com'})"

    stream_cut = spec.stream_cut if spec.stream_cut is not None else provider == "embedded"

    def client(url: str | None) -> OpenAIChatLM:
        return OpenAIChatLM(
            name=name, base_url=url, api_key=api_key, role=role, meter=meter,
            temperature=spec.temperature, max_tokens=max_tokens, top_p=spec.top_p,
            seed=spec.seed, extra=extra, max_concurrency=cfg.runtime.max_concurrency,
            request_timeout=cfg.runtime.request_timeout, max_retries=cfg.runtime.max_retries,
            label=spec.model, cache_endpoint=cache_endpoint, stream_cut=stream_cut,
            cut_at_fence=role == "reflection", server_timings=provider == "embedded",
        )  # fmt: skip

    if spec.replicas and provider != "embedded":
        where = f"{spec.model} ({len(spec.replicas)} OpenAI-compatible replicas: "
        where += ", ".join(spec.replicas) + ")"
        return ReplicaLM([client(url) for url in spec.replicas]), where
    return client(base_url), where


def build_models(
    cfg: ExperimentConfig, meter: UsageMeter, cache_path: Path | None
) -> tuple[ModelSet, ResponseCache | None]:
    """Clients for the task and reflection roles, cached when `cache_path` is given."""
    task_lm, task_where = build_lm(cfg.models.task, "task", cfg, meter)
    refl_lm, refl_where = build_lm(cfg.models.reflection, "reflection", cfg, meter)
    where = {"task": task_where, "reflection": refl_where}
    if cache_path is None:
        return ModelSet(task_lm, refl_lm, where), None
    cache = ResponseCache(cache_path)
    models = ModelSet(CachedLM(task_lm, cache, meter), CachedLM(refl_lm, cache, meter), where)
    return models, cache
