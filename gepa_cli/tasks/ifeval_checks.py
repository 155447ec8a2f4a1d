"""IFEval's verifiable-instruction checkers, rewritten as small pure functions.

Each checker takes the response and the instruction's kwargs and returns None when the
instruction is satisfied, else a short description of what is wrong (feedback for the
reflection LM). They follow the semantics of Google's instruction_following_eval for all
25 instruction ids of IFEval, with two stand-ins for its dependencies: a regex sentence
splitter instead of NLTK's Punkt (so sentence counts can differ slightly on unusual
punctuation) and `ifeval_language.guess_language` instead of langdetect.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from gepa_cli.tasks.ifeval_language import SUPPORTED_LANGUAGES, guess_language

Checker = Callable[[str, Mapping[str, Any]], str | None]
"""`(response, kwargs) -> None if satisfied, else what is wrong`."""

_ABBREVIATIONS = frozenset(
    re.split(
        r"\s+",
        "mr mrs ms dr prof sr jr st vs etc e.g i.e inc ltd co no fig approx dept est "
        "jan feb mar apr jun jul aug sep sept oct nov dec u.s a.m p.m",
    )
)
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")
_LAST_TOKEN = re.compile(r"(\S+)$")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, split after . ! ? followed by whitespace.

    No split after a known abbreviation, an initial ('J.'), a list number at the start
    of a line ('1.'), or when the next word starts in lowercase.
    """
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        following = text[match.end() :].lstrip()
        if following and following[0].islower():
            continue
        if match.group().startswith(".") and _is_abbreviation(text[start : match.start()]):
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [sentence for sentence in sentences if sentence]


def _is_abbreviation(before: str) -> bool:
    token_match = _LAST_TOKEN.search(before)
    if token_match is None:
        return False
    token = token_match.group(1).lower().lstrip("(\"'")
    if token in _ABBREVIATIONS or re.fullmatch(r"[a-z]|(?:[a-z]\.)+[a-z]", token):
        return True
    line_start = before.rfind("\n") + 1
    return token.isdigit() and not before[line_start:].strip()[: -len(token)].strip()


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def _relation(count: int, relation: str, target: Any, what: str) -> str | None:
    """Whether `count` meets 'less than' / 'at least' `target`; else what is wrong."""
    target = int(target)
    if relation == "less than":
        return None if count < target else f"it has {count} {what}; needs fewer than {target}"
    if relation == "at least":
        return None if count >= target else f"it has {count} {what}; needs at least {target}"
    raise ValueError(f"unknown relation {relation!r}")


def _require(ok: bool, problem: str) -> str | None:
    return None if ok else problem


def capital_word_frequency(response: str, kw: Mapping[str, Any]) -> str | None:
    tokens = re.findall(r"\w+(?:[.'’-]\w+)*\.?", response)
    count = sum(1 for token in tokens if token.isupper())
    return _relation(
        count, kw["capital_relation"], kw["capital_frequency"], "words in all capitals"
    )


def _english(response: str) -> str | None:
    language = guess_language(response)
    return None if language == "en" else f"it is not in English (looks like {language})"


def english_capital(response: str, kw: Mapping[str, Any]) -> str | None:
    if not response.isupper():
        return "it is not entirely in capital letters"
    return _english(response)


def english_lowercase(response: str, kw: Mapping[str, Any]) -> str | None:
    if not response.islower():
        return "it is not entirely in lowercase letters"
    return _english(response)


def repeat_prompt(response: str, kw: Mapping[str, Any]) -> str | None:
    prompt = str(kw["prompt_to_repeat"]).strip().lower()
    ok = response.strip().lower().startswith(prompt)
    return _require(ok, "it does not start by repeating the request word for word")


def two_responses(response: str, kw: Mapping[str, Any]) -> str | None:
    parts = response.split("******")
    for index, part in enumerate(parts):
        if not part.strip() and 0 < index < len(parts) - 1:
            return "it has an empty response between '******' separators"
    answers = [part.strip() for part in parts if part.strip()]
    if len(answers) != 2:
        return f"it has {len(answers)} responses separated by '******'; needs exactly 2"
    return _require(answers[0] != answers[1], "its two responses are identical")


def number_placeholders(response: str, kw: Mapping[str, Any]) -> str | None:
    count = len(re.findall(r"\[.*?\]", response))
    return _relation(count, "at least", kw["num_placeholders"], "[placeholders]")


def postscript(response: str, kw: Mapping[str, Any]) -> str | None:
    marker = str(kw["postscript_marker"]).strip()
    if marker.lower() == "p.p.s":
        pattern = r"\s*p\.\s?p\.\s?s.*$"
    elif marker.lower() == "p.s.":
        pattern = r"\s*p\.\s?s\..*$"
    else:
        pattern = r"\s*" + re.escape(marker.lower()) + r".*$"
    found = re.search(pattern, response.lower(), flags=re.MULTILINE)
    return _require(found is not None, f"it has no postscript starting with '{marker}'")


def constrained_response(response: str, kw: Mapping[str, Any]) -> str | None:
    options = ("My answer is yes.", "My answer is no.", "My answer is maybe.")
    ok = any(option in response.strip() for option in options)
    return _require(ok, f"it contains none of the allowed answers {', '.join(map(repr, options))}")


def json_format(response: str, kw: Mapping[str, Any]) -> str | None:
    text = re.sub(r"^```(?:json)?", "", response.strip(), flags=re.IGNORECASE)
    text = re.sub(r"```$", "", text).strip()
    try:
        json.loads(text)
    except ValueError:
        return "it is not valid JSON (optionally inside a ``` fence)"
    return None


def multiple_sections(response: str, kw: Mapping[str, Any]) -> str | None:
    splitter = str(kw["section_spliter"]).strip()
    sections = re.split(r"\s?" + re.escape(splitter) + r"\s?\d+\s?", response)
    what = f"sections marked '{splitter} N'"
    return _relation(len(sections) - 1, "at least", kw["num_sections"], what)


def number_bullet_lists(response: str, kw: Mapping[str, Any]) -> str | None:
    stars = re.findall(r"^\s*\*[^\*].*$", response, flags=re.MULTILINE)
    dashes = re.findall(r"^\s*-.*$", response, flags=re.MULTILINE)
    count, target = len(stars) + len(dashes), int(kw["num_bullets"])
    return _require(count == target, f"it has {count} bullet points; needs exactly {target}")


def number_highlighted_sections(response: str, kw: Mapping[str, Any]) -> str | None:
    spans = re.findall(r"\*[^\n\*]*\*", response) + re.findall(r"\*\*[^\n\*]*\*\*", response)
    count = sum(1 for span in spans if span.strip("*").strip())
    return _relation(count, "at least", kw["num_highlights"], "*highlighted* sections")


def title(response: str, kw: Mapping[str, Any]) -> str | None:
    titles = re.findall(r"<<[^\n]+>>", response)
    ok = any(found.lstrip("<").rstrip(">").strip() for found in titles)
    return _require(ok, "it has no title wrapped in double angular brackets, like <<title>>")


def keyword_existence(response: str, kw: Mapping[str, Any]) -> str | None:
    missing = [k for k in kw["keywords"] if not re.search(re.escape(k), response, re.IGNORECASE)]
    return _require(not missing, f"it does not include {', '.join(map(repr, missing))}")


def forbidden_words(response: str, kw: Mapping[str, Any]) -> str | None:
    used = [
        word
        for word in kw["forbidden_words"]
        if re.search(r"\b" + re.escape(word) + r"\b", response, re.IGNORECASE)
    ]
    return _require(not used, f"it uses the forbidden word(s) {', '.join(map(repr, used))}")


def keyword_frequency(response: str, kw: Mapping[str, Any]) -> str | None:
    keyword = str(kw["keyword"])
    count = len(re.findall(re.escape(keyword), response, re.IGNORECASE))
    return _relation(count, kw["relation"], kw["frequency"], f"occurrences of '{keyword}'")


def letter_frequency(response: str, kw: Mapping[str, Any]) -> str | None:
    letter = str(kw["letter"]).lower()
    count = Counter(response.lower())[letter]
    return _relation(count, kw["let_relation"], kw["let_frequency"], f"letters '{letter}'")


def response_language(response: str, kw: Mapping[str, Any]) -> str | None:
    wanted = str(kw["language"])
    if wanted not in SUPPORTED_LANGUAGES:
        return f"the built-in language guesser cannot recognize '{wanted}'"
    found = guess_language(response)
    return _require(found == wanted, f"it looks like '{found or 'undetermined'}', not '{wanted}'")


def nth_paragraph_first_word(response: str, kw: Mapping[str, Any]) -> str | None:
    paragraphs = re.split(r"\n\n", response)
    count = sum(1 for paragraph in paragraphs if paragraph.strip())
    nth, wanted = int(kw["nth_paragraph"]), int(kw["num_paragraphs"])
    if count != wanted:
        return f"it has {count} paragraphs (separated by blank lines); needs exactly {wanted}"
    paragraph = paragraphs[nth - 1].strip() if nth <= count else ""
    if not paragraph:
        return f"paragraph {nth} is missing or empty"
    word = paragraph.split()[0].strip().lstrip("'\"")
    first_word = re.split(r"[.,?!'\"]", word)[0].lower()
    expected = str(kw["first_word"]).lower()
    return _require(
        first_word == expected, f"paragraph {nth} starts with '{first_word}', not '{expected}'"
    )


def number_paragraphs(response: str, kw: Mapping[str, Any]) -> str | None:
    paragraphs = re.split(r"\s?\*\*\*\s?", response)
    count = len(paragraphs)
    for index, paragraph in enumerate(paragraphs):
        if not paragraph.strip():
            if 0 < index < len(paragraphs) - 1:
                return "it has an empty paragraph between '***' separators"
            count -= 1
    wanted = int(kw["num_paragraphs"])
    return _require(
        count == wanted, f"it has {count} paragraphs separated by '***'; needs exactly {wanted}"
    )


def number_sentences(response: str, kw: Mapping[str, Any]) -> str | None:
    count = len(split_sentences(response))
    return _relation(count, kw["relation"], kw["num_sentences"], "sentences")


def number_words(response: str, kw: Mapping[str, Any]) -> str | None:
    return _relation(len(_words(response)), kw["relation"], kw["num_words"], "words")


def no_comma(response: str, kw: Mapping[str, Any]) -> str | None:
    return _require("," not in response, f"it uses {response.count(',')} comma(s)")


def end_checker(response: str, kw: Mapping[str, Any]) -> str | None:
    phrase = str(kw["end_phrase"]).strip()
    ok = response.strip().strip('"').lower().endswith(phrase.lower())
    return _require(ok, f"it does not end with the exact phrase '{phrase}'")


def quotation(response: str, kw: Mapping[str, Any]) -> str | None:
    text = response.strip()
    ok = len(text) > 1 and text[0] == '"' and text[-1] == '"'
    return _require(ok, "it is not wrapped in double quotation marks")


CHECKERS: Mapping[str, Checker] = {
    "change_case:capital_word_frequency": capital_word_frequency,
    "change_case:english_capital": english_capital,
    "change_case:english_lowercase": english_lowercase,
    "combination:repeat_prompt": repeat_prompt,
    "combination:two_responses": two_responses,
    "detectable_content:number_placeholders": number_placeholders,
    "detectable_content:postscript": postscript,
    "detectable_format:constrained_response": constrained_response,
    "detectable_format:json_format": json_format,
    "detectable_format:multiple_sections": multiple_sections,
    "detectable_format:number_bullet_lists": number_bullet_lists,
    "detectable_format:number_highlighted_sections": number_highlighted_sections,
    "detectable_format:title": title,
    "keywords:existence": keyword_existence,
    "keywords:forbidden_words": forbidden_words,
    "keywords:frequency": keyword_frequency,
    "keywords:letter_frequency": letter_frequency,
    "language:response_language": response_language,
    "length_constraints:nth_paragraph_first_word": nth_paragraph_first_word,
    "length_constraints:number_paragraphs": number_paragraphs,
    "length_constraints:number_sentences": number_sentences,
    "length_constraints:number_words": number_words,
    "punctuation:no_comma": no_comma,
    "startend:end_checker": end_checker,
    "startend:quotation": quotation,
}
"""Instruction id -> checker, for every id this module implements."""
