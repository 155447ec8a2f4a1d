"""Two kinds of reflection reply that look new but give nothing to try: a near copy of the
parent's instruction (only markdown or a header word differs) and an instruction that
copies the examples shown to the reflection together with their feedback. Pure text
checks, used by `reflection_retry.classify_reply`."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from gepa_cli.engine.types import Rollout

_TOKEN = re.compile(r"\w+|[\[\]{}()<>\"'|/,;=]")
"""Words, and the punctuation that can define an output format. Markdown (`*`, `#`,
backticks, `>`, list dashes) and sentence punctuation (`.:!?`) are not tokens."""
HEADER_WORDS = frozenset(
    {"task", "rules", "rule", "instruction", "instructions", "new", "improved"}
)
"""Words a reply may add or drop around the parent's text without changing it: the section
headers small models put on a copy (`**Task:**`, `Rules:`, `New instruction:`)."""


def _tokens(text: str) -> list[str]:
    return [t.strip("_") or t for t in _TOKEN.findall(text.casefold())]


def near_copy(instruction: str, parent_instruction: str) -> bool:
    """Whether `instruction` is the parent's text again: the same words and format
    punctuation up to markdown, sentence punctuation, case, whitespace, and header words
    added or dropped. Any other changed word (a label, a number, a "not") makes it new."""
    before, after = _tokens(parent_instruction), _tokens(instruction)
    if before == after:
        return True
    ops = difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    for op, i1, i2, j1, j2 in ops:
        if op == "equal":
            continue
        if op == "replace" or not set(before[i1:i2] + after[j1:j2]) <= HEADER_WORDS:
            return False
    return True


_SNIPPET_CHARS = 80
_MIN_SNIPPET_CHARS = 20


def _squashed(text: str) -> str:
    return " ".join(re.sub(r"[*_#`>]+", " ", text).split()).casefold()


def _snippet(text: str) -> str | None:
    """The start of a shown text, long enough to be found only if copied; None if short."""
    squashed = _squashed(text)[:_SNIPPET_CHARS]
    return squashed if len(squashed) >= _MIN_SNIPPET_CHARS else None


def shown_pairs(module: str, rollouts: Sequence[Rollout]) -> list[tuple[str, str]]:
    """Per example shown to the reflection: the step's input and the feedback on it."""
    pairs = []
    for rollout in rollouts:
        inputs = "\n".join(c.inputs for c in rollout.trace if c.module == module)
        pairs.append((inputs, rollout.module_feedback.get(module, rollout.feedback)))
    return pairs


def echoes_examples(instruction: str, shown: Sequence[tuple[str, str]]) -> bool:
    """Whether the instruction copies an example shown to the reflection: the start of its
    input and the start of its feedback, both verbatim (up to markdown and whitespace)."""
    text = _squashed(instruction)
    for inputs, feedback in shown:
        seen_input, seen_feedback = _snippet(inputs), _snippet(feedback)
        if seen_input and seen_feedback and seen_input in text and seen_feedback in text:
            return True
    return False
