"""The judge and pupa tasks: judge parsing, traces with the informational calls, PUPA's score."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from gepa_cli.engine.types import Example
from gepa_cli.lm.base import Message
from gepa_cli.lm.scripted import ScriptedLM
from gepa_cli.tasks.base import TaskConfigError, TaskOutput
from gepa_cli.tasks.data import load_split
from gepa_cli.tasks.judge import (
    JUDGE_MODULE,
    JudgeTask,
    build_judge_task,
    judge_rationale,
    parse_judge_score,
)
from gepa_cli.tasks.pupa import (
    CRAFT,
    LEAKAGE_JUDGE,
    MODULES,
    QUALITY_JUDGE,
    RESPOND,
    UNTRUSTED,
    PupaTask,
    build_pupa_task,
    leaked_units_by_substring,
    parse_verdict,
)
from gepa_cli.tasks.qa import token_f1
from gepa_cli.tasks.registry import build_task

# ---------------------------------------------------------------- judge


@pytest.mark.parametrize(
    ("reply", "scale", "expected"),
    [
        ("Good answer, covers both points.\nScore: 7/10", 10, 0.7),
        ("7", 10, 0.7),
        ("**Score:** 9/10", 10, 0.9),
        ("score = 3", 5, 0.6),
        ("Score: 4/5", 10, 0.8),  # the judge's own denominator wins
        ("Score: 15/10", 10, 1.0),  # clamped
        ("Score: -2/10", 10, 0.0),
        ("Early draft Score: 2/10. On reflection...\nScore: 8/10", 10, 0.8),  # the last one
        ("I would give it 6 out of 10.", 10, 0.6),
        ("8/10", 10, 0.8),
        ("Score: 0/0", 10, None),
        ("garbage", 10, None),
        ("It has 3 of 4 parts right.", 10, None),  # no score line and no N/scale
        ("", 10, None),
    ],
)
def test_parse_judge_score(reply, scale, expected):
    grade = parse_judge_score(reply, scale)
    if expected is None:
        assert grade is None
    else:
        assert grade is not None and grade.value == pytest.approx(expected)


def test_judge_rationale_drops_the_score_line():
    assert judge_rationale("Clear and correct.\nScore: 9/10") == "Clear and correct."
    assert judge_rationale("Score: 2/10") == "(no rationale given)"


def judge_lm(module_reply: str, judge_reply: str) -> ScriptedLM:
    def respond(messages: Sequence[Message]) -> str:
        return judge_reply if "strict grader" in messages[0]["content"] else module_reply

    return ScriptedLM(respond)


def test_judge_task_traces_the_module_then_the_judge():
    task = build_judge_task(
        {"rubric": "Must mention the capital.", "reference_field": "answer"}, ["reply"]
    )
    example = Example("e", {"input": "Tell me about France.", "answer": "Paris is the capital."})
    lm = judge_lm("France is in Europe.", "Misses the capital.\nScore: 3/10")
    output = task.run(example, {"reply": "Answer briefly."}, lm)
    assert [call.module for call in output.trace] == ["reply", JUDGE_MODULE]
    assert output.output == "France is in Europe."
    assert output.trace[0].inputs == "Tell me about France."
    judge_call = lm.calls[1]
    assert "Must mention the capital." in judge_call[0]["content"]
    assert "Score: N/10" in judge_call[0]["content"]
    assert "Reference answer:\nParis is the capital." in judge_call[1]["content"]
    assert judge_call[1]["content"].endswith("Response to grade:\nFrance is in Europe.")
    result = task.score(example, output)
    assert result.score == pytest.approx(0.3)
    assert "3/10" in result.feedback and "Misses the capital." in result.feedback
    assert task.required_fields == ("input", "answer")


def test_judge_task_scores_unparsable_verdicts_zero():
    task = JudgeTask("reply", "Be kind.", scale=5)
    example = Example("e", {"input": "hi"})
    output = task.run(example, {"reply": "x"}, judge_lm("hello", "I like it a lot!"))
    result = task.score(example, output)
    assert result.score == 0.0 and "unparsable" in result.feedback
    assert "Score: N/5" in result.feedback
    assert task.score(example, TaskOutput("hello")).score == 0.0  # no judge call traced


def test_judge_factory_validates_options():
    with pytest.raises(TaskConfigError, match=r"\[task.options.rubric\]"):
        build_judge_task({}, ["reply"])
    with pytest.raises(TaskConfigError, match=r"\[task.options.scale\]"):
        build_judge_task({"rubric": "r", "scale": 2.5}, ["reply"])
    with pytest.raises(TaskConfigError, match=r"\[task.options.rubrik\].*did you mean 'rubric'"):
        build_judge_task({"rubrik": "r"}, ["reply"])
    with pytest.raises(TaskConfigError, match=r"\[task.prompts\]"):
        build_judge_task({"rubric": "r"}, ["a", "b"])
    assert build_judge_task({"rubric": "r"}, ["reply"]).required_fields == ("input",)


# ---------------------------------------------------------------- pupa

PROMPTS = {CRAFT: "Rewrite without private details.", RESPOND: "Compose the final reply."}
UNITS = ["dana whitfield", "acme plumbing", "555-0142", "maple road"]
PUPA_EXAMPLE = Example(
    "p1",
    {
        "input": "Write a cover letter for Dana Whitfield, who worked at Acme Plumbing, "
        "phone 555-0142, 12 Maple Road.",
        "target_response": "Dear hiring manager, I am writing to apply for the role.",
        "pii_units": UNITS,
    },
)
REDACTED = "Write a cover letter for a person named Dana Whitfield who worked at a plumbing firm."


def pupa_lm(
    redacted: str = REDACTED, final: str = "Dear hiring manager, I apply.", judge: str = ""
) -> ScriptedLM:
    def respond(messages: Sequence[Message]) -> str:
        system = messages[0]["content"] if messages[0]["role"] == "system" else None
        if system is None:
            return "UNTRUSTED ANSWER"
        if system == PROMPTS[CRAFT]:
            return redacted
        if system == PROMPTS[RESPOND]:
            return final
        return judge

    return ScriptedLM(respond)


def test_pupa_trace_order_and_the_untrusted_call_has_no_system_prompt():
    lm = pupa_lm(judge="Both fine.\nVerdict: yes")
    output = PupaTask().run(PUPA_EXAMPLE, PROMPTS, lm)
    modules = [call.module for call in output.trace]
    assert modules == [CRAFT, UNTRUSTED, RESPOND, QUALITY_JUDGE]
    craft, untrusted, respond, _ = output.trace
    assert craft.inputs == PUPA_EXAMPLE.data["input"]
    assert lm.calls[1] == [{"role": "user", "content": REDACTED}]
    assert untrusted.inputs == REDACTED and untrusted.output == "UNTRUSTED ANSWER"
    assert PUPA_EXAMPLE.data["input"] in respond.inputs
    assert REDACTED in respond.inputs and "UNTRUSTED ANSWER" in respond.inputs
    assert output.output == "Dear hiring manager, I apply."


def test_leakage_is_the_fraction_of_units_in_the_request_ignoring_case():
    assert leaked_units_by_substring("Hi DANA Whitfield of ACME plumbing", UNITS) == UNITS[:2]
    assert leaked_units_by_substring("nothing private", UNITS) == []


def test_pupa_score_is_mean_of_quality_and_one_minus_leakage():
    task = PupaTask(quality="none")
    output = task.run(PUPA_EXAMPLE, PROMPTS, pupa_lm())
    assert [call.module for call in output.trace] == [CRAFT, UNTRUSTED, RESPOND]  # no judge
    result = task.score(PUPA_EXAMPLE, output)
    quality = token_f1(output.output, PUPA_EXAMPLE.data["target_response"])
    assert 0 < quality < 1
    assert result.score == pytest.approx((quality + (1 - 1 / 4)) / 2)  # 'dana whitfield' leaked
    assert "leaked 1 of 4 private units: 'dana whitfield'" in result.module_feedback[CRAFT]
    assert "token F1" in result.module_feedback[RESPOND]
    assert "dana whitfield" not in result.module_feedback[RESPOND]


@pytest.mark.parametrize(
    ("judge", "quality"),
    [("Verdict: yes", 1.0), ("A is shorter. Verdict: no", 0.0), ("hmm", 0.0)],
)
def test_pupa_quality_judge_verdicts(judge, quality):
    task = PupaTask()
    clean = "Write a cover letter for an applicant."
    output = task.run(PUPA_EXAMPLE, PROMPTS, pupa_lm(redacted=clean, judge=judge))
    result = task.score(PUPA_EXAMPLE, output)
    assert result.score == pytest.approx((quality + 1.0) / 2)
    assert "none of the 4 private units" in result.module_feedback[CRAFT]
    expected = {1.0: "at least as good as", 0.0: "worse than"}[quality]
    if judge == "hmm":
        expected = "unparsable"
    assert expected in result.module_feedback[RESPOND]


def test_pupa_leakage_judge_asks_once_per_unit():
    verdicts = iter(["Verdict: yes", "no", "Verdict: no", "cannot tell"])

    def respond(messages: Sequence[Message]) -> str:
        system = messages[0]["content"]
        if messages[0]["role"] != "system":
            return "UNTRUSTED"
        if system in (PROMPTS[CRAFT], PROMPTS[RESPOND]):
            return "text"
        return next(verdicts)

    task = PupaTask(leakage="judge", quality="none")
    lm = ScriptedLM(respond)
    output = task.run(PUPA_EXAMPLE, PROMPTS, lm)
    judged = [call for call in output.trace if call.module == LEAKAGE_JUDGE]
    assert [call.inputs.split("\n")[0] for call in judged] == [
        f"Private information: {unit}" for unit in UNITS
    ]
    result = task.score(PUPA_EXAMPLE, output)
    # yes and an unparsable verdict count as leaks: 2 of 4
    assert "leaked 2 of 4 private units: 'dana whitfield', 'maple road'" in result.feedback
    quality = token_f1("text", PUPA_EXAMPLE.data["target_response"])
    assert result.score == pytest.approx((quality + 0.5) / 2)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Yes, it reveals the name.", True),
        ("No.", False),
        ("There is no leak.\nVerdict: yes", True),
        ("Verdict: **no**", False),
        ("It is unclear", None),
    ],
)
def test_parse_verdict(reply, expected):
    assert parse_verdict(reply) is expected


def test_pupa_factory_validates_modules_and_options(tmp_path):
    with pytest.raises(TaskConfigError, match=r"\[task.prompts\].*craft_redacted_request"):
        build_pupa_task({}, ["craft_redacted_request"])
    with pytest.raises(TaskConfigError, match=r"\[task.options.leakage\]"):
        build_pupa_task({"leakage": "regex"}, list(MODULES))
    with pytest.raises(TaskConfigError, match=r"did you mean 'quality'"):
        build_pupa_task({"qualty": "none"}, list(MODULES))
    task = build_task("pupa", {"quality": "none"}, list(MODULES), tmp_path)
    assert isinstance(task, PupaTask) and task.quality == "none"
    assert isinstance(build_task("judge", {"rubric": "r"}, ["m"], tmp_path), JudgeTask)


DATA = Path(os.environ.get("GEPA_DATA", "/work/shared/data"))
PUPA = DATA / "pupa" / "pupa_new_part1.jsonl"


@pytest.mark.skipif(not PUPA.is_file(), reason="shared PUPA data not present")
def test_runs_on_real_pupa_rows():
    task = PupaTask()
    examples = load_split("val", PUPA, {}, task.required_fields, limit=3)
    for example in examples:
        # the craft module echoes the query, so every unit found in the query leaks
        lm = pupa_lm(redacted=example.data["input"], judge="Verdict: yes")
        output = task.run(example, PROMPTS, lm)
        result = task.score(example, output)
        units = example.data["pii_units"]
        in_query = [u for u in units if u.lower() in example.data["input"].lower()]
        assert result.score == pytest.approx((1.0 + 1 - len(in_query) / len(units)) / 2)
        assert [call.module for call in output.trace][:3] == [CRAFT, UNTRUSTED, RESPOND]
