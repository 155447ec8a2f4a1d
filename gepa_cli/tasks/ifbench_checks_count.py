"""IFBench checkers for the `count:` and `ratio:` ids: how many words, names, numbers, marks.

Owns `CHECKS`, instruction id -> (checker, kwarg spec), for the 14 ids whose rule is a count
or a proportion. Each checker returns None when the response complies, else one sentence
saying what is wrong and by how much. Words are `\\w+` runs unless a rule says otherwise;
sentences come from the project's regex splitter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gepa_cli.tasks.ifbench_resources import (
    CONJUNCTIONS,
    PERSON_NAMES,
    PRONOUNS,
    STOP_WORDS,
    has_japanese,
)
from gepa_cli.tasks.ifbench_text import (
    bare,
    count,
    drop_punctuation,
    integer,
    listing,
    need,
    ordinal,
    plain_words,
    positive,
    shorten,
    text_arg,
    times,
    word_runs,
)
from gepa_cli.tasks.ifeval_checks import Checker, split_sentences
from gepa_cli.tasks.instruction_specs import INT, NO_KWARGS, TEXT, KwargSpec, takes

KEYWORD_TIMES = (1, 2, 3, 5, 7)
"""How often keyword1 .. keyword5 of `count:keywords_multiple` must appear."""


def word_count_range(response: str, kw: Mapping[str, Any]) -> str | None:
    low, high = integer(kw, "min_words"), integer(kw, "max_words")
    n = len(word_runs(response))
    return need(low <= n <= high, f"it has {count(n, 'word')}; it needs {low} to {high}")


def unique_word_count(response: str, kw: Mapping[str, Any]) -> str | None:
    wanted = integer(kw, "N")
    unique = {bare(word) for word in response.lower().split()} - {""}
    n = len(unique)
    return need(n >= wanted, f"it uses {count(n, 'different word')}; it needs at least {wanted}")


def stop_words(response: str, kw: Mapping[str, Any]) -> str | None:
    limit = integer(kw, "percentage")
    words = word_runs(response)
    if not words:
        return "it has no words"
    share = 100 * sum(1 for word in words if word.lower() in STOP_WORDS) / len(words)
    return need(
        share <= limit, f"stop words are {share:.1f}% of its words; they may be at most {limit}%"
    )


def _sentence_types(response: str) -> tuple[int, int, int]:
    """(declarative, interrogative, exclamatory) sentence counts, by the final mark."""
    ends = [sentence[-1] for sentence in split_sentences(response)]
    return ends.count("."), ends.count("?"), ends.count("!")


def sentence_type(response: str, kw: Mapping[str, Any]) -> str | None:
    statements, questions, _ = _sentence_types(response)
    return need(
        statements == 2 * questions,
        f"it has {count(statements, 'sentence')} ending in '.' and "
        f"{count(questions, 'question')}; it needs exactly twice as many statements as questions",
    )


def sentence_balance(response: str, kw: Mapping[str, Any]) -> str | None:
    statements, questions, exclamations = _sentence_types(response)
    return need(
        statements == questions == exclamations,
        f"it has {statements} declarative, {questions} interrogative and {exclamations} "
        "exclamatory sentences; the three counts must be equal",
    )


def conjunctions(response: str, kw: Mapping[str, Any]) -> str | None:
    wanted = integer(kw, "small_n")
    used = sorted({bare(word).lower() for word in response.split()} & set(CONJUNCTIONS))
    shown = f" ({', '.join(used)})" if used else ""
    return need(
        len(used) >= wanted,
        f"it uses {count(len(used), 'different coordinating conjunction')}{shown}; "
        f"it needs at least {wanted} of {', '.join(CONJUNCTIONS)}",
    )


def person_names(response: str, kw: Mapping[str, Any]) -> str | None:
    wanted = integer(kw, "N")
    found = [name for name in PERSON_NAMES if re.search(rf"\b{name}\b", response)]
    return need(
        len(found) >= wanted,
        f"it mentions {count(len(found), 'name')} from the given list; it needs at least {wanted}",
    )


def _overlap_tokens(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text)


def _trigrams(text: str) -> set[tuple[str, ...]]:
    tokens = _overlap_tokens(text)
    return {tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)}


def overlap(response: str, kw: Mapping[str, Any]) -> str | None:
    target = integer(kw, "percentage")
    own, reference = _trigrams(response), _trigrams(text_arg(kw, "reference_text"))
    if not own:
        return "it is too short to have any trigram (three consecutive tokens)"
    share = 100 * len(own & reference) / len(own)
    return need(
        target - 2 <= share <= target + 2,
        f"{share:.1f}% of its trigrams also occur in the reference text; "
        f"it needs {target}% (plus or minus 2)",
    )


def numbers(response: str, kw: Mapping[str, Any]) -> str | None:
    wanted = integer(kw, "N")
    n = len(re.findall(r"\d+", drop_punctuation(response)))
    return need(n == wanted, f"it has {count(n, 'number')}; it needs exactly {wanted}")


_MARKS = ".,!?;:"


def punctuation(response: str, kw: Mapping[str, Any]) -> str | None:
    if not any(mark in response for mark in ("?!", "!?", "‽")):
        return "it has no interrobang ('?!', '!?' or '‽')"
    rest = response.replace("?!", "", 1) if "?!" in response else response.replace("!?", "", 1)
    missing = [mark for mark in _MARKS if mark not in rest]
    return need(
        not missing,
        f"apart from the interrobang it never uses {' '.join(missing)}; "
        f"it needs each of {' '.join(_MARKS)} at least once",
    )


def words_japanese(response: str, kw: Mapping[str, Any]) -> str | None:
    step = positive(kw, "N")
    for position, word in enumerate(response.split(), start=1):
        word = bare(word)
        if position % step == 0 and word and not word.isdigit() and not has_japanese(word):
            return (
                f"word {position} ('{shorten(word, 20)}') is not Japanese; "
                f"every {ordinal(step)} word must be"
            )
    return None


def pronouns(response: str, kw: Mapping[str, Any]) -> str | None:
    wanted = integer(kw, "N")
    n = sum(1 for word in word_runs(response.lower()) if word in PRONOUNS)
    return need(n >= wanted, f"it has {count(n, 'pronoun')}; it needs at least {wanted}")


def keywords_multiple(response: str, kw: Mapping[str, Any]) -> str | None:
    wrong = []
    for index, wanted in enumerate(KEYWORD_TIMES, start=1):
        keyword = text_arg(kw, f"keyword{index}").strip()
        pattern = rf"\b{re.escape(keyword)}\b"
        n = len(re.findall(pattern, response, flags=re.IGNORECASE))
        if n != wanted:
            wrong.append(
                f"the keyword '{keyword}' appears {times(n)}; it must appear {times(wanted)}"
            )
    return "; ".join(wrong) or None


def sentence_words(response: str, kw: Mapping[str, Any]) -> str | None:
    sentences = split_sentences(response)
    if len(sentences) != 3:
        return f"it has {count(len(sentences), 'sentence')}; it needs exactly 3"
    lengths = [len(sentence) for sentence in sentences]
    if len(set(lengths)) > 1:
        shown = ", ".join(map(str, lengths))
        return f"its sentences have {shown} characters; all three need the same number"
    words = plain_words(" ".join(sentences))
    repeated = sorted({word for word in words if words.count(word) > 1})
    return need(not repeated, f"it repeats {listing(repeated)}; every word must be different")


def _keywords_spec() -> KwargSpec:
    return takes(**{f"keyword{index}": TEXT for index in range(1, 6)})


CHECKS: Mapping[str, tuple[Checker, KwargSpec]] = {
    "count:word_count_range": (word_count_range, takes(min_words=INT, max_words=INT)),
    "count:unique_word_count": (unique_word_count, takes(N=INT)),
    "ratio:stop_words": (stop_words, takes(percentage=INT)),
    "ratio:sentence_type": (sentence_type, NO_KWARGS),
    "ratio:sentence_balance": (sentence_balance, NO_KWARGS),
    "count:conjunctions": (conjunctions, takes(small_n=INT)),
    "count:person_names": (person_names, takes(N=INT)),
    "ratio:overlap": (overlap, takes(reference_text=TEXT, percentage=INT)),
    "count:numbers": (numbers, takes(N=INT)),
    "count:punctuation": (punctuation, NO_KWARGS),
    "count:words_japanese": (words_japanese, takes(N=INT)),
    "count:pronouns": (pronouns, takes(N=INT)),
    "count:keywords_multiple": (keywords_multiple, _keywords_spec()),
    "ratio:sentence_words": (sentence_words, NO_KWARGS),
}
"""The 14 counting and ratio ids of IFBench."""
