"""Credentials are read from the environment only: the config refuses them elsewhere.

The resolved config is written to the run directory (`config.yaml`), printed by
`gepa validate` and shown in the console's model lines, so a credential inside it
would leak to all of them. Refused, with a message that names `api_key_env` and
never repeats the secret:

- a user name or password in a `base_url` (`http://user:secret@host/v1`), in any
  replica URL;
- under a model's `extra` (at any depth): a key that names a credential
  (`Authorization`, `Proxy-Authorization`, `Cookie`, `X-Api-Key`, `*-token`,
  `*secret*`, `*password*`, ...) or a value that is one (`Bearer ...`, `Basic ...`).

`api_key` itself is refused earlier, by `build.reject_api_keys`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from gepa_cli.config.errors import ConfigError
from gepa_cli.config.reader import key_path

_SENSITIVE_NAME = re.compile(
    r"authorization|cookie|password|passwd|secret|credential|subscriptionkey"
    r"|apikey$|(auth|access|bearer|refresh|id|session|api)token$|^token$|^bearer$"
)
_SENSITIVE_VALUE = re.compile(r"^\s*(bearer|basic|token)\s+\S", re.IGNORECASE)
_HOW = (
    "credentials are never read from the config (it is written to the run directory): "
    "put the key in an environment variable and name that variable in api_key_env"
)


def reject_credentials(raw: Mapping[Any, Any]) -> None:
    """Refuse credentials in `models.<role>.base_url` and `models.<role>.extra` of the
    (env-expanded) raw config; ConfigError naming the key, never the secret."""
    models = raw.get("models")
    if not isinstance(models, Mapping):
        return
    for role, spec in models.items():
        if not isinstance(spec, Mapping):
            continue
        where = key_path("models", role)
        urls = spec.get("base_url")
        for url in urls if isinstance(urls, list) else [urls]:
            if isinstance(url, str) and _has_userinfo(url):
                raise ConfigError(
                    f"the URL holds a user name or password ({redact_url(url)}); {_HOW}",
                    key=key_path(where, "base_url"),
                )
        _check_extra(spec.get("extra"), key_path(where, "extra"))


def _has_userinfo(url: str) -> bool:
    try:
        return "@" in urlsplit(url.strip()).netloc
    except ValueError:
        return "@" in url


def redact_url(url: str) -> str:
    """`url` with any user name and password replaced by `***`."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "***"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"***@{host}").geturl()


def _check_extra(value: Any, where: str) -> None:
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_extra(item, f"{where}[{index}]")
    elif isinstance(value, Mapping):
        for name, inner in value.items():
            key = key_path(where, name)
            normalized = re.sub(r"[^a-z0-9]", "", str(name).lower())
            if _SENSITIVE_NAME.search(normalized):
                raise ConfigError(f"looks like a credential; {_HOW}", key=key)
            _check_extra(inner, key)
    elif isinstance(value, str) and _SENSITIVE_VALUE.match(value):
        raise ConfigError(f"the value looks like a credential; {_HOW}", key=where)
