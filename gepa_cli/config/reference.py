"""The config reference: every key by dotted path with its type, default, bounds and help.

Read off the same declaration that parsing, `config.yaml` and the JSON Schema use
(`schema`, through `declaration.keys_of`), so docs and `gepa validate`'s plan can
show each key without restating it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gepa_cli.config.declaration import Key, keys_of
from gepa_cli.config.reader import REQUIRED
from gepa_cli.config.schema import ExperimentConfig


@dataclass(frozen=True)
class KeyHelp:
    """What the docs say about one key."""

    path: str
    """Dotted, as in YAML and `--set`: `search.minibatch_size`."""
    type: str
    """In words: `integer`, `number or null`, `pareto | current_best | epsilon_greedy`,
    `section`, `mapping`, `path or string`..."""
    default: Any
    """The default as YAML would write it; None when required, null or a section."""
    required: bool
    bounds: str
    """`>= 1`, `between 0 and 1`, `> 0`, or empty."""
    help: str


def key_help() -> dict[str, KeyHelp]:
    """Every YAML key of the experiment config by dotted path, in YAML order; a section
    comes before its own keys."""
    entries: dict[str, KeyHelp] = {}
    _collect(ExperimentConfig, "", entries)
    return entries


def _collect(cls: type, prefix: str, entries: dict[str, KeyHelp]) -> None:
    for key in keys_of(cls):
        if key.hidden:
            continue
        path = f"{prefix}{key.name}"
        entries[path] = _entry(key, path)
        if key.section is not None:
            _collect(key.section, f"{path}.", entries)


def _entry(key: Key, path: str) -> KeyHelp:
    has_default = key.default is not REQUIRED and key.kind != "section"
    return KeyHelp(
        path=path,
        type=type_words(key),
        default=key.default if has_default else None,
        required=key.required,
        bounds=bounds_words(key),
        help=key.help,
    )


def type_words(key: Key) -> str:
    """The key's YAML type in words."""
    words = [" | ".join(key.choices) if key.choices else key.kind]
    words += [str(alternative.get("type", "other")) for alternative in key.also]
    if key.accepts_null:
        words.append("null")
    return " or ".join(dict.fromkeys(words))


def bounds_words(key: Key) -> str:
    """The key's numeric range in the words of the loader's error messages."""
    low, high = key.minimum, key.maximum
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    if key.exclusive_minimum is not None:
        return f"> {key.exclusive_minimum:g}"
    if low is not None:
        return f">= {low:g}"
    return "" if high is None else f"<= {high:g}"


def reference_markdown() -> str:
    """The reference as a Markdown table (key, type, default, help)."""
    rows = ["| key | type | default | help |", "| --- | --- | --- | --- |"]
    for entry in key_help().values():
        kind = f"{entry.type} ({entry.bounds})" if entry.bounds else entry.type
        default = "required" if entry.required else _yaml_value(entry)
        cells = [f"`{entry.path}`", kind, default, entry.help]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)


def _yaml_value(entry: KeyHelp) -> str:
    value = entry.default
    if entry.type.startswith("section"):
        return ""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"`{value}`" if value != {} else "`{}`"
