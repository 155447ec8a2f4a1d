"""Judging a reflection reply and asking again when it gave nothing to try.

Every reply is one of three outcomes: `new` (an instruction that differs from the
parent's), `unchanged` (the parent's instruction again, up to whitespace and case, or a
near copy: see `reply_checks`), or `unusable` (nothing extractable, a refusal, a request
for more input, or an example shown to the reflection copied back with its feedback). An
instruction that was already proposed earlier in the run counts as `unchanged` too. An
unchanged or unusable reply is followed by a changed request: the previous reply is shown
back as the repeat or non-answer it was, and the examples the step got wrong are put
first. After a copy of the parent or of an instruction already tried, the follow-up asks
only for rules to add (`rule_edit`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gepa_cli.engine.reflection import render_examples
from gepa_cli.engine.reply_checks import echoes_examples, near_copy
from gepa_cli.engine.rule_edit import RULES_REQUEST
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


def _normalized(text: str) -> str:
    return " ".join(text.split()).casefold()


def judge_reply(
    instruction: str | None, parent_instruction: str, shown: Sequence[tuple[str, str]] = ()
) -> str:
    """Why the instruction extracted from a reply is or is not worth trying: `new`,
    `unchanged`, `near_copy` (counted as unchanged), `unusable`, or `echo` (counted as
    unusable: it copies one of the `shown` (input, feedback) pairs)."""
    if instruction is None or len(instruction.strip()) < _MIN_INSTRUCTION_CHARS:
        return "unusable"
    head = instruction.strip()[:200]
    if _NON_ANSWER.search(head) or (len(instruction) < 300 and _ASKS_FOR_INPUT.search(head)):
        return "unusable"
    if _normalized(instruction) == _normalized(parent_instruction):
        return "unchanged"
    if near_copy(instruction, parent_instruction):
        return "near_copy"
    if echoes_examples(instruction, shown) and not echoes_examples(parent_instruction, shown):
        return "echo"
    return "new"


def outcome_of(reason: str) -> str:
    """The outcome (`new`, `unchanged`, `unusable`) a `judge_reply` reason counts as."""
    return {"near_copy": "unchanged", "echo": "unusable"}.get(reason, reason)


def classify_reply(
    instruction: str | None, parent_instruction: str, shown: Sequence[tuple[str, str]] = ()
) -> str:
    """`new`, `unchanged` or `unusable` for the instruction extracted from a reply."""
    return outcome_of(judge_reply(instruction, parent_instruction, shown))


def _what_went_wrong(reason: str) -> str:
    if reason == "echo":
        return (
            "Your reply copied the examples and their feedback into the instruction. The "
            "step never sees the feedback; write the general rules it teaches instead."
        )
    if reason == "tried":
        return "Your reply is an instruction that was already tried on this step."
    if reason in ("unchanged", "near_copy"):
        return "Your reply repeated the current instruction, at most reformatted."
    return (
        "Your reply held no usable instruction (it was empty, declined, or asked for more "
        "input). Everything you need is above; do not ask for anything."
    )


def asks_for_rules(reason: str) -> bool:
    """Whether the retry after a reply judged `reason` asks only for rules to add: after a
    copy of the parent's instruction or of one already tried (see `rule_edit`); a small
    model that copies an instruction once mostly copies it again when asked to rewrite."""
    return reason in ("unchanged", "near_copy", "tried")


def build_retry_messages(
    first_request: Sequence[Message],
    previous_reply: str,
    reason: str,
    module: str,
    rollouts: Sequence[Rollout],
    perfect_score: float,
    rules: bool | None = None,
) -> list[Message]:
    """The first request, the previous reply, and a follow-up that names what was wrong
    with it and puts the failing examples with their feedback first. With `rules` (by
    default: after a copy of the parent's instruction), it asks only for rules to add."""
    failing = [r for r in rollouts if r.score < perfect_score] or list(rollouts)
    if asks_for_rules(reason) if rules is None else rules:
        follow_up = RULES_REQUEST.replace("{what_went_wrong}", _what_went_wrong(reason))
        follow_up = follow_up.replace("{examples}", render_examples(module, failing))
    else:
        follow_up = _rewrite_request(reason, module, failing)
    return [
        *first_request,
        {"role": "assistant", "content": previous_reply.strip() or "(empty reply)"},
        {"role": "user", "content": follow_up},
    ]


def build_rules_first_messages(
    request: Sequence[Message],
    module: str,
    instruction: str,
    rollouts: Sequence[Rollout],
    perfect_score: float,
) -> list[Message]:
    """The reflection request for an instruction the model copied back before: the
    request's system message (if any), then the current instruction and a request for
    rules only, with the failing examples (see `rule_edit`)."""
    failing = [r for r in rollouts if r.score < perfect_score] or list(rollouts)
    ask = RULES_REQUEST.replace("{what_went_wrong}", _COPIED_BEFORE)
    ask = ask.replace("{examples}", render_examples(module, failing))
    body = (
        f'You are improving the instruction of the step "{module}" in a language-model '
        f"program.\n\nThe current instruction:\n```\n{instruction.strip()}\n```\n\n{ask}"
    )
    system = [m for m in request if m["role"] == "system"]
    return [*system, {"role": "user", "content": body}]


_COPIED_BEFORE = "Asked before to rewrite the current instruction, you copied it back."


def _rewrite_request(reason: str, module: str, failing: Sequence[Rollout]) -> str:
    return (
        f"{_what_went_wrong(reason)}\n\n"
        f"These are the inputs the step got wrong, with the feedback on each:\n\n"
        f"{render_examples(module, failing)}\n\n"
        "Write a different, improved instruction for the step: keep what still holds, and "
        "add the rules the feedback teaches so that these inputs come out right. Reply with "
        "only the new instruction inside one ``` fenced block."
    )
