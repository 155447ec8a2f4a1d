"""IFBench checkers for the `format:` ids: brackets, quotes, bullets, layout and case.

Owns `CHECKS`, instruction id -> (checker, kwarg spec), for the 14 ids whose rule is about
the response's shape: nesting depth, allowed answers, one word per line, emoji, indentation,
quoting, custom bullets, an italic thesis, bullet layouts, title case, a fixed template and
whitespace. Each checker returns None when the response complies, else one sentence saying
what is wrong and by how much.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

from gepa_cli.tasks.ifbench_resources import EMOJI_MODIFIERS, is_emoji
from gepa_cli.tasks.ifbench_text import (
    PUNCTUATION,
    count,
    drop_punctuation,
    listing,
    need,
    shorten,
    text_arg,
    times,
)
from gepa_cli.tasks.ifeval_checks import Checker, split_sentences
from gepa_cli.tasks.instruction_specs import NO_KWARGS, TEXT, KwargSpec, takes

_PAIRS = {")": "(", "]": "[", "}": "{"}
_TEMPLATE = ("My Answer:", "My Conclusion:", "Future Outlook:")


def _bracket_depth(text: str) -> int:
    """The deepest bracket nesting that is closed by a matching bracket."""
    stack: list[str] = []
    deepest = best = 0
    for char in text:
        if char in "([{":
            stack.append(char)
            deepest = max(deepest, len(stack))
        elif char in _PAIRS:
            if stack and stack[-1] == _PAIRS[char]:
                stack.pop()
                best = max(best, deepest)
            else:
                stack, deepest = [], 0
    return best


def parentheses(response: str, kw: Mapping[str, Any]) -> str | None:
    depth = _bracket_depth(response)
    return need(
        depth >= 5,
        f"its matched brackets nest {depth} levels deep; they must nest at least 5 levels",
    )


def _quote_depth(text: str) -> int:
    """How many levels of alternating quotes get closed in one go, at most."""
    stack: list[str] = []
    reached = best = 0
    for char in text:
        if stack and char == stack[-1]:
            stack.pop()
            best = max(best, reached - len(stack))
        elif char in "\"'":
            stack.append(char)
            reached = max(reached, len(stack))
    return best


def quotes(response: str, kw: Mapping[str, Any]) -> str | None:
    depth = _quote_depth(response)
    return need(
        depth >= 3,
        f"its quotes nest {depth} levels deep; they must nest at least 3 levels, "
        "alternating double and single quotes",
    )


def _options(text: str) -> tuple[list[str], bool]:
    """The allowed answers in an options string, and whether they must match exactly."""
    exact = re.match(r"\W*[aA]\W*[bB]\W*[cC]\W*", text) is not None
    separator = "/" if "/" in text else "or" if "or" in text else ","
    return [option.strip() for option in text.split(separator)], exact


def options(response: str, kw: Mapping[str, Any]) -> str | None:
    allowed, exact = _options(text_arg(kw, "options"))
    if exact:
        ok = response in allowed
    else:
        answer = response.strip(PUNCTUATION + " ").lower()
        ok = any(option.strip(PUNCTUATION + " ").lower() == answer for option in allowed)
    return need(
        ok,
        f"it is '{shorten(response)}'; it must be exactly one of {listing(allowed, 8)} "
        "with nothing else",
    )


def newline(response: str, kw: Mapping[str, Any]) -> str | None:
    text = drop_punctuation(response)
    lines = [line for line in text.strip().split("\n") if line.strip()]
    words = text.split()
    return need(
        len(lines) == len(words),
        f"it has {count(len(words), 'word')} on {count(len(lines), 'line')}; "
        "each word must be on its own line",
    )


def _ends_in_emoji(sentence: str) -> bool:
    text = drop_punctuation(sentence).strip().rstrip(EMOJI_MODIFIERS + string.whitespace)
    return bool(text) and is_emoji(text[-1])


def _starts_with_emoji(sentence: str) -> bool:
    text = drop_punctuation(sentence).strip()
    return bool(text) and is_emoji(text[0])


def emoji(response: str, kw: Mapping[str, Any]) -> str | None:
    sentences = split_sentences(response)
    for index, sentence in enumerate(sentences):
        if _ends_in_emoji(sentence):
            continue
        if index + 1 < len(sentences) and _starts_with_emoji(sentences[index + 1]):
            continue
        return f"sentence {index + 1} ('{shorten(sentence)}') does not end with an emoji"
    return None


def line_indent(response: str, kw: Mapping[str, Any]) -> str | None:
    lines = [line for line in response.split("\n") if line.strip()]
    indents = [len(line) - len(line.lstrip(" ")) for line in lines]
    for index in range(1, len(indents)):
        if indents[index] <= indents[index - 1]:
            return (
                f"line {index + 1} is indented {count(indents[index], 'space')}, not more than "
                f"line {index}'s {indents[index - 1]}; each line must be indented further"
            )
    return None


def quote_unquote(response: str, kw: Mapping[str, Any]) -> str | None:
    text = response.replace("“", '"').replace("”", '"').replace("'\"'", "")
    packed = "".join(text.split())
    if '""' in packed:
        return "a quoted phrase is followed directly by another quote, with no explanation between"
    tail = packed.strip(string.digits + PUNCTUATION.replace('"', ""))
    return need(
        not tail.endswith('"'),
        "it ends with a quoted phrase; every quoted phrase must be followed by an explanation",
    )


def special_list(response: str, kw: Mapping[str, Any]) -> str | None:
    marker = text_arg(kw, "sep")
    if not marker:
        raise ValueError("sep must not be empty")
    n = len(re.findall(re.escape(marker), response))
    return need(n >= 2, f"it uses the marker '{marker}' {times(n)}; it needs a list of 2+ items")


def thesis(response: str, kw: Mapping[str, Any]) -> str | None:
    found = re.search(r"<(i|em)>(.*?)</\1>", response, flags=re.DOTALL)
    if found is None:
        return "it has no thesis in HTML italics (<i>...</i> or <em>...</em>)"
    if not found.group(2).strip():
        return "its italic thesis (<i>...</i>) is empty"
    rest = response[found.end() :]
    return need(bool(rest.strip()), "nothing follows its italic thesis; the section must go on")


def _is_bullet(line: str) -> bool:
    return line.startswith("*") and not line.startswith("**")


def sub_bullets(response: str, kw: Mapping[str, Any]) -> str | None:
    lines = [line.strip() for line in response.split("\n") if line.strip()]
    bullets = [index for index, line in enumerate(lines) if _is_bullet(line)]
    if not bullets:
        return "it has no bullet points starting with '*'"
    lacking = []
    for position, index in enumerate(bullets):
        end = bullets[position + 1] if position + 1 < len(bullets) else len(lines)
        if not any(line.startswith("-") for line in lines[index + 1 : end]):
            lacking.append(lines[index])
    return need(
        not lacking,
        f"{count(len(lacking), 'bullet')} have no '-' sub-bullet: {listing(lacking, 3)}; "
        "every '*' bullet needs at least one",
    )


def no_bullets_bullets(response: str, kw: Mapping[str, Any]) -> str | None:
    sentences = bullets = 0
    for line in (line.strip() for line in response.split("\n")):
        if not line:
            continue
        if line.startswith("*"):
            if not bullets and sentences < 2:
                return f"it has {count(sentences, 'sentence')} before the bullets; it needs 2+"
            bullets += 1
        elif bullets:
            return f"text follows the bullet points ('{shorten(line)}'); the bullets must end it"
        else:
            sentences += len(split_sentences(line))
    return need(bullets >= 2, f"it has {count(bullets, '* bullet point')}; it needs at least 2")


def title_case(response: str, kw: Mapping[str, Any]) -> str | None:
    words = re.findall(r"\w+(?:['’-]\w+)*", response)
    lower = [word for word in words if word[0].isalpha() and word[0].islower()]
    return need(
        not lower,
        f"{count(len(lower), 'word')} start with a lowercase letter: {listing(lower)}; "
        "every word must be capitalized",
    )


def output_template(response: str, kw: Mapping[str, Any]) -> str | None:
    missing = [label for label in _TEMPLATE if label not in response]
    return need(not missing, f"it lacks the template label(s) {listing(missing)}")


def no_whitespace(response: str, kw: Mapping[str, Any]) -> str | None:
    n = sum(1 for char in response if char.isspace())
    return need(n == 0, f"it has {count(n, 'whitespace character')}; it must have none")


CHECKS: Mapping[str, tuple[Checker, KwargSpec]] = {
    "format:parentheses": (parentheses, NO_KWARGS),
    "format:quotes": (quotes, NO_KWARGS),
    "format:options": (options, takes(options=TEXT)),
    "format:newline": (newline, NO_KWARGS),
    "format:emoji": (emoji, NO_KWARGS),
    "format:line_indent": (line_indent, NO_KWARGS),
    "format:quote_unquote": (quote_unquote, NO_KWARGS),
    "format:list": (special_list, takes(sep=TEXT)),
    "format:thesis": (thesis, NO_KWARGS),
    "format:sub-bullets": (sub_bullets, NO_KWARGS),
    "format:no_bullets_bullets": (no_bullets_bullets, NO_KWARGS),
    "format:title_case": (title_case, NO_KWARGS),
    "format:output_template": (output_template, NO_KWARGS),
    "format:no_whitespace": (no_whitespace, NO_KWARGS),
}
"""The 14 layout and formatting ids of IFBench."""
