"""The built-in `qa` task: one module answers a question; scored by exact match, F1 or containment.

Owns answer extraction (text after the answer prefix), SQuAD-style normalization,
the three metrics, and the feedback text the reflection LM reads.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gepa_cli.engine.types import Example, Prompts
from gepa_cli.lm.base import LM
from gepa_cli.tasks.base import Score, TaskOutput
from gepa_cli.tasks.chat import (
    ask,
    check_option_names,
    choice_option,
    single_module,
    text_option,
)

METRICS = ("exact", "f1", "contains")
OPTIONS = ("metric", "answer_prefix")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_MAX_SHOWN = 300


def normalize_answer(text: str) -> str:
    """Lowercase, drop punctuation and articles, collapse whitespace (SQuAD's normalization)."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    """Harmonic mean of token precision and recall after normalization."""
    predicted = normalize_answer(prediction).split()
    expected = normalize_answer(gold).split()
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision = common / len(predicted)
    recall = common / len(expected)
    return 2 * precision * recall / (precision + recall)


def contains_answer(prediction: str, gold: str) -> float:
    """1 if the normalized gold occurs in the normalized prediction as whole words."""
    expected = normalize_answer(gold)
    if not expected:
        return exact_match(prediction, gold)
    return float(f" {expected} " in f" {normalize_answer(prediction)} ")


METRIC_FUNCTIONS: Mapping[str, Callable[[str, str], float]] = {
    "exact": exact_match,
    "f1": token_f1,
    "contains": contains_answer,
}


def extract_prediction(reply: str, answer_prefix: str) -> str:
    """The text after the last `answer_prefix` (any case), else the whole reply; stripped."""
    if answer_prefix:
        position = reply.lower().rfind(answer_prefix.lower())
        if position >= 0:
            return reply[position + len(answer_prefix) :].strip()
    return reply.strip()


def gold_answers(example: Example) -> list[str]:
    """The accepted answers: `answer` (a string or a list) plus any `answers` list."""
    golds: list[str] = []
    for key in ("answer", "answers"):
        value = example.data.get(key)
        values = value if isinstance(value, list) else [] if value is None else [value]
        golds.extend(str(item) for item in values if str(item) not in golds)
    if not golds:
        raise ValueError(f"example '{example.id}' has no gold answer")
    return golds


def _shown(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."


class QATask:
    """Answer a question with one LM call; compare the extracted answer with the gold."""

    required_fields: tuple[str, ...] = ("input", "answer")

    def __init__(self, module: str, metric: str = "exact", answer_prefix: str = "Answer:") -> None:
        self.modules: tuple[str, ...] = (module,)
        self.metric = metric
        self.answer_prefix = answer_prefix

    def run(self, example: Example, prompts: Prompts, lm: LM) -> TaskOutput:
        return ask(self.modules[0], example, prompts, lm)

    def score(self, example: Example, output: TaskOutput) -> Score:
        prediction = extract_prediction(output.output, self.answer_prefix)
        measure = METRIC_FUNCTIONS[self.metric]
        golds = gold_answers(example)
        best, best_gold = max(((measure(prediction, g), g) for g in golds), key=lambda p: p[0])
        others = [gold for gold in golds if gold != best_gold]
        return Score(score=best, feedback=self._feedback(best, best_gold, others, output.output))

    def _feedback(self, score: float, gold: str, others: Sequence[str], reply: str) -> str:
        prediction = extract_prediction(reply, self.answer_prefix)
        if score >= 1.0:
            return f"Correct. The answer is '{gold}'."
        if self.metric == "f1" and score > 0:
            verdict = f"Partially correct (F1 {score:.2f})."
        elif self.metric == "f1":
            verdict = "Incorrect (F1 0.00)."
        else:
            verdict = "Incorrect."
        also = f" (also accepted: {', '.join(repr(g) for g in others)})" if others else ""
        parts = [
            f"{verdict} The correct answer is '{gold}'{also}; "
            f"the response gave '{_shown(prediction)}'."
        ]
        if self.answer_prefix and self.answer_prefix.lower() not in reply.lower():
            parts.append(
                f"The response has no '{self.answer_prefix}' line, so the whole reply was taken "
                "as the answer."
            )
        return " ".join(parts)


def build_qa_task(options: Mapping[str, Any], module_names: Sequence[str]) -> QATask:
    """Factory for `task.type: qa`."""
    check_option_names(options, OPTIONS)
    return QATask(
        module=single_module("qa", module_names),
        metric=choice_option(options, "metric", METRICS, "exact"),
        answer_prefix=text_option(options, "answer_prefix", "Answer:"),
    )
