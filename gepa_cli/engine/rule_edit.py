"""Rule edits: after a reflection reply that copied the parent's instruction back (or gave an
instruction already tried), the retry asks only for the rules to add, and this module
splices them into the parent.

Why: once an instruction is long (banking77's holds its 77 labels, about 2,500 characters),
the embedded 1.5B model asked to rewrite it returns it unchanged: 30 of 50 reflection calls
in two benchmark runs. Asking for a few new rules is a task a small model can do, and the
splice keeps everything the parent already had.

A reply to a rules request that is itself a whole instruction (it has a "Rules:" heading,
more than a few list items, or prose over half as long as the parent) is taken as a
rewrite, as before.
"""

from __future__ import annotations

import re

MAX_RULES = 3
"""At most this many rules are spliced in from one reply."""

RULES_REQUEST = (
    "{what_went_wrong} The step keeps failing with the current instruction, so it needs new "
    "rules.\n\n"
    "These are the inputs the step got wrong, with the feedback on each:\n\n{examples}\n\n"
    "Do not write the instruction again: it will be kept as it is. Write only the new rules "
    f"(one to {MAX_RULES}) that make these inputs come out right: for each input, what in it "
    "points to the correct output the feedback gives. Each rule is general, like "
    '"If the input ..., answer ...", and never quotes one example. Put one rule per line, '
    'each starting with "- ", inside one ``` fenced block.'
)
"""The follow-up of a rules request; {what_went_wrong} names the previous reply's fault and
{examples} is the failing examples with their feedback."""

_RULES_HEADING = re.compile(r"^[ \t#*_]*rules\b[^\n:]{0,30}:?[ \t*_]*$", re.IGNORECASE | re.M)
_BULLET = re.compile(r"^[ \t]*(?:[-*\u2022+]|\d{1,2}[.)])[ \t]+(\S.*)$")
_ITEM = re.compile(r"^[ \t]*(?:[-*\u2022+]|\d{1,2}[.)])[ \t]+\S")


def is_rewrite(text: str, parent: str) -> bool:
    """Whether a reply to a rules request is a whole instruction rather than rules."""
    lines = [line for line in text.splitlines() if line.strip()]
    items = sum(1 for line in lines if _ITEM.match(line))
    prose = sum(len(line) for line in lines if not _ITEM.match(line))
    if _RULES_HEADING.search(text) or items > 3 * MAX_RULES:
        return True
    return prose * 2 > len(parent) if items else len(text) * 2 > len(parent)


def rules_in(text: str) -> list[str]:
    """The rules a reply lists: its bulleted or numbered lines, or, with none, each of its
    non-empty lines; without their markers."""
    lines = [line for line in text.splitlines() if line.strip()]
    bullets = [m.group(1).strip() for line in lines if (m := _BULLET.match(line))]
    rules = bullets or [line.strip() for line in lines]
    return [rule for rule in rules if len(rule) >= 8]


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text).split()).casefold()


def fresh_rules(parent: str, rules: list[str]) -> list[str]:
    """The first MAX_RULES of `rules` that `parent` does not already hold (a small model
    asked for new rules often lists the parent's own first), without repeats."""
    held = _key(parent)
    fresh: dict[str, str] = {}
    for rule in rules:
        key = _key(rule)
        if key and key not in held and key not in fresh:
            fresh[key] = rule
    return list(fresh.values())[:MAX_RULES]


def splice_rules(parent: str, rules: list[str]) -> str:
    """`parent` with the fresh `rules` (see `fresh_rules`) added as "- " lines: after the
    last item of its "Rules:" section, or under a new "Rules:" heading at its end."""
    fresh = fresh_rules(parent, rules)
    if not fresh:
        return parent
    added = [f"- {rule}" for rule in fresh]
    lines = parent.rstrip().splitlines()
    heading = next((i for i, line in enumerate(lines) if _RULES_HEADING.match(line)), None)
    if heading is None:
        return "\n".join([*lines, "", "Rules:", *added])
    end = heading + 1
    for number in range(heading + 1, len(lines)):
        if _ITEM.match(lines[number]):
            end = number + 1
        elif lines[number].strip():
            break
    return "\n".join([*lines[:end], *added, *lines[end:]])


def apply_rules_reply(text: str | None, parent: str) -> str | None:
    """The instruction a reply to a rules request proposes: a rewrite as it is, rules
    spliced into `parent`, or None when the reply held neither."""
    if text is None:
        return None
    if is_rewrite(text, parent):
        return text
    rules = rules_in(text)
    return splice_rules(parent, rules) if rules else None
