"""`${VAR}` and `${VAR:-default}` in the config's string values, and the `$${` escape.

Expansion walks every string value (not keys) of the raw config. `${VAR:-default}`
takes the default when VAR is unset or empty, like the shell. `$${` stands for a
literal `${`; `escape_env` applies it so that text written back by `config_to_dict`
(prompts, say) survives a reload unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from gepa_cli.config.errors import ConfigError
from gepa_cli.config.reader import describe, key_path

_TOKEN = re.compile(r"\$\$\{|\$\{(?P<body>[^}]*)(?P<close>\}?)")
_BODY = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>.*))?", re.DOTALL)
_USAGE = "write ${VAR} or ${VAR:-default}, or $${ for a literal ${"


def expand_string(text: str, key: str, environ: Mapping[str, str]) -> str:
    """`text` with every variable reference replaced; errors name `key`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        body = _BODY.fullmatch(match["body"]) if match["close"] else None
        if body is None:
            reference = describe(match.group(0))
            raise ConfigError(f"malformed variable reference {reference}; {_USAGE}", key=key)
        name, default = body["name"], body["default"]
        value = environ.get(name)
        if default is not None:
            return value if value else default
        if value is None:
            raise ConfigError(
                f"environment variable {name} is not set "
                f"(write ${{{name}:-default}} to give a default)",
                key=key,
            )
        return value

    return _TOKEN.sub(replace, text)


def expand_env(value: Any, key: str, environ: Mapping[str, str]) -> Any:
    """A copy of the raw config `value` (found at `key`) with its strings expanded."""
    return _walk(value, key, lambda text, where: expand_string(text, where, environ), ())


def escape_env(value: Any) -> Any:
    """A copy of `value` whose strings read back as themselves after `expand_env`."""
    return _walk(value, "", lambda text, _where: text.replace("${", "$${"), ())


def _walk(value: Any, key: str, convert: Callable[[str, str], str], active: tuple[int, ...]) -> Any:
    if isinstance(value, str):
        return convert(value, key)
    if not isinstance(value, Mapping | list | tuple):
        return value
    if id(value) in active:
        raise ConfigError("a YAML alias refers to itself", key=key or None)
    inner = (*active, id(value))
    if isinstance(value, Mapping):
        return {k: _walk(v, key_path(key, k), convert, inner) for k, v in value.items()}
    # Tuples (from !!pairs or !!omap) become lists: plain data that dumps back to YAML.
    return [_walk(v, f"{key}[{i}]", convert, inner) for i, v in enumerate(value)]
