"""The `judge` task: one module replies; an LLM judge grades the reply against a rubric.

The judge is the same task LM, called inside `run` right after the module and recorded in
the trace as the module `_judge` (informational: the engine only reflects on `task.modules`).
Options: `rubric` (required text), `scale` (default 10: the judge ends with "Score: N/10"),
`reference_field` (optional data field with a reference answer shown to the judge).
Score = N / scale clamped to [0, 1]; feedback = the judge's rationale. Owns parsing the
judge's reply: the last "Score: N[/M]" line, else a bare "N" or "N/M" reply, else the last
"N/scale" anywhere; anything else scores 0 with feedback saying the reply was unparsable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gepa_cli.engine.types import Example, ModuleCall, Prompts
from gepa_cli.lm.base import LM, Message
from gepa_cli.tasks.base import Score, TaskConfigError, TaskOutput
from gepa_cli.tasks.chat import (
    ask,
    check_option_names,
    example_input,
    number_option,
    single_module,
)

JUDGE_MODULE = "_judge"
OPTIONS = ("rubric", "scale", "reference_field")
_MAX_RATIONALE = 1500
_NUMBER = r"(-?\d+(?:\.\d+)?)"
_OUT_OF = rf"(?:\s*(?:/|out of)\s*{_NUMBER})?"
_SCORE_LINE = re.compile(rf"\bscore\b[\s:=*_]*{_NUMBER}{_OUT_OF}", re.IGNORECASE)
_BARE = re.compile(rf"^[\s*_`]*{_NUMBER}{_OUT_OF}[\s*_`.]*$", re.IGNORECASE)
_FRACTION = re.compile(rf"{_NUMBER}\s*(?:/|out of)\s*{_NUMBER}", re.IGNORECASE)

JUDGE_INSTRUCTION = (
    "You are a careful, strict grader. Grade the response to the task below by this rubric:\n\n"
    "{rubric}\n\n"
    "First explain briefly what the response does well and what it misses by the rubric. "
    "Then end with one final line of the form 'Score: N/{scale}', where N is a whole number "
    "from 0 to {scale}."
)


@dataclass(frozen=True)
class JudgeScore:
    """A parsed judge grade: `value` in [0, 1] and the grade as written, e.g. '7/10'."""

    value: float
    shown: str


def parse_judge_score(reply: str, scale: float) -> JudgeScore | None:
    """The grade in a judge's reply as a fraction of `scale` (or of its own '/M'), or None."""
    matches = list(_SCORE_LINE.finditer(reply))
    match = matches[-1] if matches else _BARE.match(reply.strip())
    if match is None:
        fractions = [m for m in _FRACTION.finditer(reply) if float(m.group(2)) == scale]
        match = fractions[-1] if fractions else None
    if match is None:
        return None
    numerator = float(match.group(1))
    denominator = float(match.group(2)) if match.group(2) else scale
    if denominator <= 0:
        return None
    value = min(1.0, max(0.0, numerator / denominator))
    return JudgeScore(value, f"{match.group(1)}/{match.group(2) or f'{scale:g}'}")


def judge_rationale(reply: str) -> str:
    """The judge's reply without its score line(s), whitespace-collapsed and capped."""
    lines = [line for line in reply.splitlines() if not _SCORE_LINE.search(line)]
    text = " ".join(" ".join(lines).split()) or "(no rationale given)"
    return text if len(text) <= _MAX_RATIONALE else text[:_MAX_RATIONALE] + "..."


def call_judge(lm: LM, module: str, instruction: str, user_text: str) -> ModuleCall:
    """One judge call (system = `instruction`), returned as a trace entry named `module`."""
    messages: list[Message] = [
        {"role": "system", "content": instruction},
        {"role": "user", "content": user_text},
    ]
    return ModuleCall(module, user_text, lm.complete(messages).text)


class JudgeTask:
    """A single module whose reply an LLM judge grades by a rubric."""

    def __init__(
        self, module: str, rubric: str, scale: int = 10, reference_field: str | None = None
    ) -> None:
        self.module = module
        self.modules: tuple[str, ...] = (module,)
        self.rubric = rubric
        self.scale = scale
        self.reference_field = reference_field
        self.required_fields: tuple[str, ...] = ("input",) + (
            (reference_field,) if reference_field else ()
        )

    def run(self, example: Example, prompts: Prompts, lm: LM) -> TaskOutput:
        answered = ask(self.module, example, prompts, lm)
        instruction = JUDGE_INSTRUCTION.format(rubric=self.rubric, scale=self.scale)
        judged = call_judge(lm, JUDGE_MODULE, instruction, self.judge_input(example, answered))
        return TaskOutput(answered.output, answered.trace + (judged,))

    def judge_input(self, example: Example, answered: TaskOutput) -> str:
        """What the judge reads: the task input, the reference if any, and the response."""
        parts = [f"Task input:\n{example_input(example)}"]
        if self.reference_field:
            parts.append(f"Reference answer:\n{example_input(example, self.reference_field)}")
        parts.append(f"Response to grade:\n{answered.output.strip() or '(empty response)'}")
        return "\n\n".join(parts)

    def score(self, example: Example, output: TaskOutput) -> Score:
        reply = next((c.output for c in output.trace if c.module == JUDGE_MODULE), None)
        if reply is None:
            return Score(0.0, "No judge verdict was recorded for this response.")
        grade = parse_judge_score(reply, self.scale)
        if grade is None:
            shown = " ".join(reply.split())[:300] or "(empty)"
            return Score(
                0.0,
                f"The judge reply was unparsable (no 'Score: N/{self.scale}' line): '{shown}'",
            )
        return Score(
            grade.value,
            f"The judge scored the response {grade.shown}. Rationale: {judge_rationale(reply)}",
        )


def build_judge_task(options: Mapping[str, Any], module_names: Sequence[str]) -> JudgeTask:
    """Factory for `task.type: judge`."""
    check_option_names(options, OPTIONS)
    rubric = options.get("rubric")
    if not isinstance(rubric, str) or not rubric.strip():
        raise TaskConfigError("[task.options.rubric] the judge task needs a rubric (text)")
    scale = number_option(options, "scale", 10)
    if scale < 1 or scale != int(scale):
        raise TaskConfigError(f"[task.options.scale] must be a whole number >= 1; got {scale:g}")
    reference_field = options.get("reference_field")
    if reference_field is not None and (
        not isinstance(reference_field, str) or not reference_field
    ):
        raise TaskConfigError(
            f"[task.options.reference_field] must be a field name; got {reference_field!r}"
        )
    return JudgeTask(single_module("judge", module_names), rubric, int(scale), reference_field)
