"""IFBench checkers for the `custom:` and `repeat:` ids: fixed tasks with a checkable answer.

Owns `CHECKS`, instruction id -> (checker, kwarg spec), for the 14 ids whose prompt is a
fixed task (multiples of 7, four multiple-choice questions, African countries backwards,
the bald eagle reversed, an alphabet story, northern European capitals, three CSV tables,
Napoleon's battle dates) or asks to repeat text. Each checker returns None when the response
complies, else one sentence saying what is wrong and by how much.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from gepa_cli.tasks.ifbench_resources import NORTHERN_EUROPEAN_CAPITALS, REPEAT_SIMPLE_SENTENCE
from gepa_cli.tasks.ifbench_text import (
    PUNCTUATION,
    ascii_fold,
    count,
    drop_punctuation,
    integer,
    need,
    shorten,
    text_arg,
)
from gepa_cli.tasks.ifeval_checks import Checker, split_sentences
from gepa_cli.tasks.instruction_specs import INT, NO_KWARGS, TEXT, KwargSpec, takes

MULTIPLES_OF_7 = [str(n) for n in range(14, 51, 7)]
CITY_HEADER = ["ID", "Country", "City", "Year", "Count"]
PRODUCT_HEADER = ["ProductID", "Category", "Brand", "Price", "Stock"]
STUDENT_HEADER = ["StudentID", "Subject", "Grade", "Semester", "Score"]
_OPTION_LINE = re.compile(r"[A-Ea-e][.|)]\s*\w+")
_MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30}


def multiples(response: str, kw: Mapping[str, Any]) -> str | None:
    found = re.findall(r"\d+", response.replace(",", ", "))
    return need(
        found == MULTIPLES_OF_7,
        f"its numbers are {', '.join(found[:12]) or 'none'}; "
        f"they must be exactly {', '.join(MULTIPLES_OF_7)}",
    )


def _question_parts(question: str) -> tuple[str, int]:
    """A question's text (the lines before its first option) and its number of options."""
    stem: list[str] = []
    options = 0
    for line in question.split("\n"):
        if _OPTION_LINE.match(line.strip()):
            options += 1
        elif not options:
            stem.append(line.strip())
    return " ".join(stem).strip(), options


def mcq_count_length(response: str, kw: Mapping[str, Any]) -> str | None:
    if not response.startswith("Question"):
        return "it must begin with 'Question 1', with nothing before it"
    parts = re.split(r"\n*(?:Question \d+[.|):;]?\s*)", response)
    questions = [part.strip() for part in parts if part.strip()]
    if len(questions) != 4:
        return f"it has {count(len(questions), 'question')} labelled 'Question N'; it needs 4"
    lengths = []
    for number, question in enumerate(questions, start=1):
        stem, options = _question_parts(question)
        if options != 5:
            return f"question {number} has {count(options, 'option')} (like 'A) ...'); it needs 5"
        lengths.append(len(stem))
    for number in range(1, 4):
        if lengths[number] <= lengths[number - 1]:
            return (
                f"question {number + 1} ({lengths[number]} characters) is not longer than "
                f"question {number} ({lengths[number - 1]}); each must be longer than the last"
            )
    return None


def reverse_newline(response: str, kw: Mapping[str, Any]) -> str | None:
    lines = [line.strip(PUNCTUATION + " ") for line in response.split("\n")]
    lines = [line for line in lines if line]
    start = next((i for i, line in enumerate(lines) if "Zimbabwe" in line), None)
    if start is None:
        return "it does not list Zimbabwe, which comes first in reverse alphabetical order"
    names = [ascii_fold(line) for line in lines[start:]]
    if len(names) < 52:
        return f"it lists {count(len(names), 'line')} from Zimbabwe on; it needs all 54 countries"
    for index in range(1, len(names)):
        if names[index] > names[index - 1]:
            return (
                f"'{shorten(names[index], 30)}' comes after '{shorten(names[index - 1], 30)}'; "
                "the countries must be in reverse alphabetical order, one per line"
            )
    return None


def word_reverse(response: str, kw: Mapping[str, Any]) -> str | None:
    words = drop_punctuation(response.lower()).split()
    return need(
        "bald eagle" in " ".join(reversed(words)),
        "read backwards word by word it never says 'bald eagle'; "
        "the answer's words must come in reverse order ('... eagle bald ...')",
    )


def character_reverse(response: str, kw: Mapping[str, Any]) -> str | None:
    return need(
        "elgae dlab" in response.lower(),
        "it does not contain 'elgae dlab'; the answer must be spelled backwards letter by letter",
    )


def sentence_alphabet(response: str, kw: Mapping[str, Any]) -> str | None:
    sentences = split_sentences(response)
    if len(sentences) != 26:
        return f"it has {count(len(sentences), 'sentence')}; the story needs exactly 26"
    for index, sentence in enumerate(sentences):
        letter = chr(ord("a") + index)
        first = sentence.lstrip(PUNCTUATION + " \t\n")[:1]
        if first.lower() != letter:
            return f"sentence {index + 1} starts with '{first}'; it must start with '{letter}'"
    return None


def european_capitals_sort(response: str, kw: Mapping[str, Any]) -> str | None:
    items = [item.strip() for item in ascii_fold(response).split(",") if item.strip()]
    expected = NORTHERN_EUROPEAN_CAPITALS
    if len(items) != len(expected):
        return f"it lists {count(len(items), 'item')}; the answer has {len(expected)} capitals"
    for index, (item, capital) in enumerate(zip(items, expected, strict=True), start=1):
        if item != capital:
            return (
                f"item {index} is '{shorten(item, 30)}'; it should be '{capital}' "
                "(capitals only, comma-separated, northernmost first)"
            )
    return None


def _rows(text: str, delimiter: str = ",", keep_quotes: bool = False) -> list[list[str]]:
    """CSV rows of `text`; with `keep_quotes` a quoted field keeps its quote characters."""
    if keep_quotes:
        text = text.replace('"', '"""')
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _table_problem(rows: Sequence[Sequence[str]], data_rows: int) -> str | None:
    if len(rows) != data_rows + 1:
        return f"it has {count(len(rows), 'row')}; it needs a header and {data_rows} data rows"
    for number, row in enumerate(rows, start=1):
        if len(row) != 5:
            return f"row {number} has {count(len(row), 'field')}; every row needs 5"
    return None


def csv_city(response: str, kw: Mapping[str, Any]) -> str | None:
    rows = _rows(response)
    if rows and rows[0] != CITY_HEADER:
        return f"its header is {rows[0]}; it must be {CITY_HEADER}"
    return _table_problem(rows, 7)


def _header_fits(line: str, names: Sequence[str], separator: str) -> bool:
    fields = [field.strip(" \t") for field in line.strip().split(separator)]
    return [field.strip('"') for field in fields] == list(names) and all(
        field in (name, f'"{name}"') for field, name in zip(fields, names, strict=True)
    )


def csv_special_character(response: str, kw: Mapping[str, Any]) -> str | None:
    if not _header_fits(response.split("\n")[0], PRODUCT_HEADER, ","):
        return f"its first line is not the header {','.join(PRODUCT_HEADER)}"
    rows = _rows(response, keep_quotes=True)
    problem = _table_problem(rows, 14)
    if problem:
        return problem
    special = re.compile(r'".*[^\w\s"].*"')
    quoted = any(special.fullmatch(field.strip()) for row in rows[1:] for field in row)
    return need(quoted, "no field holds a special character inside double quotes")


def csv_quotes(response: str, kw: Mapping[str, Any]) -> str | None:
    if not _header_fits(response.split("\n")[0], STUDENT_HEADER, "\t"):
        return f"its first line is not the tab-separated header {' '.join(STUDENT_HEADER)}"
    rows = _rows(response, delimiter="\t", keep_quotes=True)
    problem = _table_problem(rows, 3)
    if problem:
        return problem
    for number, row in enumerate(rows, start=1):
        bare = [field for field in row if not re.fullmatch(r'\s*".*"\s*', field)]
        if bare:
            return f"row {number} has a field not in double quotes ('{shorten(bare[0], 20)}')"
    return None


def _date_problem(text: str) -> str | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return f"'{shorten(text, 30)}' is not a date written YYYY-MM-DD"
    year, month, day = (int(part) for part in text.split("-"))
    if not 1769 <= year <= 1821:
        return f"'{text}' falls outside Napoleon's lifetime (1769-1821)"
    if not (1 <= month <= 12 and 1 <= day <= _MONTH_DAYS.get(month, 31)):
        return f"'{text}' is not a valid calendar date"
    return None


def date_format_list(response: str, kw: Mapping[str, Any]) -> str | None:
    for item in response.strip().split(","):
        problem = _date_problem(item.strip())
        if problem:
            return f"{problem}; give only comma-separated YYYY-MM-DD dates"
    return None


def repeat_change(response: str, kw: Mapping[str, Any]) -> str | None:
    request = text_arg(kw, "prompt_to_repeat").split()
    words = response.split()
    if words[1:] != request[1:]:
        return "after its first word it does not repeat the request word for word"
    return need(
        words[:1] != request[:1],
        "it keeps the request's first word; the first word must be changed",
    )


def repeat_simple(response: str, kw: Mapping[str, Any]) -> str | None:
    return need(
        response.strip().lower() == REPEAT_SIMPLE_SENTENCE.lower(),
        f"it is not just the sentence '{REPEAT_SIMPLE_SENTENCE}'",
    )


def repeat_span(response: str, kw: Mapping[str, Any]) -> str | None:
    start, end = integer(kw, "n_start"), integer(kw, "n_end")
    if start < 0 or end < start:
        raise ValueError(
            f"n_start and n_end must satisfy 0 <= n_start <= n_end, got {start}, {end}"
        )
    span = " ".join(text_arg(kw, "prompt_to_repeat").split()[start : end + 1])
    return need(
        " ".join(response.split()).lower() == span.lower(),
        f"it is not exactly words {start} to {end} of the request ('{shorten(span, 60)}')",
    )


CHECKS: Mapping[str, tuple[Checker, KwargSpec]] = {
    "custom:multiples": (multiples, NO_KWARGS),
    "custom:mcq_count_length": (mcq_count_length, NO_KWARGS),
    "custom:reverse_newline": (reverse_newline, NO_KWARGS),
    "custom:word_reverse": (word_reverse, NO_KWARGS),
    "custom:character_reverse": (character_reverse, NO_KWARGS),
    "custom:sentence_alphabet": (sentence_alphabet, NO_KWARGS),
    "custom:european_capitals_sort": (european_capitals_sort, NO_KWARGS),
    "custom:csv_city": (csv_city, NO_KWARGS),
    "custom:csv_special_character": (csv_special_character, NO_KWARGS),
    "custom:csv_quotes": (csv_quotes, NO_KWARGS),
    "custom:date_format_list": (date_format_list, NO_KWARGS),
    "repeat:repeat_change": (repeat_change, takes(prompt_to_repeat=TEXT)),
    "repeat:repeat_simple": (repeat_simple, NO_KWARGS),
    "repeat:repeat_span": (repeat_span, takes(prompt_to_repeat=TEXT, n_start=INT, n_end=INT)),
}
"""The 11 fixed-task ids and 3 repetition ids of IFBench."""
