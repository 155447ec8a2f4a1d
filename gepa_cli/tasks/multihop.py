"""The `multihop` task: a two-hop search-and-read program over each example's own paragraphs.

Modules, one LM call each, in this order (the user message each sees):
- `query1`: the question -> a search query;
- `summarize1`: the question and the top-`k` paragraphs for query 1 -> a summary;
- `query2`: the question and summary 1 -> a second query;
- `answer`: the question, summary 1 and the top-`k` paragraphs for query 2 -> the answer.
The answer module reads the hop-2 paragraphs itself instead of a second summary: one call
fewer, and nothing between the evidence and the answer. Hop 2 never returns a paragraph
hop 1 already returned. Retrieval is BM25 over the example's `context` (title + text), so
it is deterministic and `score` recomputes it from the queries in the trace.

Options: `k` (paragraphs per hop, default 2), `metric` (exact | f1, default f1),
`mode` (qa | verify; verify = HoVer-style claim checking: the answer must be the label
SUPPORTED or NOT_SUPPORTED held in `answer`), `answer_prefix` (default "Answer:").
Feedback per module: the answer module hears gold vs predicted; the query modules hear
which supporting titles their search found and missed; summarize1 hears whether its
summary kept the gold answer and the bridge title the second search needs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gepa_cli.engine.types import Example, ModuleCall, Prompts
from gepa_cli.lm.base import LM
from gepa_cli.tasks.base import Score, TaskConfigError, TaskOutput
from gepa_cli.tasks.bm25 import BM25Index
from gepa_cli.tasks.chat import (
    check_option_names,
    choice_option,
    example_input,
    number_option,
    text_option,
)
from gepa_cli.tasks.qa import METRIC_FUNCTIONS, contains_answer, extract_prediction, gold_answers

MODULES = ("query1", "summarize1", "query2", "answer")
OPTIONS = ("k", "metric", "mode", "answer_prefix")
MODES = ("qa", "verify")
VERIFY_LABELS = ("SUPPORTED", "NOT_SUPPORTED")
_MAX_SHOWN = 200


@dataclass(frozen=True)
class Paragraph:
    title: str
    text: str


@dataclass(frozen=True)
class Retrieval:
    """The paragraph indices each hop retrieved, recomputed from the queries in a trace."""

    query1: str
    first: tuple[int, ...]
    query2: str
    second: tuple[int, ...]


def require_modules(task_type: str, expected: Sequence[str], module_names: Sequence[str]) -> None:
    """A multi-module task needs exactly its module names as the keys of `task.prompts`."""
    if sorted(module_names) != sorted(expected):
        given = ", ".join(module_names) if module_names else "none"
        raise TaskConfigError(
            f"[task.prompts] the {task_type} task needs exactly the modules "
            f"{', '.join(expected)} (got {given})"
        )


def example_paragraphs(example: Example) -> list[Paragraph]:
    """The example's `context` as paragraphs; a malformed context raises ValueError."""
    context = example.data.get("context")
    if not isinstance(context, list) or not context:
        raise ValueError(f"example '{example.id}': 'context' must be a non-empty list")
    paragraphs = []
    for item in context:
        if not isinstance(item, Mapping) or not isinstance(item.get("text"), str):
            raise ValueError(f"example '{example.id}': each context item needs 'title' and 'text'")
        paragraphs.append(Paragraph(str(item.get("title", "")), item["text"]))
    return paragraphs


def supporting_titles(example: Example) -> list[str]:
    """`supporting_titles` if given, else the titles of context items marked `is_supporting`."""
    titles = example.data.get("supporting_titles")
    if isinstance(titles, list):
        return [str(title) for title in titles]
    context = example.data.get("context") or []
    return [str(item.get("title", "")) for item in context if item.get("is_supporting")]


def normalize_verdict(text: str) -> str:
    """Uppercase; quotes, asterisks and end punctuation dropped; spaces and hyphens as '_'."""
    text = text.strip().strip("`'\"*.:;,!").strip().upper()
    return re.sub(r"[\s\-]+", "_", text)


def _passages(paragraphs: Sequence[Paragraph], indices: Sequence[int]) -> str:
    if not indices:
        return "(no passages)"
    return "\n\n".join(
        f"[{rank}] {paragraphs[i].title}\n{paragraphs[i].text}"
        for rank, i in enumerate(indices, start=1)
    )


def _titles(paragraphs: Sequence[Paragraph], indices: Sequence[int]) -> list[str]:
    return [paragraphs[i].title for i in indices]


def _quoted(items: Sequence[str]) -> str:
    return ", ".join(f"'{item}'" for item in items) if items else "none"


def _mentions(text: str, title: str) -> bool:
    """Whether `text` names `title` (ignoring a parenthetical like '(1945 film)')."""
    name = re.sub(r"\s*\([^)]*\)\s*$", "", title).strip() or title
    return contains_answer(text, name) > 0


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."


class MultiHopTask:
    """Two search hops, one summary and an answer; retrieval is BM25 over the example's context."""

    modules: tuple[str, ...] = MODULES
    required_fields: tuple[str, ...] = ("input", "answer", "context")

    def __init__(
        self, k: int = 2, metric: str = "f1", mode: str = "qa", answer_prefix: str = "Answer:"
    ) -> None:
        self.k = k
        self.metric = metric
        self.mode = mode
        self.answer_prefix = answer_prefix
        self._subject = "Claim" if mode == "verify" else "Question"

    def run(self, example: Example, prompts: Prompts, lm: LM) -> TaskOutput:
        paragraphs = example_paragraphs(example)
        index = BM25Index([f"{p.title} {p.text}" for p in paragraphs])
        head = f"{self._subject}: {example_input(example)}"
        calls: list[ModuleCall] = []
        query1 = self._call(lm, prompts, "query1", head, calls)
        first = index.top_k(_query_text(query1), self.k)
        found = f"{head}\n\nPassages:\n{_passages(paragraphs, first)}"
        summary1 = self._call(lm, prompts, "summarize1", found, calls)
        with_summary = f"{head}\n\nSummary of the first search:\n{summary1}"
        query2 = self._call(lm, prompts, "query2", with_summary, calls)
        second = index.top_k(_query_text(query2), self.k, exclude=first)
        final = f"{with_summary}\n\nPassages from the second search:\n"
        answer = self._call(lm, prompts, "answer", final + _passages(paragraphs, second), calls)
        return TaskOutput(output=answer, trace=tuple(calls))

    def retrieval(self, example: Example, trace: Sequence[ModuleCall]) -> Retrieval:
        """Redo both searches from the queries recorded in `trace`."""
        outputs = {call.module: call.output for call in trace}
        paragraphs = example_paragraphs(example)
        index = BM25Index([f"{p.title} {p.text}" for p in paragraphs])
        query1 = _query_text(outputs.get("query1", ""))
        first = index.top_k(query1, self.k)
        query2 = _query_text(outputs.get("query2", ""))
        second = index.top_k(query2, self.k, exclude=first)
        return Retrieval(query1, tuple(first), query2, tuple(second))

    def score(self, example: Example, output: TaskOutput) -> Score:
        score, answer_feedback = self._grade(example, output.output)
        paragraphs = example_paragraphs(example)
        hops = self.retrieval(example, output.trace)
        supporting = supporting_titles(example)
        first = _titles(paragraphs, hops.first)
        second = _titles(paragraphs, hops.second)
        missed_first = [title for title in supporting if title not in first]
        summary = next((c.output for c in output.trace if c.module == "summarize1"), "")
        module_feedback = {
            "query1": _query_feedback(1, hops.query1, first, supporting, answer_feedback),
            "summarize1": self._summary_feedback(
                example, summary, first, missed_first, answer_feedback
            ),
            "query2": _query_feedback(2, hops.query2, second, missed_first, answer_feedback),
            "answer": answer_feedback,
        }
        return Score(score, answer_feedback, module_feedback)

    def _call(
        self, lm: LM, prompts: Prompts, module: str, user_text: str, calls: list[ModuleCall]
    ) -> str:
        messages = [
            {"role": "system", "content": prompts[module]},
            {"role": "user", "content": user_text},
        ]
        reply = lm.complete(messages).text
        calls.append(ModuleCall(module, user_text, reply))
        return reply

    def _grade(self, example: Example, reply: str) -> tuple[float, str]:
        prediction = extract_prediction(reply, self.answer_prefix)
        if self.mode == "verify":
            gold = normalize_verdict(str(example.data["answer"]))
            if normalize_verdict(prediction) == gold:
                return 1.0, f"Correct: the claim is {gold}."
            return 0.0, (
                f"Wrong: the claim is {gold}; the response gave '{_shown(prediction)}'. "
                f"Reply with exactly one label: {' or '.join(VERIFY_LABELS)}."
            )
        measure = METRIC_FUNCTIONS[self.metric]
        graded = [(measure(prediction, gold), gold) for gold in gold_answers(example)]
        score, gold = max(graded, key=lambda pair: pair[0])
        if score >= 1.0:
            return 1.0, f"Correct: the answer is '{gold}'."
        verdict = f"Partially correct (F1 {score:.2f})" if score > 0 else "Incorrect"
        return score, (
            f"{verdict}: the correct answer is '{gold}'; the response gave '{_shown(prediction)}'."
        )

    def _summary_feedback(
        self,
        example: Example,
        summary: str,
        retrieved: Sequence[str],
        still_missing: Sequence[str],
        answer_feedback: str,
    ) -> str:
        parts = [f"The first search gave it: {_quoted(retrieved)}."]
        if self.mode == "qa":
            golds = gold_answers(example)
            kept = any(contains_answer(summary, gold) for gold in golds)
            verb = "kept" if kept else "does not contain"
            parts.append(f"The summary {verb} the gold answer '{golds[0]}'.")
        for title in still_missing:
            named = "names" if _mentions(summary, title) else "does not name"
            parts.append(
                f"It {named} '{title}', the supporting paragraph the second search still "
                "had to find."
            )
        parts.append(f"Final result: {answer_feedback}")
        return " ".join(parts)


def _query_text(reply: str) -> str:
    return extract_prediction(reply, "Query:").strip("`'\"")


def _query_feedback(
    hop: int, query: str, retrieved: Sequence[str], wanted: Sequence[str], answer_feedback: str
) -> str:
    found = [title for title in wanted if title in retrieved]
    missed = [title for title in wanted if title not in retrieved]
    parts = [f"Search {hop} with the query '{_shown(query)}' retrieved {_quoted(retrieved)}."]
    if not wanted:
        parts.append("The first search had already found every supporting paragraph.")
    elif not missed:
        parts.append(f"It found every supporting paragraph it needed: {_quoted(found)}.")
    else:
        lead = f"It found {_quoted(found)} but missed" if found else "It missed"
        parts.append(
            f"{lead} {_quoted(missed)}; a better query would mention {_quoted(missed)} "
            "or the words of the question that lead to it."
        )
    parts.append(f"Final result: {answer_feedback}")
    return " ".join(parts)


def build_multihop_task(options: Mapping[str, Any], module_names: Sequence[str]) -> MultiHopTask:
    """Factory for `task.type: multihop`."""
    check_option_names(options, OPTIONS)
    require_modules("multihop", MODULES, module_names)
    k = number_option(options, "k", 2)
    if k < 1 or k != int(k):
        raise TaskConfigError(f"[task.options.k] must be a whole number >= 1; got {k:g}")
    return MultiHopTask(
        k=int(k),
        metric=choice_option(options, "metric", ("exact", "f1"), "f1"),
        mode=choice_option(options, "mode", MODES, "qa"),
        answer_prefix=text_option(options, "answer_prefix", "Answer:"),
    )
