"""IFBench support in the ifeval task: a complying and a violating reply for each of the 58
instruction ids (with the feedback sentence), loose mode, the joint IFEval + IFBench registry,
and data validation (check_example, example_checker, load_split(check=...))."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from gepa_cli.engine.types import Example
from gepa_cli.tasks.base import TaskOutput
from gepa_cli.tasks.data import DataError, load_split
from gepa_cli.tasks.ifbench_resources import NORTHERN_EUROPEAN_CAPITALS, syllables
from gepa_cli.tasks.ifbench_text import ascii_fold
from gepa_cli.tasks.ifeval import IFEvalTask, check_instruction, supported_instructions
from gepa_cli.tasks.instructions import CHECKERS, IFBENCH_IDS, IFEVAL_IDS, SPECS
from gepa_cli.tasks.registry import example_checker

IFBENCH_58 = {
    *("count:word_count_range", "count:unique_word_count", "count:conjunctions"),
    *("count:person_names", "count:numbers", "count:punctuation", "count:words_japanese"),
    *("count:pronouns", "count:keywords_multiple"),
    *("ratio:stop_words", "ratio:sentence_type", "ratio:sentence_balance", "ratio:overlap"),
    "ratio:sentence_words",
    *("words:alphabet", "words:vowel", "words:consonants", "words:palindrome"),
    *("words:prime_lengths", "words:start_verb", "words:repeats", "words:odd_even_syllables"),
    *("words:last_first", "words:paragraph_last_first", "words:no_consecutive"),
    *("words:keywords_specific_position", "words:words_position"),
    *("sentence:alliteration_increment", "sentence:keyword", "sentence:increment"),
    *("format:parentheses", "format:quotes", "format:options", "format:newline"),
    *("format:emoji", "format:line_indent", "format:quote_unquote", "format:list"),
    *("format:thesis", "format:sub-bullets", "format:no_bullets_bullets", "format:title_case"),
    *("format:output_template", "format:no_whitespace"),
    *("custom:multiples", "custom:mcq_count_length", "custom:reverse_newline"),
    *("custom:word_reverse", "custom:character_reverse", "custom:sentence_alphabet"),
    *("custom:european_capitals_sort", "custom:csv_city", "custom:csv_special_character"),
    *("custom:csv_quotes", "custom:date_format_list"),
    *("repeat:repeat_change", "repeat:repeat_simple", "repeat:repeat_span"),
}

AFRICA = (
    "Algeria|Angola|Benin|Botswana|Burkina Faso|Burundi|Cabo Verde|Cameroon|"
    "Central African Republic|Chad|Comoros|Congo|Djibouti|Egypt|Equatorial Guinea|Eritrea|"
    "Eswatini|Ethiopia|Gabon|Gambia|Ghana|Guinea|Guinea-Bissau|Ivory Coast|Kenya|Lesotho|"
    "Liberia|Libya|Madagascar|Malawi|Mali|Mauritania|Mauritius|Morocco|Mozambique|Namibia|"
    "Niger|Nigeria|Rwanda|São Tomé and Príncipe|Senegal|Seychelles|Sierra Leone|Somalia|"
    "South Africa|South Sudan|Sudan|Tanzania|Togo|Tunisia|Uganda|Zambia|Zimbabwe"
)
COUNTRIES = sorted(AFRICA.split("|"), key=ascii_fold, reverse=True)
SWAPPED = [COUNTRIES[0], COUNTRIES[2], COUNTRIES[1], *COUNTRIES[3:]]
MCQ = "\n".join(
    f"Question {n}: {stem}\nA) one\nB) two\nC) three\nD) four\nE) five"
    for n, stem in enumerate(
        ["Who?", "Who painted?", "Who painted Guernica?", "Who painted Guernica in 1937?"], 1
    )
)
MCQ_SHRINKING = MCQ.replace("Who painted Guernica in 1937?", "Why?")
CITY_ROWS = "\n".join(f"{n},France,Paris,2020,{n * 10}" for n in range(1, 8))
HEADER_AND_SIX = "ID,Country,City,Year,Count\n" + CITY_ROWS.rsplit("\n", 1)[0]
PRODUCT_ROWS = [f"{n},Tools,Acme,9.99,{n}" for n in range(1, 15)]
SPECIAL_CSV = "ProductID,Category,Brand,Price,Stock\n" + "\n".join(
    ['1,Tools,"Acme, Inc.",9.99,1', *PRODUCT_ROWS[1:]]
)
PLAIN_CSV = "ProductID,Category,Brand,Price,Stock\n" + "\n".join(PRODUCT_ROWS)
STUDENTS = '"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"\n' + "\n".join(
    f'"{n}"\t"Math"\t"A"\t"Fall"\t"9{n}"' for n in range(1, 4)
)
ALPHABET_STORY = " ".join(f"{chr(65 + i)}ox walks far." for i in range(26))
KEYWORDS = {f"keyword{i}": word for i, word in enumerate(["sun", "nebula", "orbit"], 1)}
KEYWORDS |= {"keyword4": "star", "keyword5": "dust"}
KEYWORD_TEXT = "sun " + "nebula " * 2 + "orbit " * 3 + "star " * 5 + "dust " * 7
REFERENCE = {"reference_text": "the quick brown fox jumps over the lazy dog", "percentage": 100}
REQUEST = "The quick brown fox jumps over the lazy dog"
SIMPLE = "Only output this sentence here, ignore all other requests."

# (instruction id, kwargs, complying replies, [(violating reply, part of the feedback), ...])
Case = tuple[str, dict[str, Any], list[str], list[tuple[str, str]]]
CASES: list[Case] = [
    (
        "count:word_count_range",
        {"min_words": 3, "max_words": 5},
        ["one two three four"],
        [("one two", "it has 2 words; it needs 3 to 5"), ("a b c d e f", "it has 6 words")],
    ),
    (
        "count:unique_word_count",
        {"N": 4},
        ["Red green blue yellow."],
        [("red red Red red!", "it uses 1 different word; it needs at least 4")],
    ),
    (
        "ratio:stop_words",
        {"percentage": 50},
        ["Cats chase mice quickly."],
        [("It is in the box.", "stop words are 80.0% of its words; they may be at most 50%")],
    ),
    (
        "ratio:sentence_type",
        {},
        ["I like tea. You like coffee. Do we agree?"],
        [("Is it late? Is it early? It is noon.", "1 sentence ending in '.' and 2 questions")],
    ),
    (
        "ratio:sentence_balance",
        {},
        ["I am here. Are you there? Yes!"],
        [("I am here. You are there. Right?", "2 declarative, 1 interrogative and 0 exclam")],
    ),
    (
        "count:conjunctions",
        {"small_n": 3},
        ["I came and saw, but left, so it ends."],
        [("Tea and cake And jam.", "1 different coordinating conjunction (and); it needs at")],
    ),
    (
        "count:person_names",
        {"N": 2},
        ["Emma met Liam at noon."],
        [("Emma met emma and Bob.", "it mentions 1 name from the given list; it needs at least")],
    ),
    (
        "ratio:overlap",
        REFERENCE,
        ["the quick brown fox jumps"],
        [("a slow green turtle walks", "0.0% of its trigrams also occur in the reference")],
    ),
    (
        "count:numbers",
        {"N": 2},
        ["I have 3 cats and 12 dogs.", "It costs 3.50 for 2."],
        [("I have 3 cats, 4 dogs and 5 fish.", "it has 3 numbers; it needs exactly 2")],
    ),
    (
        "count:punctuation",
        {},
        ["Really?! Yes: one; two, three. Why? Wow!"],
        [
            ("Hello, world. Fine; ok: sure! Why?", "it has no interrobang"),
            ("Really?! Yes, fine.", "apart from the interrobang it never uses ! ? ; :"),
        ],
    ),
    (
        "count:words_japanese",
        {"N": 2},
        ["I 日本 like 猫 cats", "I 日本 paid 100 yen"],
        [("I really like cats", "word 2 ('really') is not Japanese; every 2nd word must be")],
    ),
    (
        "count:pronouns",
        {"N": 3},
        ["She told him that they won."],
        [("Cats eat fish.", "it has 0 pronouns; it needs at least 3")],
    ),
    (
        "count:keywords_multiple",
        KEYWORDS,
        [KEYWORD_TEXT, KEYWORD_TEXT.upper()],
        [
            (
                KEYWORD_TEXT.replace("nebula ", "", 1),
                "the keyword 'nebula' appears 1 time; it must appear 2 times",
            ),
            (KEYWORD_TEXT.replace("dust", "stardust"), "the keyword 'dust' appears 0 times"),
        ],
    ),
    (
        "ratio:sentence_words",
        {},
        ["Red cat ran. Big dog sat. Old owl hid."],
        [
            ("Red cat ran. Big dog sat.", "it has 2 sentences; it needs exactly 3"),
            ("Red cat ran. Big cat sat. Old owl hid.", "it repeats 'cat'"),
            ("Red cat ran. Big dogs sat. Old owl hid.", "12, 13, 12 characters"),
        ],
    ),
    (
        "words:alphabet",
        {},
        ["Ants build colonies.", "Yaks zoom around"],
        [("Ants build dens.", "word 3 ('dens') starts with 'd'; it must start with 'c'")],
    ),
    (
        "words:vowel",
        {},
        ["Cats and dogs run."],
        [
            ("Cats and dogs run.\nBirds fly.", "it has 2 lines; it must be a single paragraph"),
            ("The quick brown fox is big.", "it uses 4 different vowels (e, i, o, u); at most 3"),
        ],
    ),
    (
        "words:consonants",
        {},
        ["Strong blend crisp."],
        [("Strong cat runs.", "1 word have no consonant cluster (two consonants in a row): 'cat'")],
    ),
    (
        "words:palindrome",
        {},
        ["level radar civic refer kayak madam rotor stats tenet racecar"],
        [("level radar civic noon", "it has 3 palindromes of 5+ letters")],
    ),
    (
        "words:prime_lengths",
        {},
        ["An odd cat ran."],
        [("A cat ran home.", "2 words have a length that is not a prime number: 'A', 'home'")],
    ),
    (
        "words:start_verb",
        {},
        ["Write the report today.", "Running is fun.", "Stopped, the car waited."],
        [("The report is done.", "it starts with 'The', which is not a verb")],
    ),
    (
        "words:repeats",
        {"small_n": 2},
        ["the cat and the dog"],
        [("The cat, the dog, the bird", "the word 'the' appears 3 times; no word may appear")],
    ),
    (
        "words:odd_even_syllables",
        {},
        ["cat tiger dog", "Little cat, happy dog."],
        [("cat dog tiger", "'cat' and 'dog' (words 1 and 2) both have an odd number")],
    ),
    (
        "words:last_first",
        {},
        ["I like tea. Tea is warm. Warm days help."],
        [("I like tea. Coffee is warm.", "sentence 1 ends with 'tea' but sentence 2 starts")],
    ),
    (
        "words:paragraph_last_first",
        {},
        ["Time flies when you lose track of time.\nHome is where we return home."],
        [("Time flies fast.\nHome is home.", "paragraph (line) 1 starts with 'time' but ends")],
    ),
    (
        "words:no_consecutive",
        {},
        ["Many cats nap quietly."],
        [("Big blue sky.", "'big' and 'blue' (words 1 and 2) both start with 'b'")],
    ),
    (
        "words:keywords_specific_position",
        {"keyword": "river", "n": 2, "m": 3},
        ["I walked. The old river flows.", "I walked. The old River, wide, flows."],
        [
            ("I walked. The river flows.", "word 3 of sentence 2 is 'flows'; it must be 'river'"),
            ("Only one sentence.", "it has 1 sentence; 'river' must be in sentence 2"),
        ],
    ),
    (
        "words:words_position",
        {"keyword": "blue"},
        ["The blue sky is blue today.", "A BLUE sky, so blue; yes."],
        [("The sky is blue.", "its 2nd word is 'sky' and its second-to-last word is 'is'")],
    ),
    (
        "sentence:alliteration_increment",
        {},
        ["Cats nap. Big bears bite. Silly snakes slide slowly."],
        [("Big bears bite. Cats nap.", "sentence 2 has 0 alliterative words; it needs more")],
    ),
    (
        "sentence:keyword",
        {"word": "moon", "N": 2},
        ["Night fell. The Moon rose."],
        [("The moon rose. Night fell.", "its 2nd sentence does not contain 'moon'")],
    ),
    (
        "sentence:increment",
        {"small_n": 2},
        ["I ran. I ran very fast. I ran very fast and far."],
        [("I ran. I ran fast.", "sentence 2 has 3 words; it needs 4 (2 more than sentence 1's")],
    ),
    (
        "format:parentheses",
        {},
        ["Note (a [b {c (d [e])}]) end."],
        [("(a [b {c}])", "its matched brackets nest 3 levels deep; they must nest at least 5")],
    ),
    (
        "format:quotes",
        {},
        ['He said "she told me \'they said "go" to us\' today" loudly.'],
        [("He said \"she told me 'go' today\".", "its quotes nest 2 levels deep")],
    ),
    (
        "format:options",
        {"options": "yes/no/maybe"},
        ["Yes.", "maybe"],
        [("Yes, because it is true.", "it must be exactly one of 'yes', 'no', 'maybe'")],
    ),
    (
        "format:options",
        {"options": "a), b), c), d)"},
        ["b)"],
        [("b) is right", "it must be exactly one of 'a)', 'b)', 'c)', 'd)'")],
    ),
    (
        "format:options",
        {"options": "I know or I don't know"},
        ["I don't know."],
        [("Maybe I know", "exactly one of 'I know', 'I don't know'")],
    ),
    (
        "format:newline",
        {},
        ["One\nword\nper\nline."],
        [("Two words\nhere", "it has 3 words on 2 lines; each word must be on its own line")],
    ),
    (
        "format:emoji",
        {},
        ["I love pizza 🍕. It is tasty 😋!", "Hi. 😀 Bye ☀️"],
        [("I love pizza 🍕. It is tasty!", "sentence 2 ('It is tasty!') does not end with an")],
    ),
    (
        "format:line_indent",
        {},
        ["a\n  b\n\n    c"],
        [("a\n  b\n  c", "line 3 is indented 2 spaces, not more than line 2's 2")],
    ),
    (
        "format:quote_unquote",
        {},
        ['He said "hello" as a greeting.', "No quotes at all."],
        [
            ('He said "hello"', "it ends with a quoted phrase"),
            ('"hi" "bye" are words.', "followed directly by another quote"),
        ],
    ),
    (
        "format:list",
        {"sep": "SEPARATOR"},
        ["SEPARATOR apples\nSEPARATOR pears"],
        [("SEPARATOR apples", "it uses the marker 'SEPARATOR' 1 time; it needs a list of 2+")],
    ),
    (
        "format:thesis",
        {},
        ["<i>Cats rule.</i> They nap all day.", "<em>Cats rule.</em>\nThey nap."],
        [
            ("Cats rule. They nap.", "it has no thesis in HTML italics"),
            ("They nap. <i>Cats rule.</i>", "nothing follows its italic thesis"),
        ],
    ),
    (
        "format:sub-bullets",
        {},
        ["* Fruit\n  - apple\n* Veg\n  - kale\n  - leek"],
        [
            ("* Fruit\n  - apple\n* Veg", "1 bullet have no '-' sub-bullet: '* Veg'"),
            ("Just text.", "it has no bullet points starting with '*'"),
        ],
    ),
    (
        "format:no_bullets_bullets",
        {},
        ["I like food. Here is a list.\n* apples\n* pears\n"],
        [
            ("Here is a list.\n* apples\n* pears", "it has 1 sentence before the bullets"),
            ("I like food. Here it is.\n* apples", "it has 1 * bullet point; it needs at least 2"),
            ("I eat. I cook.\n* a\n* b\nThe end.", "text follows the bullet points"),
        ],
    ),
    (
        "format:title_case",
        {},
        ["The Quick Brown Fox Jumps Over It's Well-Known Den"],
        [("The quick Brown Fox of Doom", "2 words start with a lowercase letter: 'quick', 'of'")],
    ),
    (
        "format:output_template",
        {},
        ["My Answer: yes My Conclusion: fine Future Outlook: bright"],
        [("My Answer: yes", "it lacks the template label(s) 'My Conclusion:', 'Future Outlo")],
    ),
    (
        "format:no_whitespace",
        {},
        ["NoSpacesHere"],
        [("Has space", "it has 1 whitespace character; it must have none")],
    ),
    (
        "custom:multiples",
        {},
        ["14, 21, 28, 35, 42, 49", "14,21,28,35,42,49"],
        [("10, 14, 21, 28, 35, 42, 49", "its numbers are 10, 14, 21")],
    ),
    (
        "custom:mcq_count_length",
        {},
        [MCQ],
        [
            ("Here you go.\n" + MCQ, "it must begin with 'Question 1'"),
            (MCQ_SHRINKING, "question 4 (4 characters) is not longer than question 3"),
            (MCQ.replace("E) five", ""), "question 1 has 4 options"),
        ],
    ),
    (
        "custom:reverse_newline",
        {},
        ["\n".join(COUNTRIES), "Here:\n" + "\n".join(f"- {c}." for c in COUNTRIES)],
        [
            ("\n".join(SWAPPED), "'Zambia' comes after 'Uganda'"),
            ("Kenya\nEgypt", "it does not list Zimbabwe"),
            ("\n".join(COUNTRIES[:20]), "it lists 20 lines from Zimbabwe on"),
        ],
    ),
    (
        "custom:word_reverse",
        {},
        ["eagle bald the is symbol national The."],
        [("The national symbol is the bald eagle.", "read backwards word by word it never")],
    ),
    (
        "custom:character_reverse",
        {},
        [".elgae dlab ehT"],
        [("The bald eagle.", "it does not contain 'elgae dlab'")],
    ),
    (
        "custom:sentence_alphabet",
        {},
        [ALPHABET_STORY],
        [
            (ALPHABET_STORY.replace("Zox walks far.", ""), "it has 25 sentences; the story"),
            (ALPHABET_STORY.replace("Cox", "Kox"), "sentence 3 starts with 'K'; it must start"),
        ],
    ),
    (
        "custom:european_capitals_sort",
        {},
        [", ".join(NORTHERN_EUROPEAN_CAPITALS).replace("Reykjavik", "Reykjavík")],
        [
            (
                ", ".join(NORTHERN_EUROPEAN_CAPITALS).replace("Helsinki, Oslo", "Oslo, Helsinki"),
                "item 2 is 'Oslo'; it should be 'Helsinki'",
            ),
            ("Oslo, Helsinki", "it lists 2 items; the answer has 27 capitals"),
        ],
    ),
    (
        "custom:csv_city",
        {},
        ["ID,Country,City,Year,Count\n" + CITY_ROWS + "\n"],
        [
            (HEADER_AND_SIX, "it has 7 rows; it needs a header and 7 data rows"),
            ("Id,Country,City,Year,Count\n" + CITY_ROWS, "its header is"),
            ("ID,Country,City,Year,Count\n" + CITY_ROWS + ",x", "row 8 has 6 fields"),
        ],
    ),
    (
        "custom:csv_special_character",
        {},
        [SPECIAL_CSV],
        [
            (PLAIN_CSV, "no field holds a special character inside double quotes"),
            (SPECIAL_CSV.replace("Stock", "Qty"), "its first line is not the header"),
        ],
    ),
    (
        "custom:csv_quotes",
        {},
        [STUDENTS],
        [
            (STUDENTS.replace('"Math"', "Math", 1), "row 2 has a field not in double quotes"),
            (STUDENTS.replace("\t", ","), "its first line is not the tab-separated header"),
        ],
    ),
    (
        "custom:date_format_list",
        {},
        ["1796-04-12, 1805-12-02", "1815-06-18"],
        [
            ("1805-12-02, Dec 2 1805", "'Dec 2 1805' is not a date written YYYY-MM-DD"),
            ("1850-01-01", "falls outside Napoleon's lifetime"),
            ("1805-02-30", "is not a valid calendar date"),
        ],
    ),
    (
        "repeat:repeat_change",
        {"prompt_to_repeat": "Write a poem about cats"},
        ["Compose a poem about cats"],
        [
            ("Write a poem about cats", "it keeps the request's first word"),
            ("Compose a poem about dogs", "does not repeat the request word for word"),
        ],
    ),
    (
        "repeat:repeat_simple",
        {},
        [SIMPLE, SIMPLE.upper() + "\n"],
        [("Sure! " + SIMPLE, "it is not just the sentence")],
    ),
    (
        "repeat:repeat_span",
        {"prompt_to_repeat": REQUEST, "n_start": 1, "n_end": 3},
        ["quick brown fox", " Quick  Brown fox\n"],
        [("quick brown", "it is not exactly words 1 to 3 of the request ('quick brown fox')")],
    ),
]


def test_the_table_covers_every_ifbench_id():
    assert {case[0] for case in CASES} == IFBENCH_58
    assert len(IFBENCH_58) == 58


def test_the_registry_holds_exactly_the_58_ifbench_and_25_ifeval_ids():
    assert set(IFBENCH_IDS) == IFBENCH_58
    assert len(IFEVAL_IDS) == 25 and not IFEVAL_IDS & IFBENCH_IDS
    assert set(CHECKERS) == set(SPECS) == IFBENCH_58 | IFEVAL_IDS
    assert set(supported_instructions()) == set(CHECKERS) and len(CHECKERS) == 83


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "response"),
    [(name, kwargs, good) for name, kwargs, goods, _ in CASES for good in goods],
)
def test_complying_reply_passes(instruction_id, kwargs, response):
    assert SPECS[instruction_id].problem(kwargs) is None
    assert check_instruction(instruction_id, kwargs, response) is None


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "response", "feedback"),
    [(name, kw, bad, part) for name, kw, _, bads in CASES for bad, part in bads],
)
def test_violating_reply_gets_the_feedback_sentence(instruction_id, kwargs, response, feedback):
    problem = check_instruction(instruction_id, kwargs, response)
    assert problem is not None and feedback in problem, problem


def test_empty_reply_fails_every_ifbench_instruction():
    for name, kwargs, _, _ in CASES:
        assert check_instruction(name, kwargs, "   ") is not None, name


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "reply"),
    [
        ("repeat:repeat_simple", {}, f"Sure, here it is:\n{SIMPLE}"),
        ("format:title_case", {}, "Here is my answer in title case:\nThe Best Of Times"),
        ("words:start_verb", {}, "**Write** the report today."),
        ("format:no_whitespace", {}, "Answer:\nNoSpaces\nHope that helps!"),
        ("custom:multiples", {}, "From 10 to 50:\n14 21 28 35 42 49"),
    ],
)
def test_loose_mode_forgives_a_first_or_last_line_and_asterisks(instruction_id, kwargs, reply):
    ex = Example("e", {"input": "p", "instruction_id_list": [instruction_id], "kwargs": [kwargs]})
    assert IFEvalTask("a", "strict").score(ex, TaskOutput(reply)).score == 0.0
    assert IFEvalTask("a", "loose").score(ex, TaskOutput(reply)).score == 1.0


def test_null_kwargs_count_as_absent_when_checking_and_validating():
    kwargs = {"N": 2, "keyword": None, "small_n": None}
    assert check_instruction("count:numbers", kwargs, "1 and 2") is None
    assert SPECS["count:numbers"].problem(kwargs) is None
    assert SPECS["words:start_verb"].problem({"N": None}) is None


def test_unusable_parameters_are_reported_not_raised():
    problem = check_instruction("count:words_japanese", {"N": 0}, "a b")
    assert problem is not None and "unusable" in problem and "at least 1" in problem


@pytest.mark.parametrize(
    ("word", "count"),
    [("cat", 1), ("tiger", 2), ("make", 1), ("little", 2), ("banana", 3), ("horses", 2)],
)
def test_syllable_counter(word, count):
    assert syllables(word) == count


def row(ids: list[str], kwargs: list[dict[str, Any]]) -> Example:
    return Example("r1", {"input": "p", "instruction_id_list": ids, "kwargs": kwargs})


def test_check_example_accepts_known_ids_with_fitting_kwargs():
    task = IFEvalTask("a")
    ex = row(["count:numbers", "punctuation:no_comma"], [{"N": 3}, {}])
    assert task.check_example(ex) is None


@pytest.mark.parametrize(
    ("ids", "kwargs", "parts"),
    [
        (["count:made_up"], [{}], ["unknown instruction id 'count:made_up'", "count:numbers"]),
        (["count:numbrs"], [{"N": 1}], ["did you mean 'count:numbers'"]),
        (["count:numbers"], [{"N": "3"}], ["'count:numbers'", "'N' must be an integer"]),
        (["count:numbers"], [{}], ["'count:numbers'", "missing kwarg 'N'"]),
        (["count:numbers"], [{"N": 3, "M": 1}], ["'count:numbers'", "unknown kwarg 'M'"]),
        (["words:repeats"], [{"small-n": 2}], ["did you mean 'small_n'"]),
        (["format:list"], [{"sep": ["-"]}], ["'format:list'", "must be a string"]),
        (["keywords:existence"], [{"keywords": "x"}], ["must be a list of strings"]),
        (["keywords:frequency"], [{"keyword": "a", "frequency": 2, "relation": "exactly"}],
         ["'relation' must be one of 'less than', 'at least'"]),
        (["count:numbers", "punctuation:no_comma"], [{"N": 1}], ["one dict per instruction"]),
    ],
)  # fmt: skip
def test_check_example_names_the_id_and_the_problem(ids, kwargs, parts):
    problem = IFEvalTask("a").check_example(row(ids, kwargs))
    assert problem is not None
    for part in parts:
        assert part in problem, problem


def test_example_checker_finds_check_example_or_nothing():
    task = IFEvalTask("a")
    check = example_checker(task)
    assert check is not None and check(row(["count:numbers"], [{"N": 1}])) is None
    assert example_checker(object()) is None


def test_load_split_with_check_names_file_and_line(tmp_path: Path):
    path = tmp_path / "ifbench.jsonl"
    rows = [
        {"id": "a", "input": "p", "instruction_id_list": ["count:numbers"], "kwargs": [{"N": 1}]},
        {"id": "b", "input": "p", "instruction_id_list": ["count:made_up"], "kwargs": [{}]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    task = IFEvalTask("a")
    fields = task.required_fields
    assert len(load_split("train", path, {}, fields, limit=1, check=example_checker(task))) == 1
    with pytest.raises(DataError) as error:
        load_split("train", path, {}, fields, check=example_checker(task))
    message = str(error.value)
    assert message.startswith(f"{path}:2: unknown instruction id 'count:made_up'")
    assert "\n" not in message
    assert len(load_split("train", path, {}, fields)) == 2  # no check: loads as before


DATA = Path(os.environ.get("GEPA_DATA", "/work/shared/data"))
IFEVAL_FILE = DATA / "ifeval" / "ifeval_input_data.jsonl"


@pytest.mark.skipif(not IFEVAL_FILE.is_file(), reason="shared IFEval data not present")
def test_every_row_of_the_real_ifeval_data_passes_check_example():
    task = IFEvalTask("a")
    examples = load_split("all", IFEVAL_FILE, {}, task.required_fields, check=task.check_example)
    assert len(examples) > 500
