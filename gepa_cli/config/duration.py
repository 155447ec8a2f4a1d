"""Durations such as `budget.max_time`: "90", "90s", "30m", "1h30m", "1d" -> seconds.

One list of units serves both the parser and the JSON Schema pattern that editors
check the same strings with.
"""

from __future__ import annotations

import re
from typing import Any

from gepa_cli.config.errors import ConfigError
from gepa_cli.config.reader import as_float, describe

_UNITS = (("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0))
_NUMBER = r"\d+(?:\.\d+)?"
_DURATION = re.compile("".join(rf"(?:({_NUMBER})\s*{unit}\s*)?" for unit, _ in _UNITS))
_SECONDS = re.compile(_NUMBER)

DURATION_PATTERN = (
    r"^(?=\s*\d)\s*(?:"
    + _NUMBER
    + "|"
    + "".join(rf"(?:{_NUMBER}\s*[{unit}{unit.upper()}]\s*)?" for unit, _ in _UNITS)
    + r")\s*$"
)
"""The strings `parse_duration` accepts, as an ECMA-262 regular expression."""


def parse_duration(value: Any, key: str) -> float | None:
    """Seconds from 90, 90.5, "90", "90s", "30m", "2h", "1h30m" or "1d"; null stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        match = _DURATION.fullmatch(text)
        if _SECONDS.fullmatch(text):
            value = float(text)
        elif text and match:
            pairs = zip(match.groups(), _UNITS, strict=True)
            value = sum(float(amount) * unit for amount, (_, unit) in pairs if amount)
        else:
            raise ConfigError(
                'expected a duration such as 90, "90s", "30m", "2h" or "1h30m", '
                f"got {describe(value)}",
                key=key,
            )
    seconds = as_float(value, key)
    if seconds <= 0:
        raise ConfigError(f"must be > 0, got {describe(value)}", key=key)
    return seconds
