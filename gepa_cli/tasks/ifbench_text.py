"""Text helpers shared by the IFBench checkers: tokenizing, sentences, and feedback phrasing.

Owns how an IFBench checker sees words (`\\w+` runs, whitespace words with punctuation
stripped, or word tokens that keep hyphenated words whole), sentences (the regex splitter of
`ifeval_checks`, standing in for NLTK's Punkt), and small phrasing helpers so every feedback
sentence reads the same way: "it has 3 words; it needs at least 5".
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

PUNCTUATION = string.punctuation
_NO_PUNCTUATION = str.maketrans("", "", PUNCTUATION)
_WORD_TOKEN = re.compile(r"\w+(?:-\w+)*")


def word_runs(text: str) -> list[str]:
    """Runs of word characters: how IFBench counts words for lengths and ratios."""
    return re.findall(r"\w+", text)


def word_tokens(text: str) -> list[str]:
    """Word tokens without punctuation; a hyphenated word stays one token."""
    return _WORD_TOKEN.findall(text)


def drop_punctuation(text: str) -> str:
    """`text` without any ASCII punctuation character."""
    return text.translate(_NO_PUNCTUATION)


def bare(word: str) -> str:
    """A whitespace word with punctuation and spaces stripped from both ends."""
    return word.strip(PUNCTUATION + " ")


def plain_words(text: str) -> list[str]:
    """Lower-cased whitespace words with all punctuation removed."""
    return drop_punctuation(text.lower()).split()


def ascii_fold(text: str) -> str:
    """`text` with accents removed and anything outside ASCII dropped ('São' -> 'Sao')."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 word', '3 words' (or the given plural)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def times(n: int) -> str:
    return count(n, "time")


def ordinal(n: int) -> str:
    """'1st', '2nd', '3rd', '4th', '11th', '22nd'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def shorten(text: str, limit: int = 40) -> str:
    """`text` on one line, cut to `limit` characters with '...'."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def listing(items: Iterable[str], limit: int = 5) -> str:
    """Up to `limit` items quoted and comma-separated, with 'and N more'."""
    items = list(items)
    shown = ", ".join(f"'{shorten(item, 30)}'" for item in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def need(ok: bool, problem: str) -> str | None:
    """None when `ok`, else `problem`."""
    return None if ok else problem


def integer(kw: Mapping[str, Any], name: str) -> int:
    """The integer kwarg `name` (an integral float such as 3.0 counts)."""
    value = kw[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value)


def positive(kw: Mapping[str, Any], name: str) -> int:
    """The integer kwarg `name`, which must be at least 1 (a position or a step)."""
    value = integer(kw, name)
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def text_arg(kw: Mapping[str, Any], name: str) -> str:
    """The string kwarg `name`."""
    value = kw[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r}")
    return value
