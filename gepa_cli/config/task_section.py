"""Building `TaskSpec` from the raw `task:` section: type, data splits, fields, prompts.

Relative paths (splits, prompt files, `python:` task files) are taken from the
config file's folder and stored absolute, so a config written back into a run
directory still points at the same files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gepa_cli.config.declaration import build_section
from gepa_cli.config.errors import ConfigError
from gepa_cli.config.reader import Section, describe, resolve_path
from gepa_cli.config.schema.task import (
    MODULE_NAME,
    PROMPT_FILE_KEY,
    DataSpec,
    SplitSpec,
    TaskSpec,
)
from gepa_cli.input_limits import MAX_TEXT_BYTES, read_regular_file

PYTHON_PREFIX = "python:"

_MODULE_NAME = re.compile(MODULE_NAME)


def build_task(section: Section, base_dir: Path) -> TaskSpec:
    """The task spec; `base_dir` is the folder relative paths are taken from."""
    readers = {
        "type": lambda task, _: _task_type(task, base_dir),
        "data": lambda task, _: _data(task.section("data"), base_dir),
        "prompts": lambda task, _: _prompts(task.section("prompts"), base_dir),
        "options": lambda task, _: _options(task, base_dir),
    }
    return build_section(section, TaskSpec, readers)


def _options(section: Section, base_dir: Path) -> dict[str, object]:
    """Task options; string values of keys ending in `_file` are paths (made absolute)."""
    options = dict(section.free_mapping("options"))
    for key, value in options.items():
        if key.endswith("_file") and isinstance(value, str):
            options[key] = str(resolve_path(value, base_dir, f"{section.key('options')}.{key}"))
    return options


def _task_type(section: Section, base_dir: Path) -> str:
    text = section.string("type").strip()
    if not text.startswith(PYTHON_PREFIX):
        return text
    target, colon, class_name = text.removeprefix(PYTHON_PREFIX).rpartition(":")
    if not colon or not target.strip() or not class_name.isidentifier():
        raise ConfigError(
            f"expected python:path/to/file.py:ClassName, got {describe(text)}",
            key=section.key("type"),
        )
    if not (target.endswith(".py") or "/" in target):
        return text  # a module path, not a file: nothing to resolve
    path = resolve_path(target, base_dir, section.key("type"))
    return f"{PYTHON_PREFIX}{path}:{class_name}"


def _data(section: Section, base_dir: Path) -> DataSpec:
    readers = {
        "train": lambda data, _: _split(data, "train", base_dir),
        "val": lambda data, _: _split(data, "val", base_dir),
        "test": lambda data, _: _split(data, "test", base_dir) if data.has("test") else None,
        "select": lambda data, _: _split(data, "select", base_dir) if data.has("select") else None,
    }
    return build_section(section, DataSpec, readers)


def _split(parent: Section, name: str, base_dir: Path) -> SplitSpec:
    key = parent.key(name)
    value = parent.data.get(name)
    if value is None:
        raise ConfigError("required key is missing", key=key)
    if isinstance(value, str):
        return SplitSpec(path=resolve_path(value, base_dir, key))
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"expected a path or {{path, offset, limit}}, got {describe(value)}", key=key
        )
    path = {
        "path": lambda split, _: resolve_path(split.string("path"), base_dir, split.key("path"))
    }
    return build_section(Section(key, value), SplitSpec, path)


def _prompts(section: Section, base_dir: Path) -> dict[str, str]:
    if not section.data:
        raise ConfigError(
            "required: at least one module and its instruction, e.g. solve: 'Solve the problem.'",
            key=section.path,
        )
    prompts: dict[str, str] = {}
    for module, value in section.data.items():
        key = section.key(module)
        if not isinstance(module, str) or not _MODULE_NAME.fullmatch(module):
            raise ConfigError(
                f"module names use letters, digits, '_', '.' and '-', got {describe(module)}",
                key=key,
            )
        prompts[module] = _instruction(value, key, base_dir)
    return prompts


def _instruction(value: Any, key: str, base_dir: Path) -> str:
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"expected an instruction or {{file: path}}, got {describe(value)}", key=key
        )
    spec = Section(key, value)
    spec.check_keys((PROMPT_FILE_KEY,))
    path = resolve_path(spec.string(PROMPT_FILE_KEY), base_dir, spec.key(PROMPT_FILE_KEY))
    return read_prompt_file(path, spec.key(PROMPT_FILE_KEY))


def read_prompt_file(path: Path, key: str) -> str:
    """The file's UTF-8 text without trailing newlines."""
    try:
        raw = read_regular_file(path, MAX_TEXT_BYTES).decode("utf-8")
        text = raw.replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it
    except FileNotFoundError:
        raise ConfigError(f"file not found: {path}", key=key) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not valid UTF-8", key=key) from None
    except (OSError, ValueError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        raise ConfigError(f"cannot read {path}: {reason}", key=key) from None
    return text.rstrip("\n")
