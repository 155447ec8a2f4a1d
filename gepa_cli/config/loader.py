"""Loading the experiment config: file -> YAML -> overrides -> env expansion -> dataclasses.

`load_config` reads and parses the file; `load_config_dict` does the rest, so the
run directory's stored `config.yaml` (a `config_to_dict` result) goes through the
same checks. Every failure is a one-line `ConfigError` naming the file, line or key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from gepa_cli.config.build import build_config, reject_api_keys
from gepa_cli.config.errors import ConfigError
from gepa_cli.config.expand import expand_env
from gepa_cli.config.overrides import OVERRIDE_ORIGIN, apply_overrides, overridden_paths
from gepa_cli.config.reader import describe
from gepa_cli.config.schema import ExperimentConfig
from gepa_cli.config.secrets import reject_credentials
from gepa_cli.input_limits import MAX_TEXT_BYTES, BoundedSafeLoader, read_regular_file

_MERGE_TAG = "tag:yaml.org,2002:merge"


def load_config(path: Path, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """The config in `path` with `overrides` (`key.path=value`) applied on top."""
    raw = read_config_file(path)
    return load_config_dict(raw, path.parent, str(path), overrides)


def load_config_dict(
    raw: Mapping[str, Any], base_dir: Path, source: str, overrides: Sequence[str] = ()
) -> ExperimentConfig:
    """The config in `raw`; relative paths are taken from `base_dir`.

    `source` names where `raw` came from (a file path) and prefixes error messages;
    errors in keys set by `overrides` are attributed to `--set` instead.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"expected a mapping at the top level, got {describe(raw)}", origin=source
        )
    set_paths = overridden_paths(overrides)
    try:
        merged = apply_overrides(_open_split_shorthand(raw, set_paths), overrides)
        reject_api_keys(merged)
        expanded = expand_env(merged, "", os.environ)
        reject_credentials(expanded)
        return build_config(expanded, base_dir)
    except ConfigError as err:
        raise err.located(_origin(err.key, source, set_paths)) from None
    except RecursionError:
        raise ConfigError("the config is nested too deeply", origin=source) from None


def _open_split_shorthand(raw: Mapping[Any, Any], set_paths: Sequence[str]) -> Mapping[Any, Any]:
    """Read `train: f.jsonl` as `{path: f.jsonl}` where an override sets a key inside it,
    so that `--set task.data.val.limit=50` works on a split written as a plain path."""
    task = raw.get("task")
    if not isinstance(task, Mapping) or not isinstance(task.get("data"), Mapping):
        return raw
    data: Mapping[Any, Any] = task["data"]
    opened = dict(data)
    for split, value in data.items():
        if isinstance(value, str) and any(p.startswith(f"task.data.{split}.") for p in set_paths):
            opened[split] = {"path": value}
    return {**raw, "task": {**task, "data": opened}}


def _origin(key: str | None, source: str, set_paths: Sequence[str]) -> str:
    for path in set_paths:
        if key is not None and (key == path or key.startswith((f"{path}.", f"{path}["))):
            return OVERRIDE_ORIGIN
    return source


def read_config_file(path: Path) -> dict[Any, Any]:
    """The YAML mapping in `path`; any problem is a ConfigError naming the file."""
    origin = str(path)
    text = _read_text(path)
    if not text.strip():
        raise ConfigError("the file is empty", origin=origin)
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{origin}:{mark.line + 1}" if mark else origin
        raise ConfigError(f"malformed YAML: {_yaml_problem(err)}", origin=where) from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as err:
        raise ConfigError(f"malformed YAML: {err}", origin=origin) from None
    if raw is None:
        raise ConfigError("the file is empty", origin=origin)
    if not isinstance(raw, dict):
        raise ConfigError(
            f"expected a mapping of config keys at the top level, got {describe(raw)}",
            origin=origin,
        )
    return raw


def _read_text(path: Path) -> str:
    origin = str(path)
    try:
        data = read_regular_file(path, MAX_TEXT_BYTES)
    except FileNotFoundError:
        raise ConfigError("file not found", origin=origin) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, not a config file", origin=origin) from None
    except (OSError, ValueError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        raise ConfigError(f"cannot read the file: {reason}", origin=origin) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"not valid UTF-8 (byte {data[err.start]:#04x} at offset {err.start})",
            origin=origin,
        ) from None


def _yaml_problem(err: yaml.MarkedYAMLError) -> str:
    problem = err.problem or "invalid syntax"
    return f"{problem} ({err.context})" if err.context else problem


class _StrictLoader(BoundedSafeLoader):
    """SafeLoader that also rejects a key written twice in one mapping (and, as a
    BoundedSafeLoader, alias bombs)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            identity = (key_node.tag, key_node.value)
            line = key_node.start_mark.line + 1
            if identity in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {describe(key_node.value)} (first at line {seen[identity]})",
                    key_node.start_mark,
                )
            seen[identity] = line
        return super().construct_mapping(node, deep=deep)
