"""A dependency-free guess of a text's language, for IFEval's `language:response_language`.

IFEval's reference checker uses `langdetect`, which is not installed here. This guesser
works in two steps: the dominant Unicode script of the letters decides most languages
outright (Hangul -> ko, Thai -> th, Tamil -> ta, ...); within a script shared by several
languages, characteristic letters (Arabic vs Persian vs Urdu, Russian vs Bulgarian, the
Vietnamese tone marks) or a short list of frequent function words (Latin and Devanagari
scripts) decide. It is a heuristic: reliable on a paragraph of ordinary prose, unreliable
on a few words. `guess_language` returns an ISO 639-1 code or None when it cannot tell.
"""

from __future__ import annotations

import string
import unicodedata
from collections import Counter
from collections.abc import Mapping

# Unicode script blocks: (first code point, last code point, language or script family)
_BLOCKS: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"),
    (0x1E00, 0x1EFF, "latin"),
    (0x0370, 0x03FF, "el"),
    (0x0400, 0x04FF, "cyrillic"),
    (0x0530, 0x058F, "hy"),
    (0x0590, 0x05FF, "he"),
    (0x0600, 0x06FF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0980, 0x09FF, "bn"),
    (0x0A00, 0x0A7F, "pa"),
    (0x0A80, 0x0AFF, "gu"),
    (0x0B80, 0x0BFF, "ta"),
    (0x0C00, 0x0C7F, "te"),
    (0x0C80, 0x0CFF, "kn"),
    (0x0D00, 0x0D7F, "ml"),
    (0x0D80, 0x0DFF, "si"),
    (0x0E00, 0x0E7F, "th"),
    (0x10A0, 0x10FF, "ka"),
    (0x1100, 0x11FF, "ko"),
    (0x3040, 0x30FF, "ja"),
    (0x4E00, 0x9FFF, "zh"),
    (0xAC00, 0xD7AF, "ko"),
)


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


_FUNCTION_WORDS: Mapping[str, Mapping[str, frozenset[str]]] = {
    "latin": {
        "en": _vocabulary("the and is of to in that it you for with are this be on not"),
        "de": _vocabulary(
            "der die das und ist nicht ich sie mit den ein eine zu auf für es auch von dem sich"
        ),
        "fr": _vocabulary(
            "le la les et est des une un du que pour dans pas qui sur au avec ce il je"
        ),
        "es": _vocabulary("el la los las y es que en un una por con para del se no lo como más"),
        "pt": _vocabulary(
            "o os as e é que em um uma para com não do da dos das se na no mais você"
        ),
        "it": _vocabulary("il la le e è di che un una per con non del della sono gli si anche ma"),
        "nl": _vocabulary("de het een en is van dat niet ik je op te zijn met voor er maar ook"),
        "fi": _vocabulary(
            "ja on ei se että hän ovat oli tämä mutta kun myös joka olla voi kuin niin"
        ),
        "sw": _vocabulary(
            "na ya wa kwa ni za katika kuwa hii yake lakini pia sana kama watu mtu au"
        ),
        "sv": _vocabulary("och är att det som en på för med inte av jag den till har"),
        "pl": _vocabulary("i w nie się na to że z jest do jak co po ale tak dla"),
        "tr": _vocabulary("ve bir bu da de için ile çok ne gibi daha olarak var ama"),
        "id": _vocabulary(
            "dan yang di ini itu dengan untuk tidak dari ada akan juga saya dalam adalah"
        ),
    },
    "cyrillic": {
        "ru": _vocabulary(
            "что это как был была было его её только уже ещё если или очень чтобы "
            "который которая есть"
        ),
        "bg": _vocabulary("е са това този тази които който която като ще беше"),
        "uk": _vocabulary("і це що як та був була дуже він вона є"),
    },
    "devanagari": {
        "hi": _vocabulary("है हैं और के की का में से को यह था लिए नहीं भी पर ने"),
        "mr": _vocabulary("आहे आणि या व हे ते च्या ला ची चा आहेत नाही मध्ये साठी होते केले"),
        "ne": _vocabulary("छ छन् र मा यो पनि गर्न भएको थियो हुन्छ गरेको गर्छ तथा हुने"),
    },
}

_VIETNAMESE = frozenset("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")
_URDU = frozenset("ےںٹڈڑہھ")
_PERSIAN = frozenset("پچژگیک")
_ARABIC = frozenset("يكةى")
_CHARACTERISTIC_LETTERS: Mapping[str, Mapping[str, frozenset[str]]] = {
    "cyrillic": {"ru": frozenset("ыэё"), "bg": frozenset("ъ"), "uk": frozenset("іїєґ")},
}
_PUNCTUATION = string.punctuation + "।॥،؟«»“”‘’—–…"

SUPPORTED_LANGUAGES = frozenset(
    {family for _, _, family in _BLOCKS if family not in _FUNCTION_WORDS} - {"arabic"}
    | {code for words in _FUNCTION_WORDS.values() for code in words}
    | {"vi", "ar", "fa", "ur"}
)
"""Every code `guess_language` can return."""


def _script(char: str) -> str | None:
    point = ord(char)
    for first, last, family in _BLOCKS:
        if first <= point <= last:
            return family
    return None


def _by_letters(letters: Counter[str], rules: Mapping[str, frozenset[str]], default: str) -> str:
    """The language whose characteristic letters occur most often; `default` if none do."""
    counts = {code: sum(letters[ch] for ch in chars) for code, chars in rules.items()}
    best = max(counts, key=lambda code: counts[code])
    return best if counts[best] > 0 else default


def _by_words(text: str, letters: Counter[str], family: str) -> str | None:
    """The language of `family` with the most function words (plus characteristic letters)."""
    words = [word.strip(_PUNCTUATION).lower() for word in text.split()]
    hits = {
        code: sum(word in vocabulary for word in words)
        for code, vocabulary in _FUNCTION_WORDS[family].items()
    }
    for code, chars in _CHARACTERISTIC_LETTERS.get(family, {}).items():
        hits[code] += sum(letters[ch] for ch in chars)
    best = max(hits, key=lambda code: hits[code])
    return best if hits[best] > 0 else None


def guess_language(text: str) -> str | None:
    """The ISO 639-1 code of `text`'s language, or None when undetermined."""
    letters = Counter(ch for ch in unicodedata.normalize("NFC", text).lower() if ch.isalpha())
    scripts: Counter[str] = Counter()
    for char, count in letters.items():
        family = _script(char)
        if family is not None:
            scripts[family] += count
    if not scripts:
        return None
    family = scripts.most_common(1)[0][0]
    if family == "ja" or (family == "zh" and scripts["ja"] > 0):
        return "ja"
    if family == "arabic":
        # Urdu also writes the Persian letters, so its own letters decide first
        if sum(letters[ch] for ch in _URDU) >= max(1, 0.01 * scripts["arabic"]):
            return "ur"
        return _by_letters(letters, {"fa": _PERSIAN, "ar": _ARABIC}, "ar")
    if family == "latin":
        vietnamese = sum(letters[ch] for ch in _VIETNAMESE)
        if vietnamese >= max(3, 0.05 * scripts["latin"]):
            return "vi"
    if family in _FUNCTION_WORDS:
        return _by_words(text, letters, family)
    return family
