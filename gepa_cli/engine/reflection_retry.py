"""Judging a reflection reply and asking again when it gave nothing to try.

Every reply is one of three outcomes: `new` (an instruction that differs from the
parent's), `unchanged` (the parent's instruction again, up to whitespace, case and
markdown, or with at most a few words changed in a long one), or
`unusable` (nothing extractable, a refusal, a request for more input, or the request's
own examples copied back with their feedback). An instruction that was already proposed
earlier in the run counts as `unchanged` too. An unchanged or unusable reply is followed
by a changed request: the previous reply is shown back as the repeat or non-answer it
was, and the examples the step got wrong are put first.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from gepa_cli.engine.reflection import render_examples
from gepa_cli.engine.types import Rollout
from gepa_cli.lm.base import Message

OUTCOMES = ("new", "unchanged", "unusable")
_MIN_INSTRUCTION_CHARS = 3
_NON_ANSWER = re.compile(
    r"^\W*(please (provide|share|give|send)|could you (please )?(provide|share)|"
    r"(i'?m|i am) sorry|sorry,|i can(no|')t|i cannot|i'?m unable|i am unable|"
    r"certainly! please|sure! please|of course! please)",
    re.IGNORECASE,
)
_ASKS_FOR_INPUT = re.compile(
    r"(provide|share|give me) (the|some|more) (inputs?|examples?|details|information|"
    r"current instruction)",
    re.IGNORECASE,
)

_EXAMPLE_ECHO = re.compile(
    r"^[#*\s]*Example \d+[*:\s]*\n+[*\s]*Input\b.*?^[*\s]*Feedback\b",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
)
"""An example block of the request (its header, `Input`, ..., `Feedback`) in a reply's
instruction: the grader's feedback would reach the task model as part of its prompt."""


def echoes_examples(instruction: str) -> bool:
    """Whether the instruction copies an example of the request with its feedback."""
    return _EXAMPLE_ECHO.search(instruction) is not None


_WORD = re.compile(r"\w+")
NEAR_COPY_MAX_WORDS = 3
"""A reply that changes at most this many words of the parent's instruction (and at most
one word in 20) is a near copy: `unchanged`. In bench-quality runs, 15 of 90 evaluated
proposals changed 0-6 words (a header word added, a label cut short) and none passed the
minibatch; every accepted one changed 36 words or more."""


def near_copy(instruction: str, parent_instruction: str) -> bool:
    """Whether `instruction` is the parent's words again, up to markdown, punctuation and
    a few changed words (at most NEAR_COPY_MAX_WORDS, and at most one word in 20)."""
    before, after = (
        _WORD.findall(parent_instruction.casefold()),
        _WORD.findall(instruction.casefold()),
    )
    allowed = min(NEAR_COPY_MAX_WORDS, len(before) // 20)
    if abs(len(before) - len(after)) > allowed:
        return False
    ops = difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    changed = sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in ops if op != "equal")
    return changed <= allowed


def _normalized(text: str) -> str:
    return " ".join(text.split()).casefold()


def classify_reply(instruction: str | None, parent_instruction: str) -> str:
    """`new`, `unchanged` or `unusable` for the instruction extracted from a reply."""
    if instruction is None or len(instruction.strip()) < _MIN_INSTRUCTION_CHARS:
        return "unusable"
    head = instruction.strip()[:200]
    if _NON_ANSWER.search(head) or (len(instruction) < 300 and _ASKS_FOR_INPUT.search(head)):
        return "unusable"
    if echoes_examples(instruction):
        return "unusable"
    if _normalized(instruction) == _normalized(parent_instruction):
        return "unchanged"
    if near_copy(instruction, parent_instruction):
        return "unchanged"
    return "new"


def retry_reason(instruction: str | None, outcome: str, already_tried: bool) -> str:
    """What the follow-up request names as wrong: `tried`, `echo`, or the outcome."""
    if already_tried:
        return "tried"
    if outcome == "unusable" and instruction is not None and echoes_examples(instruction):
        return "echo"
    return outcome


def _what_went_wrong(reason: str) -> str:
    if reason == "echo":
        return (
            "Your reply copied the examples and their feedback into the instruction. The "
            "step never sees the feedback; write the general rules it teaches instead."
        )
    if reason == "tried":
        return (
            "Your reply is an instruction that was already tried on this step and did not do "
            "better. Write a different one."
        )
    if reason == "unchanged":
        return (
            "Your reply repeated the current instruction, at most reformatted or with a "
            "word or two changed. The step keeps failing with that instruction, so its "
            "rules must change."
        )
    return (
        "Your reply held no usable instruction (it was empty, declined, or asked for more "
        "input). Everything you need is above; do not ask for anything."
    )


def build_retry_messages(
    first_request: Sequence[Message],
    previous_reply: str,
    reason: str,
    module: str,
    rollouts: Sequence[Rollout],
    perfect_score: float,
) -> list[Message]:
    """The first request, the previous reply, and a follow-up that names what was wrong
    with it and puts the failing examples with their feedback first."""
    failing = [r for r in rollouts if r.score < perfect_score] or list(rollouts)
    follow_up = (
        f"{_what_went_wrong(reason)}\n\n"
        f"These are the inputs the step got wrong, with the feedback on each:\n\n"
        f"{render_examples(module, failing)}\n\n"
        "Write a different, improved instruction for the step: keep what still holds, and "
        "add the rules the feedback teaches so that these inputs come out right. Reply with "
        "only the new instruction inside one ``` fenced block."
    )
    return [
        *first_request,
        {"role": "assistant", "content": previous_reply.strip() or "(empty reply)"},
        {"role": "user", "content": follow_up},
    ]
