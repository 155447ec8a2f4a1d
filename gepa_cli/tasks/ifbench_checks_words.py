"""IFBench checkers for the `words:` and `sentence:` ids: rules on letters, words and sentences.

Owns `CHECKS`, instruction id -> (checker, kwarg spec), for the 16 ids whose rule constrains
individual words (first letters, lengths, vowels, syllables, repeats, positions) or how
sentences relate (alliteration, keyword, word-count steps). Each checker returns None when
the response complies, else one sentence saying what is wrong and by how much.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Mapping
from typing import Any

from gepa_cli.tasks.ifbench_resources import looks_like_verb, syllables
from gepa_cli.tasks.ifbench_text import (
    PUNCTUATION,
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
    word_tokens,
)
from gepa_cli.tasks.ifeval_checks import Checker, split_sentences
from gepa_cli.tasks.instruction_specs import INT, NO_KWARGS, TEXT, KwargSpec, takes

_CONSONANTS = frozenset("bcdfghjklmnpqrstvwxyz")
_PRIMES = frozenset(n for n in range(2, 100) if all(n % d for d in range(2, n)))


def alphabet(response: str, kw: Mapping[str, Any]) -> str | None:
    words = drop_punctuation(response).split()
    if not words:
        return "it has no words"
    letter = words[0][0].lower()
    if letter not in string.ascii_lowercase:
        return f"its first word '{shorten(words[0], 20)}' does not start with a letter"
    for position, word in enumerate(words[1:], start=2):
        letter = chr((ord(letter) - ord("a") + 1) % 26 + ord("a"))
        if word[0].lower() != letter:
            return (
                f"word {position} ('{shorten(word, 20)}') starts with '{word[0]}'; "
                f"it must start with '{letter}' (each word takes the next letter)"
            )
    return None


def vowel(response: str, kw: Mapping[str, Any]) -> str | None:
    lines = response.strip().split("\n")
    if len(lines) != 1:
        return f"it has {count(len(lines), 'line')}; it must be a single paragraph on one line"
    used = sorted(set(lines[0].lower()) & set("aeiou"))
    return need(
        len(used) <= 3,
        f"it uses {len(used)} different vowels ({', '.join(used)}); at most 3 are allowed",
    )


def _has_cluster(word: str) -> bool:
    return any(a in _CONSONANTS and b in _CONSONANTS for a, b in zip(word, word[1:], strict=False))


def consonants(response: str, kw: Mapping[str, Any]) -> str | None:
    lacking = [word for word in response.lower().split() if not _has_cluster(word)]
    return need(
        not lacking,
        f"{count(len(lacking), 'word')} have no consonant cluster (two consonants in a row): "
        f"{listing(lacking)}; every word needs one",
    )


def palindrome(response: str, kw: Mapping[str, Any]) -> str | None:
    words = plain_words(response)
    found = [word for word in words if len(word) >= 5 and word == word[::-1]]
    shown = f" ({listing(found)})" if found else ""
    return need(
        len(found) >= 10,
        f"it has {count(len(found), 'palindrome')} of 5+ letters{shown}; it needs at least 10",
    )


def prime_lengths(response: str, kw: Mapping[str, Any]) -> str | None:
    bad = [word for word in drop_punctuation(response).split() if len(word) not in _PRIMES]
    return need(
        not bad,
        f"{count(len(bad), 'word')} have a length that is not a prime number: {listing(bad)}",
    )


def start_verb(response: str, kw: Mapping[str, Any]) -> str | None:
    first = response.split()[0] if response.split() else ""
    word = first.rstrip(PUNCTUATION)
    ok = word[:1].isalpha() and looks_like_verb(word)
    return need(ok, f"it starts with '{shorten(first, 20)}', which is not a verb")


def repeats(response: str, kw: Mapping[str, Any]) -> str | None:
    limit = integer(kw, "small_n")
    counts = Counter(plain_words(response))
    if not counts:
        return None
    word, n = counts.most_common(1)[0]
    return need(
        n <= limit,
        f"the word '{word}' appears {times(n)}; no word may appear more than {times(limit)}",
    )


def odd_even_syllables(response: str, kw: Mapping[str, Any]) -> str | None:
    words = plain_words(response)
    parities = [syllables(word) % 2 for word in words]
    for index in range(len(words) - 1):
        if parities[index] == parities[index + 1]:
            kind = "an odd" if parities[index] else "an even"
            return (
                f"'{words[index]}' and '{words[index + 1]}' (words {index + 1} and "
                f"{index + 2}) both have {kind} number of syllables; they must alternate"
            )
    return None


def last_first(response: str, kw: Mapping[str, Any]) -> str | None:
    sentences = split_sentences(response)
    for index in range(len(sentences) - 1):
        ending = sentences[index].rstrip(PUNCTUATION + " ").split()
        opening = sentences[index + 1].lstrip(PUNCTUATION + " ").split()
        last = bare(ending[-1]).lower() if ending else ""
        first = bare(opening[0]).lower() if opening else ""
        if not last or last != first:
            return (
                f"sentence {index + 1} ends with '{last}' but sentence {index + 2} starts with "
                f"'{first}'; each sentence must start with the previous one's last word"
            )
    return None


def paragraph_last_first(response: str, kw: Mapping[str, Any]) -> str | None:
    for number, line in enumerate(response.split("\n"), start=1):
        words = [bare(word) for word in line.lower().split()]
        words = [word for word in words if word]
        if words and words[0] != words[-1]:
            return (
                f"paragraph (line) {number} starts with '{words[0]}' but ends with "
                f"'{words[-1]}'; each must end with the word it starts with"
            )
    return None


def no_consecutive(response: str, kw: Mapping[str, Any]) -> str | None:
    words = plain_words(response)
    for index in range(len(words) - 1):
        if words[index][0] == words[index + 1][0]:
            return (
                f"'{words[index]}' and '{words[index + 1]}' (words {index + 1} and {index + 2}) "
                f"both start with '{words[index][0]}'; neighbouring words must not"
            )
    return None


def keywords_specific_position(response: str, kw: Mapping[str, Any]) -> str | None:
    keyword = text_arg(kw, "keyword").strip()
    n, m = positive(kw, "n"), positive(kw, "m")
    sentences = split_sentences(response)
    if len(sentences) < n:
        return f"it has {count(len(sentences), 'sentence')}; '{keyword}' must be in sentence {n}"
    words = word_tokens(sentences[n - 1])
    if len(words) < m:
        return f"sentence {n} has {count(len(words), 'word')}; '{keyword}' must be word {m}"
    return need(
        words[m - 1].lower() == keyword.lower(),
        f"word {m} of sentence {n} is '{words[m - 1]}'; it must be '{keyword}'",
    )


def words_position(response: str, kw: Mapping[str, Any]) -> str | None:
    keyword = text_arg(kw, "keyword").strip().lower()
    words = [word.lower() for word in word_tokens(response)]
    if len(words) < 2:
        return f"it has {count(len(words), 'word')}; '{keyword}' must be the 2nd word"
    return need(
        words[1] == words[-2] == keyword,
        f"its 2nd word is '{words[1]}' and its second-to-last word is '{words[-2]}'; "
        f"both must be '{keyword}'",
    )


def _alliteration(sentence: str) -> int:
    """Words in runs of 2+ consecutive words sharing a first letter."""
    words = [word.lstrip(PUNCTUATION + " ") for word in sentence.lower().split()]
    words = [word for word in words if word]
    total = 0
    for index in range(1, len(words)):
        if words[index][0] == words[index - 1][0]:
            joins_run = index > 1 and words[index - 1][0] == words[index - 2][0]
            total += 1 if joins_run else 2
    return total


def alliteration_increment(response: str, kw: Mapping[str, Any]) -> str | None:
    previous = -1
    for number, sentence in enumerate(split_sentences(response), start=1):
        current = _alliteration(sentence)
        if current <= previous:
            return (
                f"sentence {number} has {count(current, 'alliterative word')}; "
                f"it needs more than sentence {number - 1}'s {previous}"
            )
        previous = current
    return None


def sentence_keyword(response: str, kw: Mapping[str, Any]) -> str | None:
    word, n = text_arg(kw, "word"), positive(kw, "N")
    sentences = split_sentences(response)
    if len(sentences) < n:
        return f"it has {count(len(sentences), 'sentence')}; '{word}' must be in the {ordinal(n)}"
    found = re.search(rf"\b{re.escape(word)}\b", sentences[n - 1], flags=re.IGNORECASE)
    return need(found is not None, f"its {ordinal(n)} sentence does not contain '{word}'")


def increment(response: str, kw: Mapping[str, Any]) -> str | None:
    step = integer(kw, "small_n")
    lengths = [len(drop_punctuation(sentence).split()) for sentence in split_sentences(response)]
    for index in range(1, len(lengths)):
        wanted = lengths[index - 1] + step
        if lengths[index] != wanted:
            return (
                f"sentence {index + 1} has {count(lengths[index], 'word')}; it needs {wanted} "
                f"({step} more than sentence {index}'s {lengths[index - 1]})"
            )
    return None


CHECKS: Mapping[str, tuple[Checker, KwargSpec]] = {
    "words:alphabet": (alphabet, NO_KWARGS),
    "words:vowel": (vowel, NO_KWARGS),
    "words:consonants": (consonants, NO_KWARGS),
    "words:palindrome": (palindrome, NO_KWARGS),
    "words:prime_lengths": (prime_lengths, NO_KWARGS),
    "words:start_verb": (start_verb, NO_KWARGS),
    "words:repeats": (repeats, takes(small_n=INT)),
    "words:odd_even_syllables": (odd_even_syllables, NO_KWARGS),
    "words:last_first": (last_first, NO_KWARGS),
    "words:paragraph_last_first": (paragraph_last_first, NO_KWARGS),
    "words:no_consecutive": (no_consecutive, NO_KWARGS),
    "words:keywords_specific_position": (
        keywords_specific_position,
        takes(keyword=TEXT, n=INT, m=INT),
    ),
    "words:words_position": (words_position, takes(keyword=TEXT)),
    "sentence:alliteration_increment": (alliteration_increment, NO_KWARGS),
    "sentence:keyword": (sentence_keyword, takes(word=TEXT, N=INT)),
    "sentence:increment": (increment, takes(small_n=INT)),
}
"""The 16 word-level and sentence-level ids of IFBench."""
