"""Raw JSON values coerced to the types the report uses: a number that is not finite
(or is a bool) becomes None, a non-string None, a non-object an empty mapping."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def as_int(value: Any) -> int | None:
    number = as_float(value)
    return int(number) if number is not None else None


def as_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
