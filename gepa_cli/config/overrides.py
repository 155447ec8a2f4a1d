"""`--set key.path=value` overrides applied to the raw config before validation.

The value is parsed as a YAML scalar (`true`, `50`, `null`, `'quoted'`) or a flow
collection (`[a, b]`, `{x: 1}`). Anything else, including text that is not valid
YAML or that YAML would read as a block mapping, is taken as a plain string, so
`--set task.prompts.solve="Answer: x"` works without extra quoting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from gepa_cli.config.errors import ConfigError
from gepa_cli.config.reader import describe

OVERRIDE_ORIGIN = "--set"


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """Split `a.b.c=value` into (("a", "b", "c"), parsed value)."""
    dotted, equals, raw_value = text.partition("=")
    if not equals:
        raise ConfigError(f"{describe(text)}: expected key.path=value", origin=OVERRIDE_ORIGIN)
    path = tuple(part.strip() for part in dotted.split("."))
    if not all(path):
        raise ConfigError(
            f"{describe(text)}: the key path {describe(dotted)} has an empty part",
            origin=OVERRIDE_ORIGIN,
        )
    return path, _parse_value(raw_value)


def _parse_value(raw_value: str) -> Any:
    try:
        value = yaml.safe_load(raw_value)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return raw_value
    # Only flow style makes a collection: "Answer: x" is text, not {"Answer": "x"}.
    is_flow = raw_value.lstrip().startswith(("{", "["))
    if isinstance(value, dict | list) and not is_flow:
        return raw_value
    return value


def apply_overrides(raw: Mapping[Any, Any], overrides: Sequence[str]) -> dict[Any, Any]:
    """A copy of `raw` with each override set, creating intermediate mappings.

    Later overrides win over earlier ones. `raw` itself is not modified.
    """
    result = dict(raw)
    for text in overrides:
        path, value = parse_override(text)
        node = result
        for depth, part in enumerate(path[:-1]):
            child = node.get(part)
            if child is None:
                child = {}
            elif not isinstance(child, Mapping):
                where = ".".join(path[: depth + 1])
                raise ConfigError(
                    f"{describe(text)}: {where} is {describe(child)}, not a mapping",
                    origin=OVERRIDE_ORIGIN,
                )
            node[part] = dict(child)
            node = node[part]
        node[path[-1]] = value
    return result


def overridden_paths(overrides: Sequence[str]) -> list[str]:
    """The dotted key paths the overrides set, for attributing errors to `--set`."""
    return [".".join(parse_override(text)[0]) for text in overrides]
