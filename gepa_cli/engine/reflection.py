"""The reflection step: the meta-prompt shown to the reflection LM and the
extraction of the new instruction from its reply.

The default meta-prompt is written for small local models as much as for large
hosted ones: a system role that fixes the job, clearly delimited sections, and
one explicit output format (a single fenced block). A custom template may be
given as text with the placeholders {module}, {instruction} and {examples}.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gepa_cli.engine.instruction_text import clean_instruction
from gepa_cli.engine.types import Rollout
from gepa_cli.lm.base import Message

SYSTEM_PROMPT = (
    "You are an expert prompt engineer. You rewrite the instruction of one step of a "
    "language-model program so that the step gets its inputs right. You never answer the "
    "examples yourself. You reply with the new instruction inside one ``` fenced block."
)

DEFAULT_TEMPLATE = """\
You are improving the instruction of the step "{module}" in a language-model program.

The current instruction:
```
{instruction}
```

How the step did on some inputs: what it received, what it produced, and feedback on \
each result.

{examples}

Write an improved instruction.
- The feedback tells the right output and often explains why. Those explanations, and \
any facts of the domain the feedback mentions, are the rules the step must learn: copy \
each one into the instruction as a general rule.
- Where the feedback gives no reason, find what in the input decides the right output \
(a word, a phrase, a kind of request) and write that as a rule, like "If the input ..., \
answer ...". Never quote one example.
- Keep every rule of the current instruction that still holds.

Write the instruction as: one or two sentences saying what the task is; then, when the \
feedback or the current instruction lists the outputs the step may give (labels, options), \
the line "Allowed outputs:" followed by that complete list, since the step never sees the \
feedback; then the line "Rules:" with one rule per line, each starting with "- "; then one \
sentence saying exactly what the output must look like.

Reply with only the improved instruction inside one ``` fenced block."""

PAPER_TEMPLATE = """\
An assistant was given these instructions for a task of mine:
```
{instruction}
```

Below are several inputs the assistant received, the response it gave to each, and feedback \
on how each response could have been better:
```
{examples}
```

Write a new instruction for the assistant. Study the inputs to work out their format and a \
detailed description of the task. Study every response and its feedback. Put every niche, \
domain-specific fact you find into the instruction, since the assistant may not have that \
information later. If the assistant used a strategy that generalizes, describe it in the \
instruction too. Give the new instruction inside ``` blocks."""
"""The meta-prompt as the GEPA paper describes it (its appendix), paraphrased: one user
message, no system role. Select it with `search.reflection_prompt: paper`."""

BUILTIN_TEMPLATES = {"default": DEFAULT_TEMPLATE, "paper": PAPER_TEMPLATE}
"""Meta-prompts selectable by name in `search.reflection_prompt`."""

MAX_FIELD_CHARS = 1500
"""An input or output shown to the reflection is clipped to this many characters."""
MAX_FEEDBACK_CHARS = 4000
"""Feedback gets more room: it is the learning signal, and a classify task's feedback lists
every allowed label (77 for banking77, about 1,900 characters; at 1,500 the reflection saw
about 60 of them and copied a truncated list into the instruction)."""


def _clip(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + " [...]"


def render_examples(module: str, rollouts: Sequence[Rollout]) -> str:
    """The per-example section of the meta-prompt for one module."""
    blocks = []
    for number, rollout in enumerate(rollouts, start=1):
        calls = [c for c in rollout.trace if c.module == module]
        inputs = "\n---\n".join(_clip(c.inputs) for c in calls) or "(not recorded)"
        outputs = "\n---\n".join(_clip(c.output) for c in calls) or _clip(rollout.output)
        feedback = rollout.module_feedback.get(module, rollout.feedback)
        blocks.append(
            f"### Example {number}\n"
            f"Input:\n{inputs}\n\n"
            f"Output:\n{outputs or '(empty)'}\n\n"
            f"Feedback:\n{_clip(feedback, MAX_FEEDBACK_CHARS)}"
        )
    return "\n\n".join(blocks)


def build_reflection_messages(
    module: str, instruction: str, rollouts: Sequence[Rollout], template: str | None = None
) -> list[Message]:
    """The chat messages asking the reflection LM for a new instruction."""
    body = (template or DEFAULT_TEMPLATE).replace("{module}", module)
    body = body.replace("{instruction}", instruction.strip())
    body = body.replace("{examples}", render_examples(module, rollouts))
    if template == PAPER_TEMPLATE:
        return [{"role": "user", "content": body}]
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": body}]


_FENCE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)
_FENCE_LINE = re.compile(r"^[ \t]*(```|~~~).*$\n?", re.MULTILINE)
_LABEL = re.compile(r"^(new |improved )?instruction\s*:\s*", re.IGNORECASE)


def extract_instruction(reply: str) -> str | None:
    """The text between the first and last fence (a lone fence: everything after it, or
    before it when nothing follows it; no fence: the whole reply). When the fenced part
    is tiny next to the text around it (a small model fencing only an example output),
    the whole reply without its fence lines is taken instead. A caption heading and a
    JSON wrapper are taken off (`instruction_text`). None when nothing usable remains."""
    fences = list(_FENCE.finditer(reply))
    if len(fences) >= 2:
        start = reply.index("\n", fences[0].start()) + 1
        text = reply[start : fences[-1].start()]
        outside = reply[: fences[0].start()] + reply[fences[-1].end() :]
        if len(outside.strip()) > 200 and len(text.strip()) * 4 < len(outside.strip()):
            text = _FENCE_LINE.sub("", reply)
    elif len(fences) == 1:
        after = reply[fences[0].end() :]
        text = after.split("\n", 1)[1] if "\n" in after else ""
        if not text.strip():  # only a closing fence: the instruction is before it
            text = reply[: fences[0].start()]
    else:
        text = reply
    text = clean_instruction(_LABEL.sub("", text.strip()).strip())
    return text or None
