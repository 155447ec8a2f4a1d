"""Data and model text shown on a terminal as text, never as terminal commands.

Example ids, prompts, model replies, error messages and config names reach the
console. Written raw, an escape sequence in them (`ESC[2J` clears the screen,
`ESC]0;...` retitles the window, `\\r` overwrites a line, bidi overrides reorder it)
would drive the terminal. `visible` shows such characters escaped (`\\x1b`, `\\r`,
`\\u202e`); line breaks and tabs stay. `sanitized` applies it to every string inside a
value (events, run info, summaries), so a display can only receive visible text. Rich
markup is a second channel: the Rich displays print with markup off, or through `Text`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from rich.text import Text

_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0 controls but tab and line feed, DEL, C1 controls (CSI is \\x9b), bidi controls."""

T = TypeVar("T")


def visible(text: str) -> str:
    """`text` with terminal control characters shown escaped: ESC -> `\\x1b`."""
    return _INVISIBLE.sub(lambda m: ascii(m.group())[1:-1], text)


def plain_text(text: str, style: str = "") -> Text:
    """`text` as a Rich Text: made visible, and never read as markup."""
    return Text(visible(text), style=style)


def sanitized(value: T) -> T:
    """`value` with every string inside it (dataclass fields, mappings, sequences) visible."""
    return _sanitized(value)


def _sanitized(value: Any) -> Any:
    if isinstance(value, str):
        return visible(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _sanitized(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, Mapping):
        return {_sanitized(k): _sanitized(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_sanitized(v) for v in value)
    return value
