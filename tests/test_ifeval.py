"""The ifeval task: every checker (table-driven), the sentence splitter, the language guesser,
scoring and feedback, loose mode, and the real IFEval rows."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from gepa_cli.engine.types import Example
from gepa_cli.lm.scripted import ScriptedLM
from gepa_cli.tasks.base import TaskConfigError, TaskOutput
from gepa_cli.tasks.data import load_split
from gepa_cli.tasks.ifeval import (
    UNAVAILABLE,
    IFEvalTask,
    build_ifeval_task,
    check_instruction,
    supported_instructions,
)
from gepa_cli.tasks.ifeval_checks import CHECKERS, split_sentences
from gepa_cli.tasks.ifeval_language import guess_language

ENGLISH = "The weather is nice and the children are playing in the park with their dog."
ENGLISH_2 = "It is late, so you should go home now."

# instruction id -> (kwargs, responses that follow it, responses that do not)
CASES: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {
    "change_case:capital_word_frequency": (
        {"capital_relation": "at least", "capital_frequency": 2},
        ["The NASA and ESA teams met.", "WE ARE HERE"],
        ["Only One capital word: NASA.", "no capitals"],
    ),
    "change_case:english_capital": (
        {},
        [ENGLISH.upper(), ENGLISH_2.upper()],
        [ENGLISH, "DER HUND IST NICHT IN DEM HAUS UND DIE KATZE AUCH."],
    ),
    "change_case:english_lowercase": (
        {},
        [ENGLISH.lower(), ENGLISH_2.lower()],
        [ENGLISH, "der hund ist nicht in dem haus und die katze auch."],
    ),
    "combination:repeat_prompt": (
        {"prompt_to_repeat": "Write a poem about cats."},
        ["Write a poem about cats. Cats are soft.", "  write a POEM about cats.\nMeow."],
        ["Here is a poem about cats.", "Cats are soft. Write a poem about cats."],
    ),
    "combination:two_responses": (
        {},
        ["First answer.\n******\nSecond answer.", "A ****** B"],
        ["Only one answer.", "Same\n******\nSame", "A ****** ****** B"],
    ),
    "detectable_content:number_placeholders": (
        {"num_placeholders": 2},
        ["Dear [name], at [address].", "[a] [b] [c]"],
        ["Dear [name].", "No placeholders."],
    ),
    "detectable_content:postscript": (
        {"postscript_marker": "P.S."},
        ["Hello.\nP.S. See you soon.", "Body\n\np.s. remember the milk"],
        ["Hello, no postscript.", "PS see you"],
    ),
    "detectable_format:constrained_response": (
        {},
        ["My answer is yes.", "After thinking: My answer is maybe."],
        ["Yes.", "my answer is yes."],
    ),
    "detectable_format:json_format": (
        {},
        ['{"a": 1}', '```json\n{"a": [1, 2]}\n```', "[1, 2, 3]"],
        ["{a: 1}", "Here is JSON: {}"],
    ),
    "detectable_format:multiple_sections": (
        {"section_spliter": "Section", "num_sections": 2},
        ["Section 1\nIntro.\nSection 2\nBody.", "SECTION 1 is case... Section 1 a Section 2 b"],
        ["Section 1\nOnly one.", "Part 1\nPart 2"],
    ),
    "detectable_format:number_bullet_lists": (
        {"num_bullets": 2},
        ["* one\n* two", "Intro\n- one\n- two\nEnd"],
        ["* one\n* two\n* three", "one, two", "**bold** line\n* one"],
    ),
    "detectable_format:number_highlighted_sections": (
        {"num_highlights": 2},
        ["*first* and *second*", "**bold one** and *italic two*"],
        ["only *one* here", "empty ** highlights ** "],
    ),
    "detectable_format:title": (
        {},
        ["<<My Title>>\nText", "Text then <<another title>>"],
        ["No title", "<<>> empty", "<< \n>>"],
    ),
    "keywords:existence": (
        {"keywords": ["river", "Stone"]},
        ["A stone by the river.", "RIVERS and stones"],
        ["A stone by the sea.", "nothing"],
    ),
    "keywords:forbidden_words": (
        {"forbidden_words": ["bad", "ugly"]},
        ["A good day.", "Badly done but badge earned."],
        ["A bad day.", "So UGLY."],
    ),
    "keywords:frequency": (
        {"keyword": "cat", "relation": "at least", "frequency": 2},
        ["cat and Cat", "cats, cats, cats"],
        ["one cat", "dogs only"],
    ),
    "keywords:letter_frequency": (
        {"letter": "z", "let_relation": "less than", "let_frequency": 2},
        ["no such letter", "one z"],
        ["zz", "Zebra zone"],
    ),
    "language:response_language": (
        {"language": "de"},
        [
            "Der Hund ist nicht in dem Haus und die Katze auch nicht.",
            "Ich habe es dir gesagt, und du hast es nicht gehört.",
        ],
        [ENGLISH, "Il cane è nella casa e non vuole uscire con la famiglia."],
    ),
    "length_constraints:nth_paragraph_first_word": (
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        ["First part.\n\nThen the second.", 'One.\n\n"Then," she said.'],
        ["First.\n\nAfter that.", "First.\n\nThen.\n\nThird.", "Then only one."],
    ),
    "length_constraints:number_paragraphs": (
        {"num_paragraphs": 2},
        ["Para one.\n***\nPara two.", "One *** Two"],
        ["One paragraph.", "One\n***\n***\nTwo", "A *** B *** C"],
    ),
    "length_constraints:number_sentences": (
        {"relation": "less than", "num_sentences": 3},
        ["One. Two.", "Dr. Smith arrived at 5 p.m. and left. Then he slept."],
        ["One. Two. Three.", "Yes! No? Maybe."],
    ),
    "length_constraints:number_words": (
        {"relation": "at least", "num_words": 5},
        ["one two three four five", "It's a well-known fact, really."],
        ["too short", "one two three four"],
    ),
    "punctuation:no_comma": ({}, ["No commas here.", ""], ["One, two.", "a,b"]),
    "startend:end_checker": (
        {"end_phrase": "Is there anything else?"},
        ["Done. Is there anything else?", '"Done. is there anything else?"\n'],
        ["Is there anything else? Done.", "Done. Anything else?"],
    ),
    "startend:quotation": (
        {},
        ['"Wrapped in quotes."', '  "a"  '],
        ["Not wrapped.", '"Half wrapped.', '"'],
    ),
}


def test_every_checker_has_cases():
    assert set(CASES) == set(CHECKERS)
    assert len(CHECKERS) == 25  # the IFEval ids; IFBench's 58 are in tests/test_ifbench.py
    assert set(CHECKERS) <= set(supported_instructions())


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "response", "follows"),
    [
        (name, kwargs, response, follows)
        for name, (kwargs, good, bad) in CASES.items()
        for follows, responses in ((True, good), (False, bad))
        for response in responses
    ],
)
def test_checker(instruction_id, kwargs, response, follows):
    problem = CHECKERS[instruction_id](response, kwargs)
    if follows:
        assert problem is None
    else:
        assert isinstance(problem, str) and problem


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Dr. Smith went to Washington. He arrived at 5 p.m. and left. Ok?", 3),
        ("One! Two? Three...", 3),
        ("1. First item.\n2. Second item.", 2),
        ('He said "Stop." Then he left.', 2),
        ("No end punctuation", 1),
        ("e.g. this is one sentence.", 1),
        ("", 0),
    ],
)
def test_split_sentences(text, count):
    assert len(split_sentences(text)) == count


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (ENGLISH, "en"),
        ("O menino não quer ir para a escola com os amigos.", "pt"),
        ("Tämä on hyvä päivä ja hän on kotona, mutta ei ulkona.", "fi"),
        ("Watu wengi wanaishi katika mji huu na wanapenda sana kazi yao.", "sw"),
        ("Tôi là người Việt Nam và tôi yêu đất nước của tôi.", "vi"),
        ("Это очень хорошая книга, мы её читаем.", "ru"),
        ("Това е много хубава книга, която четем всеки ден.", "bg"),
        ("هذا كتاب جميل جدا وهو في المكتبة", "ar"),
        ("این کتاب بسیار خوب است و من آن را دوست دارم", "fa"),
        ("یہ کتاب بہت اچھی ہے اور میں اسے پڑھتا ہوں", "ur"),
        ("यह किताब बहुत अच्छी है और मैं इसे पढ़ता हूं।", "hi"),
        ("हे पुस्तक खूप चांगले आहे आणि मला ते आवडते.", "mr"),
        ("यो किताब धेरै राम्रो छ र म यसलाई पढ्छु।", "ne"),
        ("이 책은 정말 좋습니다", "ko"),
        ("ಇದು ಒಳ್ಳೆಯ ಪುಸ್ತಕ", "kn"),
        ("หนังสือเล่มนี้ดีมาก", "th"),
        ("12345 !!!", None),
    ],
)
def test_guess_language(text, language):
    assert guess_language(text) == language


def test_unknown_language_code_is_reported_not_guessed():
    problem = CHECKERS["language:response_language"](ENGLISH, {"language": "xx"})
    assert problem is not None and "cannot recognize 'xx'" in problem


def example(ids: list[str], kwargs: list[dict[str, Any]]) -> Example:
    return Example("e", {"input": "prompt", "instruction_id_list": ids, "kwargs": kwargs})


def test_score_is_the_fraction_followed_and_feedback_lists_failures_with_parameters():
    task = IFEvalTask("answer")
    ex = example(
        ["punctuation:no_comma", "keywords:frequency", "length_constraints:number_words"],
        [{}, {"keyword": "brand", "relation": "at least", "frequency": 3}, {}],
    )
    result = task.score(ex, TaskOutput("A brand new day without commas"))
    assert result.score == pytest.approx(1 / 3)
    lines = result.feedback.splitlines()
    assert lines[0] == "Followed 1 of 3 instructions."
    assert any(
        "keywords:frequency (keyword='brand', relation='at least', frequency=3)" in line
        and "it has 1 occurrences of 'brand'; needs at least 3" in line
        for line in lines
    )
    assert any("number_words" in line and "unusable" in line for line in lines)  # no kwargs
    assert not any("no_comma" in line for line in lines)
    all_followed = task.score(ex, TaskOutput("brand brand brand"))
    assert all_followed.score == pytest.approx(2 / 3)  # number_words still lacks its kwargs


def test_unsupported_instruction_fails_with_checker_not_available():
    assert check_instruction("future:new_rule", {}, "anything") == UNAVAILABLE
    result = IFEvalTask("a").score(
        example(["future:new_rule", "punctuation:no_comma"], [{}, {}]), TaskOutput("fine")
    )
    assert result.score == 0.5
    assert "- future:new_rule: checker not available" in result.feedback


def test_loose_mode_forgives_a_preamble_line_and_asterisks():
    ex = example(["startend:quotation"], [{}])
    reply = 'Sure, here it is:\n"Quoted text."'
    assert IFEvalTask("a", "strict").score(ex, TaskOutput(reply)).score == 0.0
    assert IFEvalTask("a", "loose").score(ex, TaskOutput(reply)).score == 1.0
    assert IFEvalTask("a", "loose").score(ex, TaskOutput("no quotes")).score == 0.0
    bold = example(["detectable_format:title"], [{}])
    assert IFEvalTask("a", "loose").score(bold, TaskOutput("")).score == 0.0


def test_malformed_instruction_data_raises():
    with pytest.raises(ValueError, match="kwargs"):
        IFEvalTask("a").score(example(["punctuation:no_comma"], [{}, {}]), TaskOutput("x"))
    with pytest.raises(ValueError, match="instruction_id_list"):
        IFEvalTask("a").score(example([], []), TaskOutput("x"))


def test_run_is_one_traced_call_and_factory_validates(tmp_path):
    from gepa_cli.tasks.registry import build_task

    task = build_task("ifeval", {"mode": "loose"}, ["answer"], tmp_path)
    assert isinstance(task, IFEvalTask) and task.mode == "loose"
    lm = ScriptedLM(["My reply"])
    output = task.run(example(["punctuation:no_comma"], [{}]), {"answer": "Follow it."}, lm)
    assert [(c.module, c.inputs, c.output) for c in output.trace] == [
        ("answer", "prompt", "My reply")
    ]
    with pytest.raises(TaskConfigError, match=r"\[task.options.mode\]"):
        build_ifeval_task({"mode": "lenient"}, ["answer"])
    with pytest.raises(TaskConfigError, match=r"did you mean 'mode'"):
        build_ifeval_task({"mod": "strict"}, ["answer"])


DATA = Path(os.environ.get("GEPA_DATA", "/work/shared/data"))
IFEVAL = DATA / "ifeval" / "ifeval_input_data.jsonl"


@pytest.mark.skipif(not IFEVAL.is_file(), reason="shared IFEval data not present")
def test_real_rows_are_checked_or_reported_unsupported():
    task = IFEvalTask("answer")
    examples = load_split("val", IFEVAL, {}, task.required_fields, limit=5)
    supported = set(supported_instructions())
    for ex in examples:
        output = task.run(ex, {"answer": "Follow the instructions."}, ScriptedLM(["Hello."]))
        for result in task.results(ex, output.output):
            if result.instruction_id in supported:
                assert result.problem != UNAVAILABLE
                assert result.problem is None or "unusable" not in result.problem
            else:
                assert result.problem == UNAVAILABLE
        assert 0.0 <= task.score(ex, output).score <= 1.0


@pytest.mark.skipif(not IFEVAL.is_file(), reason="shared IFEval data not present")
def test_every_instruction_id_in_the_dataset_has_a_checker():
    ids = {
        name
        for line in IFEVAL.read_text(encoding="utf-8").splitlines()
        if line.strip()
        for name in json.loads(line)["instruction_id_list"]
    }
    assert ids <= set(supported_instructions())
