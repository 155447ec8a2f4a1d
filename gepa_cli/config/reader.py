"""Typed, located reading of the raw YAML mapping: where `[key] message` errors come from.

A `Section` wraps one mapping of the raw config with its dotted location. Its
getters check one value's type and range and raise `ConfigError` naming the key;
`check_keys` rejects unknown keys with a did-you-mean.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from gepa_cli.config.errors import ConfigError


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Final = _Required()
"""Default marker of a key that must be present."""

_MAX_SHOWN = 60


def describe(value: Any) -> str:
    """A short, single-line rendering of a YAML value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= _MAX_SHOWN else repr(value[:_MAX_SHOWN]) + "..."
    if isinstance(value, int | float):
        try:
            return repr(value)
        except ValueError:  # an int with more digits than str() allows
            return "a very large number"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def key_path(parent: str, name: object) -> str:
    """`parent.name`, quoting names that would read ambiguously."""
    plain = isinstance(name, str) and name.isprintable() and name and "." not in name
    segment = name if plain else repr(name)
    return f"{parent}.{segment}" if parent else str(segment)


def suggest(word: str, allowed: Sequence[str], listing: str = "expected one of") -> str:
    """`; did you mean X?` when a close match exists, else `; <listing> A, B, C`."""
    close = difflib.get_close_matches(word, list(allowed), n=1)
    if close:
        return f"; did you mean {close[0]}?"
    return f"; {listing} " + ", ".join(allowed)


def resolve_path(text: str, base_dir: Path, key: str) -> Path:
    """`text` as an absolute path; relative paths are taken from `base_dir`."""
    if not text.strip():
        raise ConfigError("expected a file path, got an empty string", key=key)
    try:
        return (base_dir / Path(text).expanduser()).resolve()
    except (OSError, ValueError, RuntimeError) as err:
        raise ConfigError(f"unusable path {describe(text)}: {err}", key=key) from None


def _format_bound(bound: float) -> str:
    return f"{bound:g}"


def check_range(
    value: float, key: str, minimum: float | None = None, maximum: float | None = None
) -> None:
    """Raise unless minimum <= value <= maximum (either bound optional)."""
    low_ok = minimum is None or value >= minimum
    high_ok = maximum is None or value <= maximum
    if low_ok and high_ok:
        return
    if minimum is not None and maximum is not None:
        rule = f"between {_format_bound(minimum)} and {_format_bound(maximum)}"
    elif minimum is not None:
        rule = f">= {_format_bound(minimum)}"
    else:
        rule = f"<= {_format_bound(maximum or 0)}"
    raise ConfigError(f"must be {rule}, got {describe(value)}", key=key)


def as_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"expected an integer, got {describe(value)}", key=key)
    return value


def as_float(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"expected a number, got {describe(value)}", key=key)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ConfigError(f"expected a finite number, got {describe(value)}", key=key)
    return number


def as_str(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"expected a string, got {describe(value)}", key=key)
    return value


@dataclass(frozen=True)
class Section:
    """One mapping of the raw config and its dotted location ("" for the top level)."""

    path: str
    data: Mapping[Any, Any]

    @classmethod
    def at(cls, path: str, value: Any) -> Section:
        """Wrap `value`; null reads as an empty mapping (every key at its default)."""
        if value is None:
            return cls(path, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"expected a mapping, got {describe(value)}", key=path or None)
        return cls(path, value)

    def key(self, name: object) -> str:
        return key_path(self.path, name)

    def check_keys(self, allowed: Sequence[str]) -> None:
        """Reject any key not in `allowed`, suggesting the closest allowed one."""
        for name in self.data:
            if not isinstance(name, str) or name not in allowed:
                hint = suggest(str(name), allowed, "allowed keys:")
                raise ConfigError("unknown key" + hint, key=self.key(name))

    def has(self, name: str) -> bool:
        """Whether `name` is present with a non-null value."""
        return self.data.get(name) is not None

    def value(self, name: str, default: Any = REQUIRED) -> Any:
        if name in self.data:
            return self.data[name]
        if default is REQUIRED:
            raise ConfigError("required key is missing", key=self.key(name))
        return default

    def section(self, name: str) -> Section:
        return Section.at(self.key(name), self.data.get(name))

    def string(self, name: str, default: Any = REQUIRED) -> str:
        """A non-blank string."""
        text = as_str(self.value(name, default), self.key(name))
        if not text.strip():
            raise ConfigError("must not be empty", key=self.key(name))
        return text

    def optional_string(self, name: str) -> str | None:
        return None if self.data.get(name) is None else self.string(name)

    def integer(self, name: str, default: Any = REQUIRED, *, minimum: int | None = None) -> int:
        number = as_int(self.value(name, default), self.key(name))
        check_range(number, self.key(name), minimum)
        return number

    def optional_integer(
        self, name: str, default: int | None = None, *, minimum: int | None = None
    ) -> int | None:
        if self.value(name, default) is None:
            return None
        return self.integer(name, default, minimum=minimum)

    def number(
        self,
        name: str,
        default: Any = REQUIRED,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
    ) -> float:
        number = as_float(self.value(name, default), self.key(name))
        if positive and number <= 0:
            raise ConfigError(f"must be > 0, got {describe(number)}", key=self.key(name))
        check_range(number, self.key(name), minimum, maximum)
        return number

    def optional_number(
        self,
        name: str,
        default: float | None = None,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
    ) -> float | None:
        if self.value(name, default) is None:
            return None
        return self.number(name, default, minimum=minimum, maximum=maximum, positive=positive)

    def boolean(self, name: str, default: Any = REQUIRED) -> bool:
        value = self.value(name, default)
        if not isinstance(value, bool):
            raise ConfigError(f"expected true or false, got {describe(value)}", key=self.key(name))
        return value

    def choice(self, name: str, default: Any, choices: Sequence[str]) -> str:
        text = as_str(self.value(name, default), self.key(name))
        if text not in choices:
            raise ConfigError(
                f"unknown value {describe(text)}" + suggest(text, choices), key=self.key(name)
            )
        return text

    def free_mapping(self, name: str) -> dict[Any, Any]:
        """A mapping whose content is not checked here (null reads as empty)."""
        return dict(self.section(name).data)

    def string_map(self, name: str) -> dict[str, str]:
        """A str -> str mapping (null reads as empty)."""
        inner = self.section(name)
        result: dict[str, str] = {}
        for key, value in inner.data.items():
            if not isinstance(key, str):
                raise ConfigError(f"keys must be strings, got {describe(key)}", key=inner.key(key))
            result[key] = as_str(value, inner.key(key))
        return result
