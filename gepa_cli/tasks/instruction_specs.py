"""The parameters (kwargs) each verifiable instruction takes, and whether a row's kwargs fit.

Owns `KwargSpec` (an instruction's kwarg names, which of them are required, their types and
allowed values), the `takes` shorthand, and `IFEVAL_SPECS` for IFEval's 25 ids (the IFBench
modules declare their own next to their checkers). A kwarg whose value is null counts as
absent: published IFEval and IFBench files carry every unused kwarg as null, and both
benchmarks' evaluators drop those before checking.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

INT = "an integer"
TEXT = "a string"
TEXT_LIST = "a list of strings"
KINDS = (INT, TEXT, TEXT_LIST)


def fits(value: Any, kind: str) -> bool:
    """Whether a JSON value is of `kind` (an integral float such as 3.0 counts as an integer)."""
    if kind == INT:
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == TEXT:
        return isinstance(value, str)
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def present(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The kwargs that carry a value (null ones dropped)."""
    return {name: value for name, value in kwargs.items() if value is not None}


@dataclass(frozen=True)
class KwargSpec:
    """The kwargs one instruction id takes: name -> kind, and allowed values for some."""

    required: Mapping[str, str] = field(default_factory=dict)
    optional: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [*self.required, *self.optional]

    def problem(self, kwargs: Mapping[str, Any]) -> str | None:
        """None when `kwargs` fit, else what is wrong, e.g. "missing kwarg 'N' (an integer)"."""
        given = present(kwargs)
        takes_text = ", ".join(self.names()) or "no kwargs"
        unknown = [name for name in given if name not in self.names()]
        if unknown:
            quoted = ", ".join(f"'{name}'" for name in unknown)
            return f"unknown kwarg {quoted}{self._suggestion(unknown[0])} (it takes {takes_text})"
        missing = [
            f"'{name}' ({kind})" for name, kind in self.required.items() if name not in given
        ]
        if missing:
            return f"missing kwarg {', '.join(missing)} (it takes {takes_text})"
        for name, value in given.items():
            problem = self._value_problem(name, value)
            if problem:
                return problem
        return None

    def _suggestion(self, name: str) -> str:
        by_lower = {known.lower(): known for known in self.names()}
        close = by_lower.get(name.lower()) or next(
            iter(difflib.get_close_matches(name, self.names(), n=1, cutoff=0.6)), None
        )
        return f"; did you mean '{close}'?" if close else ""

    def _value_problem(self, name: str, value: Any) -> str | None:
        kind = self.required.get(name) or self.optional[name]
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        if not fits(value, kind):
            return f"kwarg '{name}' must be {kind}, got {type(value).__name__} {shown}"
        allowed = self.choices.get(name)
        if allowed is not None and value not in allowed:
            return f"kwarg '{name}' must be one of {', '.join(map(repr, allowed))}, got {shown}"
        return None


def takes(**required: str) -> KwargSpec:
    """A spec whose kwargs are all required: `takes(N=INT, word=TEXT)`."""
    for kind in required.values():
        if kind not in KINDS:
            raise ValueError(f"unknown kwarg kind {kind!r}")
    return KwargSpec(required=required)


NO_KWARGS = KwargSpec()
RELATIONS = ("less than", "at least")


def _with_relation(relation: str, **required: str) -> KwargSpec:
    return KwargSpec(required={relation: TEXT, **required}, choices={relation: RELATIONS})


IFEVAL_SPECS: Mapping[str, KwargSpec] = {
    "change_case:capital_word_frequency": _with_relation("capital_relation", capital_frequency=INT),
    "change_case:english_capital": NO_KWARGS,
    "change_case:english_lowercase": NO_KWARGS,
    "combination:repeat_prompt": takes(prompt_to_repeat=TEXT),
    "combination:two_responses": NO_KWARGS,
    "detectable_content:number_placeholders": takes(num_placeholders=INT),
    "detectable_content:postscript": takes(postscript_marker=TEXT),
    "detectable_format:constrained_response": NO_KWARGS,
    "detectable_format:json_format": NO_KWARGS,
    "detectable_format:multiple_sections": takes(section_spliter=TEXT, num_sections=INT),
    "detectable_format:number_bullet_lists": takes(num_bullets=INT),
    "detectable_format:number_highlighted_sections": takes(num_highlights=INT),
    "detectable_format:title": NO_KWARGS,
    "keywords:existence": takes(keywords=TEXT_LIST),
    "keywords:forbidden_words": takes(forbidden_words=TEXT_LIST),
    "keywords:frequency": _with_relation("relation", keyword=TEXT, frequency=INT),
    "keywords:letter_frequency": _with_relation("let_relation", letter=TEXT, let_frequency=INT),
    "language:response_language": takes(language=TEXT),
    "length_constraints:nth_paragraph_first_word": takes(
        num_paragraphs=INT, nth_paragraph=INT, first_word=TEXT
    ),
    "length_constraints:number_paragraphs": takes(num_paragraphs=INT),
    "length_constraints:number_sentences": _with_relation("relation", num_sentences=INT),
    "length_constraints:number_words": _with_relation("relation", num_words=INT),
    "punctuation:no_comma": NO_KWARGS,
    "startend:end_checker": takes(end_phrase=TEXT),
    "startend:quotation": NO_KWARGS,
}
"""Kwarg specs of IFEval's 25 instruction ids."""
