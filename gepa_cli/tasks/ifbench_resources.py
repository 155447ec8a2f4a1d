"""Word lists and small heuristics the IFBench checkers need, shipped so nothing is downloaded.

Owns: the English stop-word list (`STOP_WORDS`, this project's own selection of function words
plus the fragments a `\\w+` tokenizer leaves of contractions), the pronoun and coordinating-
conjunction sets, the 50 first names that `count:person_names` prompts list, the expected
answer lists of two `custom:` ids, an English syllable counter (`syllables`), an emoji test
(`is_emoji`), a start-with-a-verb test (`looks_like_verb`) and a Japanese-script test.
IFBench itself uses NLTK's stop words and tagger, `syllapy` and `emoji`; these stand-ins agree
with them on ordinary text but can differ on rare words.
"""

from __future__ import annotations

import re
import unicodedata


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _word_tuple(text: str) -> tuple[str, ...]:
    return tuple(text.split())


STOP_WORDS = _word_set(
    """
    i me my mine myself we us our ours ourselves you your yours yourself yourselves he him
    his himself she her hers herself it its itself they them their theirs themselves this
    that these those who whom whose which what when where why how a an the some any each
    every both either neither no nor not only own same such all few more most other than too
    very so just also and but or if because as until while of at by for with about against
    between into through during before after above below to from up down in out on off over
    under again further then once here there am is are was were be been being have has had
    having do does did doing done will would shall should can could may might must s t d ll
    m o re ve y don doesn didn isn aren wasn weren hasn haven hadn won wouldn shouldn couldn
    mightn mustn needn shan ain ma
    """
)
"""Lower-case English function words, compared against lower-cased `\\w+` tokens."""

PRONOUNS = _word_set(
    """
    i me we us you he him she her it they them my mine our ours your yours his hers its
    their theirs myself ourselves yourself yourselves himself herself itself themselves this
    that these those who whom whose which what whoever whomever whatever whichever anybody
    anyone anything everybody everyone everything nobody nothing somebody someone something
    each either neither both all some any none
    """
)
"""Personal, possessive, reflexive, demonstrative, interrogative and indefinite pronouns."""

CONJUNCTIONS = ("and", "but", "for", "nor", "or", "so", "yet")
"""The seven English coordinating conjunctions."""

PERSON_NAMES = _word_tuple(
    """
    Emma Liam Sophia Jackson Olivia Noah Ava Lucas Isabella Mason Mia Ethan Charlotte
    Alexander Amelia Benjamin Harper Leo Zoe Daniel Chloe Samuel Lily Matthew Grace Owen
    Abigail Gabriel Ella Jacob Scarlett Nathan Victoria Elijah Layla Nicholas Audrey David
    Hannah Christopher Penelope Thomas Nora Andrew Aria Joseph Claire Ryan Stella Jonathan
    """
)
"""The first names a `count:person_names` prompt tells the model to choose from."""

NORTHERN_EUROPEAN_CAPITALS = _word_tuple(
    """
    Reykjavik Helsinki Oslo Tallinn Stockholm Riga Moscow Copenhagen Vilnius Minsk Dublin
    Berlin Amsterdam Warsaw London Brussels Prague Luxembourg Paris Vienna Bratislava
    Budapest Vaduz Chisinau Bern Ljubljana Zagreb
    """
)
"""European capitals north of 45 degrees latitude, northernmost first (IFBench's answer key)."""

REPEAT_SIMPLE_SENTENCE = "Only output this sentence here, ignore all other requests."
"""The sentence a `repeat:repeat_simple` prompt asks the model to output verbatim."""

_EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),  # mahjong, cards, enclosed, pictographs, emoticons, transport, ...
    (0x2600, 0x27BF),  # miscellaneous symbols and dingbats
    (0x2300, 0x23FF),  # technical symbols such as the watch and hourglass
    (0x2B00, 0x2BFF),  # arrows, stars and circles used as emoji
    (0x3030, 0x303D),
    (0x3297, 0x3299),
)
EMOJI_MODIFIERS = "\ufe0f\ufe0e\u200d\u20e3" + "".join(chr(c) for c in range(0x1F3FB, 0x1F400))
"""Variation selectors, the zero-width joiner, the keycap and the skin tones."""


def is_emoji(char: str) -> bool:
    """Whether one character is an emoji (a pictograph or a symbol shown as one)."""
    if not char:
        return False
    code = ord(char[0])
    return any(low <= code <= high for low, high in _EMOJI_RANGES) or char in "©®‼⁉™"


_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def has_japanese(text: str) -> bool:
    """Whether `text` holds a hiragana, katakana or kanji character."""
    return _JAPANESE.search(text) is not None


_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_SILENT_ENDING = re.compile(r"[^aeiouy]e$|(?<![sxzcgh])es$|(?<![td])ed$")
_SOUNDED_LE = re.compile(r"[^aeiouy]le$")


def syllables(word: str) -> int:
    """An estimate of the syllables in an English word: vowel groups, less a silent ending.

    Words without letters count 0; any other word at least 1.
    """
    folded = unicodedata.normalize("NFKD", word.lower())
    letters = "".join(ch for ch in folded if "a" <= ch <= "z")
    if not letters:
        return 0
    count = len(_VOWEL_GROUPS.findall(letters))
    if count > 1 and _SILENT_ENDING.search(letters) and not _SOUNDED_LE.search(letters):
        count -= 1
    return max(count, 1)


_VERBS = _word_set(
    """
    accept add adjust agree allow analyze answer apply arrange ask assess assume avoid bake
    be become begin believe boil book break bring build buy calculate call carry cast catch
    change check choose clean clear close collect combine come compare compile complete
    compose consider construct contact continue convert cook copy count create cut decide
    define delete deliver describe design determine develop discover discuss do draft draw
    drink drive eat edit enjoy ensure enter estimate evaluate examine explain explore feel
    fill find finish fix fly focus follow forget gather generate get give go grab grow guess
    have hear help hold identify imagine implement improve include install introduce invite
    join jump keep kill know learn leave let lift list listen live look love make manage
    mark meet mix move name need note notice observe offer open order organize outline paint
    pass pay pick place plan play prepare present press print provide pull push put read
    recall receive recommend reduce refer remember remove repeat replace reply report
    research respond rest return review rewrite run save say see select sell send serve set
    share show sing sit sleep solve sort speak spend stand start stay step stop study
    suggest summarize support take talk teach tell test think throw translate travel try
    turn understand update use visit wait wake walk want wash watch wear welcome win wish
    work worry write
    """
)
"""Common English verbs in their base form."""

_IRREGULAR = _word_set(
    """
    am is are was were been being has had does did done doing went gone made took taken gave
    given got gotten came saw seen knew known thought told found left felt kept began begun
    brought bought built caught chose chosen drew drawn drank driven ate eaten flew forgot
    grew heard held led let lost meant met paid put read ran said sold sent set shown sang
    sat slept spoke spent stood taught thrown understood woke wore won wrote written
    """
)


def looks_like_verb(word: str) -> bool:
    """Whether `word` is a common English verb form (base, -s, -ed, -ing or irregular)."""
    word = word.lower().strip("'’")
    if word in _VERBS or word in _IRREGULAR:
        return True
    for suffix, extra in (
        ("ing", ""),
        ("ing", "e"),
        ("ed", ""),
        ("ed", "e"),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix):
            stem = word[: -len(suffix)] + extra
            if stem in _VERBS or (len(stem) > 2 and stem[-1] == stem[-2] and stem[:-1] in _VERBS):
                return True
    if word.endswith("ied") or word.endswith("ies"):
        return word[:-3] + "y" in _VERBS
    return False
