"""The built-in `math` task: one module solves a word problem; scored on the final number.

Owns final-number extraction (`Answer:` line, else the last `\\boxed{}`, else the last
number), number parsing (commas, $, %, signs, decimals, simple fractions), numeric
comparison with a tolerance, and the feedback text the reflection LM reads.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gepa_cli.engine.types import Example, Prompts
from gepa_cli.lm.base import LM
from gepa_cli.tasks.base import Score, TaskOutput
from gepa_cli.tasks.chat import ask, check_option_names, number_option, single_module

OPTIONS = ("tolerance",)
DEFAULT_TOLERANCE = 1e-6
RELATIVE_TOLERANCE = 1e-9

_NUMBER = re.compile(
    r"(?<![\w.])"  # not the tail of a word or of another number
    r"(?P<sign>[-+\u2212]?)\$?(?P<sign2>[-+\u2212]?)"
    r"(?P<body>\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s*/\s*(?P<den>\d+(?:\.\d+)?))?"
    r"(?:\s?%)?"
)
_ANSWER_LABEL = re.compile(r"answer\s*:", re.IGNORECASE)
_LATEX_FRACTION = re.compile(r"\\[dt]?frac\s*\{\s*([^{}]+?)\s*\}\s*\{\s*([^{}]+?)\s*\}")
_BOXED = "\\boxed{"

Source = Literal["answer", "boxed", "last"]
_SOURCE_DESCRIPTION: Mapping[Source, str] = {
    "answer": "from its last 'Answer:'",
    "boxed": "from its last \\boxed{}",
    "last": "the last number in the response, as it has no 'Answer:' line",
}


@dataclass(frozen=True)
class ExtractedNumber:
    """A number found in a reply: its value, its text as written, and where it was found."""

    value: float
    text: str
    source: Source


def _plain(text: str) -> str:
    """Rewrite the LaTeX forms a number may take: \\frac{a}{b} -> a/b, 1{,}000 -> 1,000."""
    text = _LATEX_FRACTION.sub(r"\1/\2", text)
    for latex, plain in (("{,}", ","), ("\\$", "$"), ("\\%", "%"), ("\\!", ""), ("\\,", "")):
        text = text.replace(latex, plain)
    return text


def _value(match: re.Match[str]) -> float:
    signs = match["sign"] + match["sign2"]
    sign = -1.0 if "-" in signs or "\u2212" in signs else 1.0
    value = float(match["body"].replace(",", ""))
    denominator = float(match["den"]) if match["den"] else 1.0
    if denominator != 0:
        value /= denominator
    return sign * value


def _numbers(text: str) -> list[re.Match[str]]:
    return list(_NUMBER.finditer(text))


def parse_number(value: Any) -> float | None:
    """A gold answer as a number: ints and floats as they are, strings if wholly one number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    match = _NUMBER.fullmatch(_plain(value).strip())
    return None if match is None else _value(match)


def _boxed_content(text: str) -> str | None:
    """The content of the last \\boxed{...}, braces balanced; None if there is none."""
    start = text.rfind(_BOXED)
    if start < 0:
        return None
    depth, begin = 1, start + len(_BOXED)
    for index in range(begin, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[begin:index]
    return text[begin:]


def extract_final_number(reply: str) -> ExtractedNumber | None:
    """The reply's final answer: after the last `Answer:`, else the last \\boxed{}, else last."""
    labels = list(_ANSWER_LABEL.finditer(reply))
    if labels:
        after = _numbers(_plain(reply[labels[-1].end() :]))
        if after:
            return ExtractedNumber(_value(after[0]), after[0][0].strip(), "answer")
    boxed = _boxed_content(reply)
    if boxed is not None:
        inside = _numbers(_plain(boxed))
        if inside:
            return ExtractedNumber(_value(inside[0]), inside[0][0].strip(), "boxed")
    everywhere = _numbers(_plain(reply))
    if everywhere:
        return ExtractedNumber(_value(everywhere[-1]), everywhere[-1][0].strip(), "last")
    return None


def numbers_equal(a: float, b: float, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=tolerance)


class MathTask:
    """Solve a word problem with one LM call; right iff the final number equals the gold."""

    required_fields: tuple[str, ...] = ("input", "answer")

    def __init__(self, module: str, tolerance: float = DEFAULT_TOLERANCE) -> None:
        self.modules: tuple[str, ...] = (module,)
        self.tolerance = tolerance

    def run(self, example: Example, prompts: Prompts, lm: LM) -> TaskOutput:
        return ask(self.modules[0], example, prompts, lm)

    def score(self, example: Example, output: TaskOutput) -> Score:
        gold_text = str(example.data["answer"]).strip()
        gold = parse_number(example.data["answer"])
        if gold is None:
            raise ValueError(f"the gold answer {gold_text!r} is not a number")
        found = extract_final_number(output.output)
        correct = found is not None and numbers_equal(found.value, gold, self.tolerance)
        feedback = _feedback(gold_text, found, correct)
        solution = example.data.get("solution")
        if isinstance(solution, str) and solution.strip():
            feedback += f"\nReference solution:\n{solution.strip()}"
        return Score(score=1.0 if correct else 0.0, feedback=feedback)


def _feedback(gold_text: str, found: ExtractedNumber | None, correct: bool) -> str:
    if correct:
        return f"Correct. The answer is {gold_text}."
    if found is None:
        return (
            "Incorrect. No final number was found in the response. "
            f"The correct answer is {gold_text}."
        )
    where = _SOURCE_DESCRIPTION[found.source]
    return (
        f"Incorrect. The correct answer is {gold_text}; the response's final answer was "
        f"{found.text} ({where})."
    )


def build_math_task(options: Mapping[str, Any], module_names: Sequence[str]) -> MathTask:
    """Factory for `task.type: math`."""
    check_option_names(options, OPTIONS)
    return MathTask(
        module=single_module("math", module_names),
        tolerance=number_option(options, "tolerance", DEFAULT_TOLERANCE),
    )
