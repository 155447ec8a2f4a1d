"""Turning the text extracted from a reflection reply into the instruction itself: the
wrappers a small model puts around it are taken off.

- A leading heading that only names the block ("### New Instruction", "## Improved
  prompt:") is dropped: it is a caption for the reader, not a rule for the step. In the
  quality benchmark 50 of 161 reflection replies began with one, and it went into the
  task model's system message.
- A block that is one JSON object is unwrapped: an object holding the instruction under
  one key ({"new_instruction": "..."}) becomes that text, and a flat object of strings and
  lists of strings ({"task": ..., "rules": [...], "output": ...}, the default meta-prompt's
  layout written as JSON, 19 of 161 replies) becomes plain text: each string as a line,
  each list as "Key:" and one "- item" per line. Anything else (numbers, nesting, JSON that
  does not parse) is left as it was.
"""

from __future__ import annotations

import json
import re
from typing import Any

_CAPTION = re.compile(
    r"\A[ \t]*#{1,6}[ \t]*(the[ \t]+)?((new|improved|updated|revised|better|final)[ \t]+)?"
    r"(instructions?|prompt)([ \t]+for[ \t]+the[ \t]+\w+)?[ \t]*:?[ \t]*\n",
    re.IGNORECASE,
)
_INSTRUCTION_KEY = re.compile(r"instruction|prompt", re.IGNORECASE)


def clean_instruction(text: str) -> str:
    """`text` without a leading caption heading, and unwrapped when it is a JSON object."""
    text = _CAPTION.sub("", text, count=1).strip()
    if text.startswith("{"):
        return _unwrapped_json(text) or text
    return text


def _unwrapped_json(text: str) -> str | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or not value:
        return None
    strings = {k: v for k, v in value.items() if isinstance(v, str)}
    if len(value) == 1 and strings:
        return next(iter(strings.values())).strip() or None
    named = [v for k, v in strings.items() if _INSTRUCTION_KEY.search(k)]
    if len(named) == 1 and named[0].strip():
        return named[0].strip()
    if all(isinstance(v, str) or _is_string_list(v) for v in value.values()):
        return "\n".join(_as_lines(key, item) for key, item in value.items()).strip() or None
    return None


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _as_lines(key: str, value: str | list[str]) -> str:
    if isinstance(value, str):
        return value.strip()
    title = key.replace("_", " ").strip().capitalize()
    items = (f"- {item.strip().removeprefix('- ').strip()}" for item in value if item.strip())
    return "\n".join((f"{title}:", *items))
