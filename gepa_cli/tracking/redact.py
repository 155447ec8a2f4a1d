"""Keeping secrets out of a tracker: the values of the API-key variables the config
names, and URL credentials (`scheme://user:password@host`), are removed from every
param, tag, message and artifact before it leaves the process."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from gepa_cli.config import ExperimentConfig

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@]*@")
MASK = "***"
MIN_SECRET_CHARS = 4
"""Shorter values are not masked (masking "a" would mangle every text)."""


class Redactor:
    """Removes URL userinfo and the given secret values from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        kept = {s for s in secrets if len(s) >= MIN_SECRET_CHARS}
        self.secrets = tuple(sorted(kept, key=len, reverse=True))

    def text(self, value: str) -> str:
        clean = _USERINFO.sub(r"\g<scheme>", value)
        for secret in self.secrets:
            clean = clean.replace(secret, MASK)
        return clean

    @staticmethod
    def for_config(cfg: ExperimentConfig) -> Redactor:
        """Masks the keys in the config's `api_key_env` variables and URL passwords."""
        secrets: list[str] = []
        urls: list[str | None] = []
        for model in (cfg.models.task, cfg.models.reflection):
            if model.api_key_env:
                secrets.append(os.environ.get(model.api_key_env, ""))
            urls.extend([model.base_url, *model.replicas])
        if cfg.tracking.mlflow is not None:
            urls.append(cfg.tracking.mlflow.tracking_uri)
        for name in ("MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
            secrets.append(os.environ.get(name, ""))
        for url in urls:
            secrets.extend(_url_secrets(url))
        return Redactor(secrets)


def _url_secrets(url: str | None) -> list[str]:
    if not url:
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    return [value for value in (parts.password,) if value]


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"a": {"b": 1}}` -> `{"a.b": 1}`; lists and empty mappings stay leaves."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
