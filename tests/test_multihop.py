"""The multihop task: BM25 retrieval, the four-module trace, scores and per-module feedback."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from gepa_cli.engine.types import Example
from gepa_cli.lm.base import Message
from gepa_cli.lm.scripted import ScriptedLM
from gepa_cli.tasks.base import TaskConfigError
from gepa_cli.tasks.bm25 import BM25Index, tokenize
from gepa_cli.tasks.data import load_split
from gepa_cli.tasks.multihop import MODULES, MultiHopTask, build_multihop_task
from gepa_cli.tasks.registry import build_task

PROMPTS = {name: f"instruction for {name}" for name in MODULES}


def paragraph(title: str, text: str, supporting: bool = False) -> dict[str, object]:
    return {"title": title, "text": text, "is_supporting": supporting}


# A made-up two-hop question: the film paragraph leads to the actress, whose paragraph
# holds the answer. Three distractors share some words with the question.
CONTEXT = [
    paragraph("Lantern Street", "Lantern Street is a radio comedy about a baker."),
    paragraph(
        "Mara Quill", "Mara Quill was an actress who later served as Ambassador to Norway.", True
    ),
    paragraph(
        "The Glass Harbor (1951 film)",
        "The Glass Harbor is a 1951 film in which Mara Quill plays the lighthouse keeper "
        "Edda Vorn.",
        True,
    ),
    paragraph("Harbor Lights", "Harbor Lights is a song recorded in 1950."),
    paragraph("Keeper's Almanac", "The Keeper's Almanac lists lighthouses of the northern coast."),
]
QUESTION = "What post did the actress who played Edda Vorn in The Glass Harbor hold?"
EXAMPLE = Example(
    "ex1",
    {
        "input": QUESTION,
        "answer": "Ambassador to Norway",
        "answers": ["Ambassador to Norway"],
        "supporting_titles": ["Mara Quill", "The Glass Harbor (1951 film)"],
        "context": CONTEXT,
    },
)


def scripted(replies: dict[str, str]) -> ScriptedLM:
    """Reply by module: the system prompt says which module is asking."""

    def respond(messages: Sequence[Message]) -> str:
        module = messages[0]["content"].removeprefix("instruction for ")
        return replies[module]

    return ScriptedLM(respond)


GOOD = {
    "query1": "Query: Glass Harbor film Edda Vorn",
    "summarize1": "Mara Quill played Edda Vorn in The Glass Harbor.",
    "query2": "Mara Quill actress post",
    "answer": "Answer: Ambassador to Norway",
}


def test_tokenize_splits_on_punctuation_and_lowercases():
    assert tokenize("The Glass-Harbor (1951) film_x!") == [
        "the",
        "glass",
        "harbor",
        "1951",
        "film",
        "x",
    ]


def test_bm25_ranks_the_relevant_paragraph_first():
    docs = [f"{p['title']} {p['text']}" for p in CONTEXT]
    index = BM25Index(docs)
    assert index.top_k("lighthouse keeper Edda Vorn", 1) == [2]
    assert index.top_k("ambassador", 1) == [1]
    scores = index.scores("Mara Quill")
    assert scores[1] > 0 and scores[2] > 0 and scores[0] == 0.0


def test_bm25_exclude_and_ties_keep_document_order():
    index = BM25Index(["apple pie", "banana bread", "cherry tart", "apple crumble"])
    assert index.top_k("apple", 2) == [0, 3]
    assert index.top_k("apple", 2, exclude={0}) == [3, 1]  # then the zero-score docs in order
    assert index.top_k("", 3) == [0, 1, 2]
    assert BM25Index([]).top_k("x", 2) == []


def test_bm25_prefers_rare_terms_and_saturates_frequency():
    index = BM25Index(["common rare", "common common common common", "common other"])
    assert index.top_k("common rare", 1) == [0]
    few, many = BM25Index(["cat dog", "cat cat cat cat dog dog"]).scores("cat")
    assert many > few and many < 4 * few


def test_trace_has_one_call_per_module_in_order_with_their_inputs():
    lm = scripted(GOOD)
    output = MultiHopTask(k=2).run(EXAMPLE, PROMPTS, lm)
    assert [call.module for call in output.trace] == list(MODULES)
    query1, summarize1, query2, answer = output.trace
    assert query1.inputs == f"Question: {QUESTION}"
    assert "The Glass Harbor (1951 film)" in summarize1.inputs
    assert "Mara Quill plays the lighthouse keeper" in summarize1.inputs
    assert query2.inputs.endswith(GOOD["summarize1"]) and QUESTION in query2.inputs
    assert GOOD["summarize1"] in answer.inputs
    assert "Ambassador to Norway" in answer.inputs.split("second search")[1]
    assert output.output == GOOD["answer"]
    assert [m[0]["content"] for m in lm.calls] == [PROMPTS[name] for name in MODULES]
    assert all(call.output == GOOD[call.module] for call in output.trace)


def test_second_hop_never_returns_a_first_hop_paragraph():
    replies = dict(GOOD, query2=GOOD["query1"])  # the same query twice
    task = MultiHopTask(k=2)
    output = task.run(EXAMPLE, PROMPTS, scripted(replies))
    hops = task.retrieval(EXAMPLE, output.trace)
    assert hops.first and hops.second and not set(hops.first) & set(hops.second)
    assert hops.query1 == "Glass Harbor film Edda Vorn"  # the 'Query:' prefix is dropped


def test_right_answer_scores_one_and_query_feedback_reports_retrieval():
    task = MultiHopTask()
    result = task.score(EXAMPLE, task.run(EXAMPLE, PROMPTS, scripted(GOOD)))
    assert result.score == 1.0
    feedback = result.module_feedback
    assert set(feedback) == set(MODULES)
    assert "Correct" in feedback["answer"]
    assert "found 'The Glass Harbor (1951 film)' but missed 'Mara Quill'" in feedback["query1"]
    assert "a better query would mention 'Mara Quill'" in feedback["query1"]
    assert "found every supporting paragraph it needed: 'Mara Quill'" in feedback["query2"]
    assert "does not contain the gold answer 'Ambassador to Norway'" in feedback["summarize1"]
    assert "It names 'Mara Quill'" in feedback["summarize1"]


def test_wrong_answer_and_bad_second_query_are_named_in_feedback():
    replies = dict(GOOD, query2="baker radio comedy song", answer="Answer: Lighthouse keeper")
    task = MultiHopTask(k=1)
    result = task.score(EXAMPLE, task.run(EXAMPLE, PROMPTS, scripted(replies)))
    assert result.score == 0.0
    assert "'Ambassador to Norway'" in result.feedback and "'Lighthouse keeper'" in result.feedback
    assert (
        "missed 'Mara Quill'; a better query would mention 'Mara Quill'"
        in (result.module_feedback["query2"])
    )
    assert "Final result: Incorrect" in result.module_feedback["query2"]


def test_summary_feedback_says_when_it_kept_the_answer_and_when_it_dropped_the_bridge():
    replies = dict(GOOD, summarize1="The film is about a lighthouse; answer: Ambassador to Norway")
    task = MultiHopTask()
    feedback = task.score(EXAMPLE, task.run(EXAMPLE, PROMPTS, scripted(replies))).module_feedback
    assert "kept the gold answer 'Ambassador to Norway'" in feedback["summarize1"]
    assert "does not name 'Mara Quill'" in feedback["summarize1"]


@pytest.mark.parametrize(
    ("metric", "reply", "expected"),
    [
        ("f1", "Answer: the Ambassador to Norway.", 1.0),
        ("f1", "Answer: Ambassador", 0.5),
        ("exact", "Answer: Ambassador", 0.0),
        ("exact", "ambassador to norway", 1.0),
    ],
)
def test_metrics(metric, reply, expected):
    task = MultiHopTask(metric=metric)
    output = task.run(EXAMPLE, PROMPTS, scripted(dict(GOOD, answer=reply)))
    assert task.score(EXAMPLE, output).score == pytest.approx(expected)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("Answer: NOT_SUPPORTED", 1.0), ("not supported", 1.0), ("SUPPORTED", 0.0), ("maybe", 0.0)],
)
def test_verify_mode_needs_the_exact_label(reply, expected):
    claim = Example(
        "c1", dict(EXAMPLE.data, input="Mara Quill was a baker.", answer="NOT_SUPPORTED")
    )
    task = MultiHopTask(mode="verify")
    output = task.run(claim, PROMPTS, scripted(dict(GOOD, answer=reply)))
    assert output.trace[0].inputs == "Claim: Mara Quill was a baker."
    result = task.score(claim, output)
    assert result.score == expected
    if expected == 0.0:
        assert "the claim is NOT_SUPPORTED" in result.feedback
        assert "SUPPORTED or NOT_SUPPORTED" in result.feedback


def test_supporting_titles_fall_back_to_is_supporting_flags():
    data = {key: value for key, value in EXAMPLE.data.items() if key != "supporting_titles"}
    example = Example("ex2", data)
    task = MultiHopTask()
    feedback = task.score(example, task.run(example, PROMPTS, scripted(GOOD))).module_feedback
    assert "missed 'Mara Quill'" in feedback["query1"]


def test_factory_validates_modules_and_options():
    task = build_multihop_task({"k": 3, "metric": "exact", "mode": "verify"}, list(MODULES))
    assert (task.k, task.metric, task.mode) == (3, "exact", "verify")
    with pytest.raises(
        TaskConfigError, match=r"\[task.prompts\].*query1, summarize1, query2, answer"
    ):
        build_multihop_task({}, ["query1", "answer"])
    with pytest.raises(TaskConfigError, match=r"\[task.options.metrc\].*did you mean 'metric'"):
        build_multihop_task({"metrc": "f1"}, list(MODULES))
    with pytest.raises(TaskConfigError, match=r"\[task.options.k\]"):
        build_multihop_task({"k": 0}, list(MODULES))
    with pytest.raises(TaskConfigError, match=r"\[task.options.mode\]"):
        build_multihop_task({"mode": "chat"}, list(MODULES))


def test_registered_as_a_builtin(tmp_path):
    task = build_task("multihop", {}, list(MODULES), tmp_path)
    assert isinstance(task, MultiHopTask) and task.modules == MODULES


DATA = Path(os.environ.get("GEPA_DATA", "/work/shared/data"))
HOTPOT = DATA / "hotpotqa" / "hotpotqa_dev_distractor_part1.jsonl"


@pytest.mark.skipif(not HOTPOT.is_file(), reason="shared HotpotQA data not present")
def test_runs_on_real_hotpotqa_rows():
    task = MultiHopTask()
    examples = load_split("val", HOTPOT, {}, task.required_fields, limit=3)

    def respond(messages: Sequence[Message]) -> str:
        user = messages[1]["content"]
        return user.split("\n")[0].removeprefix("Question: ")  # echo the question

    for example in examples:
        output = task.run(example, PROMPTS, ScriptedLM(respond))
        result = task.score(example, output)
        assert [call.module for call in output.trace] == list(MODULES)
        assert 0.0 <= result.score <= 1.0
        assert str(example.data["answer"]) in result.module_feedback["answer"]
        for title in example.data["supporting_titles"]:
            assert f"'{title}'" in result.module_feedback["query1"]
