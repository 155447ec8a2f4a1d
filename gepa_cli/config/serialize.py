"""`config_to_dict`: an `ExperimentConfig` back into plain, YAML-ready data.

The keys, their YAML names and their order come from the declaration (`schema`);
only two values are written in a YAML-only form: a split without a slice as its
path alone, and a model's replicas as the list in `base_url`. The result reloads to
an equal config from any folder: paths are absolute strings, prompts are inlined
text, `max_time` is a number of seconds, and every string is escaped (`${` -> `$${`)
so that reloading does not expand it again. The run directory stores it as
`config.yaml`, which `gepa resume` reads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gepa_cli.config.declaration import keys_of
from gepa_cli.config.expand import escape_env
from gepa_cli.config.schema import ExperimentConfig, ModelSpec, SplitSpec


def config_to_dict(cfg: ExperimentConfig) -> dict[str, Any]:
    """Plain dicts, lists, strings, numbers, booleans and nulls, in the order of DESIGN §3."""
    escaped: dict[str, Any] = escape_env(_plain(cfg))
    return escaped


def _split(split: SplitSpec) -> str | dict[str, Any]:
    if split.offset == 0 and split.limit is None and split.stride == 1:
        return str(split.path)
    return _section(split)


def _base_url(spec: ModelSpec) -> str | list[str] | None:
    return list(spec.replicas) if spec.replicas else spec.base_url


_VALUE: dict[type, Callable[[Any], Any]] = {SplitSpec: _split}
"""Value classes written in a shorter YAML form than a full section."""
_KEY: dict[tuple[type, str], Callable[[Any], Any]] = {(ModelSpec, "base_url"): _base_url}
"""Keys whose YAML value is computed from the whole section."""


def _plain(value: Any) -> Any:
    if type(value) in _VALUE:
        return _VALUE[type(value)](value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _section(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _section(value: Any) -> dict[str, Any]:
    """Every declared key of a value class under its YAML name, in declaration order."""
    cls: type = type(value)
    plain: dict[str, Any] = {}
    for key in keys_of(cls):
        if key.hidden:
            continue
        special = _KEY.get((cls, key.attr))
        plain[key.name] = special(value) if special else _plain(getattr(value, key.attr))
    return plain
