"""Tests for the built-in tasks (qa, math), the shared chat helper and the task registry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from gepa_cli.engine.types import Example, ModuleCall
from gepa_cli.lm.base import Message
from gepa_cli.lm.scripted import ScriptedLM
from gepa_cli.tasks.base import TaskConfigError, TaskOutput
from gepa_cli.tasks.math import MathTask, build_math_task, extract_final_number, parse_number
from gepa_cli.tasks.qa import (
    QATask,
    build_qa_task,
    extract_prediction,
    normalize_answer,
    token_f1,
)
from gepa_cli.tasks.registry import BUILTIN_TASKS, build_task, required_fields

FIXTURES = Path(__file__).parent / "fixtures"


def qa_score(reply: str, answer: Any, **options: Any) -> tuple[float, str]:
    task = build_qa_task(options, ["answer_q"])
    verdict = task.score(Example("e1", {"input": "q", "answer": answer}), TaskOutput(reply))
    return verdict.score, verdict.feedback


def math_score(reply: str, answer: Any, **data: Any) -> tuple[float, str]:
    task = build_math_task({}, ["solve"])
    example = Example("e1", {"input": "q", "answer": answer, **data})
    verdict = task.score(example, TaskOutput(reply))
    return verdict.score, verdict.feedback


# --- shared single-module behaviour ---------------------------------------------------------


@pytest.mark.parametrize("factory", [build_qa_task, build_math_task])
def test_run_sends_system_and_user_and_traces_one_call(factory: Any) -> None:
    lm = ScriptedLM(lambda messages: "Answer: 4")
    task = factory({}, ["solver"])
    output = task.run(Example("e", {"input": "2+2?"}), {"solver": "Be brief."}, lm)
    assert lm.calls == [
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}]
    ]
    assert output == TaskOutput("Answer: 4", (ModuleCall("solver", "2+2?", "Answer: 4"),))
    assert task.modules == ("solver",)


def test_non_string_input_is_sent_as_json() -> None:
    seen: list[Sequence[Message]] = []

    def record(messages: Sequence[Message]) -> str:
        seen.append(messages)
        return "x"

    lm = ScriptedLM(record)
    build_qa_task({}, ["m"]).run(Example("e", {"input": {"q": 1}}), {"m": "i"}, lm)
    assert seen[0][1]["content"] == '{"q": 1}'


@pytest.mark.parametrize("names", [[], ["a", "b"]])
@pytest.mark.parametrize("task_type", ["qa", "math"])
def test_single_module_tasks_need_exactly_one_prompt(task_type: str, names: list[str]) -> None:
    with pytest.raises(TaskConfigError, match=r"^\[task\.prompts\] the .* exactly one module"):
        BUILTIN_TASKS[task_type]({}, names)


def test_unknown_option_did_you_mean() -> None:
    with pytest.raises(TaskConfigError, match=r"^\[task\.options\.metrc\] unknown option; did"):
        build_qa_task({"metrc": "f1"}, ["m"])
    with pytest.raises(TaskConfigError, match=r"did you mean 'tolerance'\?"):
        build_math_task({"tolerence": 0.1}, ["m"])
    with pytest.raises(TaskConfigError, match="expected one of: answer_prefix, metric"):
        build_qa_task({"zzz": 1}, ["m"])


def test_bad_option_values() -> None:
    with pytest.raises(TaskConfigError, match=r"\[task\.options\.metric\] must be one of"):
        build_qa_task({"metric": "em"}, ["m"])
    with pytest.raises(TaskConfigError, match=r"\[task\.options\.answer_prefix\] must be a string"):
        build_qa_task({"answer_prefix": 3}, ["m"])
    with pytest.raises(TaskConfigError, match=r"\[task\.options\.tolerance\] must be a number"):
        build_math_task({"tolerance": "big"}, ["m"])


def test_builtin_tasks_declare_required_fields() -> None:
    assert required_fields(build_qa_task({}, ["m"])) == ("input", "answer")
    assert required_fields(build_math_task({}, ["m"])) == ("input", "answer")
    assert required_fields(object()) == ("input",)


# --- qa -------------------------------------------------------------------------------------


def test_normalization_is_squad_style() -> None:
    assert normalize_answer("  The  Eiffel-Tower, in PARIS! ") == "eiffeltower in paris"
    assert normalize_answer("An apple a day") == "apple day"


@pytest.mark.parametrize(
    ("reply", "prediction"),
    [
        ("Reasoning...\nAnswer: Paris", "Paris"),
        ("answer: first. Then ANSWER:  Lyon ", "Lyon"),
        ("  just Rome  ", "just Rome"),
    ],
)
def test_answer_prefix_extraction(reply: str, prediction: str) -> None:
    assert extract_prediction(reply, "Answer:") == prediction


def test_custom_and_empty_answer_prefix() -> None:
    assert extract_prediction("Final: 7", "Final:") == "7"
    assert extract_prediction("Answer: 7", "") == "Answer: 7"


def test_exact_metric() -> None:
    assert qa_score("Let me think.\nAnswer: the Eiffel Tower.", "Eiffel Tower")[0] == 1.0
    assert qa_score("Answer: Eiffel", "Eiffel Tower")[0] == 0.0


def test_f1_metric_scores_partial_overlap() -> None:
    assert token_f1("eiffel tower paris", "eiffel tower") == pytest.approx(0.8)
    score, feedback = qa_score("Answer: Eiffel", "Eiffel Tower", metric="f1")
    assert score == pytest.approx(2 / 3)
    assert "F1 0.67" in feedback
    assert qa_score("Answer: nothing", "Eiffel Tower", metric="f1")[0] == 0.0


def test_contains_metric_matches_whole_words() -> None:
    assert qa_score("It is the Eiffel Tower in Paris", "eiffel tower", metric="contains")[0] == 1.0
    assert qa_score("Answer: Parisian", "Paris", metric="contains")[0] == 0.0


def test_list_of_golds_takes_best() -> None:
    assert qa_score("Answer: NYC", ["New York City", "NYC"])[0] == 1.0
    assert qa_score("Answer: LA", ["New York City", "NYC"])[0] == 0.0


def test_answers_field_adds_aliases() -> None:
    task = QATask("m")
    example = Example("e", {"input": "q", "answer": "USA", "answers": ["United States"]})
    assert task.score(example, TaskOutput("Answer: united states")).score == 1.0


def test_qa_feedback_texts() -> None:
    assert qa_score("Answer: Paris", "Paris")[1] == "Correct. The answer is 'Paris'."
    _, wrong = qa_score("Answer: Lyon", "Paris")
    assert wrong == "Incorrect. The correct answer is 'Paris'; the response gave 'Lyon'."
    _, no_prefix = qa_score("Lyon", "Paris")
    assert "the response gave 'Lyon'" in no_prefix
    assert "no 'Answer:' line" in no_prefix


def test_numeric_gold_is_compared_as_text() -> None:
    assert qa_score("Answer: 1945", 1945)[0] == 1.0


# --- math -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "value", "source"),
    [
        ("16 - 3 - 4 = 9, times 2 is 18.\nAnswer: 18", 18, "answer"),
        ("so the total is 5.\nANSWER: 7 dollars, not 5", 7, "answer"),
        ("**Final answer:** $1,234.50", 1234.5, "answer"),
        ("Answer: -5", -5, "answer"),
        ("Answer: 12.5%", 12.5, "answer"),
        ("Answer: 3/4 of a cup", 0.75, "answer"),
        ("We get \\boxed{42}. Check: 6*7=42, 41 is wrong", 42, "boxed"),
        ("first \\boxed{1} then \\boxed{\\frac{3}{8}}", 0.375, "boxed"),
        ("\\boxed{1{,}000}", 1000, "boxed"),
        ("There are 3 cats and 12 dogs, so 15 animals.", 15, "last"),
        ("It costs -$20 overall", -20, "last"),
        ("the change is 0.25 or .5", 0.5, "last"),
        ("it rose from 3-4 degrees", 4, "last"),
        ("total: 1,000,000 people", 1_000_000, "last"),
        ("Answer: none. Guess 8", 8, "answer"),
        ("Answer: unknown", None, None),
    ],
)
def test_final_number_extraction(reply: str, value: float | None, source: str | None) -> None:
    found = extract_final_number(reply)
    if value is None:
        assert found is None
        return
    assert found is not None
    assert found.value == pytest.approx(value)
    assert found.source == source


def test_no_number_at_all() -> None:
    assert extract_final_number("I don't know.") is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("18", 18), ("1,000", 1000), (" -3.5 ", -3.5), ("$5", 5), ("2/5", 0.4), (7, 7), (2.5, 2.5)],
)
def test_parse_gold_numbers(text: Any, value: float) -> None:
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["abc", "3 apples and 4", True, None])
def test_parse_rejects_non_numbers(text: Any) -> None:
    assert parse_number(text) is None


def test_math_scoring_with_tolerance() -> None:
    assert math_score("Answer: 18", "18")[0] == 1.0
    assert math_score("Answer: 18.0000000001", "18")[0] == 1.0
    assert math_score("Answer: 18.01", "18")[0] == 0.0
    loose = MathTask("m", tolerance=0.1)
    assert loose.score(Example("e", {"answer": "18"}), TaskOutput("Answer: 18.05")).score == 1.0


def test_math_feedback_names_gold_and_solution() -> None:
    _, feedback = math_score("Answer: 17", "18", solution="16 - 3 - 4 = 9; 9 * 2 = 18")
    assert feedback.startswith("Incorrect. The correct answer is 18;")
    assert "final answer was 17" in feedback
    assert "Reference solution:\n16 - 3 - 4 = 9; 9 * 2 = 18" in feedback
    assert math_score("Answer: 18", "18")[1] == "Correct. The answer is 18."


def test_math_feedback_when_no_number_found() -> None:
    score, feedback = math_score("I am not sure.", "18")
    assert score == 0.0
    assert "No final number was found" in feedback
    assert "18" in feedback


def test_math_feedback_says_where_the_number_came_from() -> None:
    _, feedback = math_score("so maybe 17", "18")
    assert "the last number in the response" in feedback


def test_math_gold_that_is_not_a_number_raises() -> None:
    with pytest.raises(ValueError, match="not a number"):
        math_score("Answer: 1", "eighteen")


# --- registry -------------------------------------------------------------------------------


def test_build_builtin_tasks(tmp_path: Path) -> None:
    qa = build_task("qa", {"metric": "f1"}, ["reader"], tmp_path)
    assert isinstance(qa, QATask)
    assert qa.metric == "f1"
    assert isinstance(build_task("math", {}, ["solve"], tmp_path), MathTask)


def test_unknown_type_did_you_mean(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError) as info:
        build_task("maths", {}, ["m"], tmp_path)
    message = str(info.value)
    assert message.startswith("[task.type] unknown task type 'maths'; did you mean 'math'?")
    assert "math" in message and "qa" in message


def test_python_task_loads_by_relative_path() -> None:
    task = build_task(
        "python:fixtures/custom_task.py:ShoutTask",
        {"suffix": "!!"},
        ["draft", "shout"],
        FIXTURES.parent,
    )
    assert task.modules == ("draft", "shout")
    assert required_fields(task) == ("input", "target")
    lm = ScriptedLM(lambda messages: messages[1]["content"].upper() + "!!")
    output = task.run(Example("e", {"input": "hi"}), {"draft": "d", "shout": "s"}, lm)
    assert output.output == "HI!!!!"
    assert [call.module for call in output.trace] == ["draft", "shout"]
    assert task.score(Example("e", {}), output).score == 1.0


def test_python_task_loaded_twice_gets_fresh_modules() -> None:
    spec = f"python:{FIXTURES / 'custom_task.py'}:ShoutTask"
    first = build_task(spec, {}, ["draft", "shout"], Path("/"))
    second = build_task(spec, {}, ["draft", "shout"], Path("/"))
    assert type(first) is not type(second)
    assert type(first).__module__ != type(second).__module__


def test_python_task_without_constructor_args(tmp_path: Path) -> None:
    spec = f"python:{FIXTURES / 'custom_task.py'}:NoArgsTask"
    assert build_task(spec, {}, ["only"], tmp_path).modules == ("only",)
    with pytest.raises(TaskConfigError, match=r"^\[task\.options\] .* takes no options"):
        build_task(spec, {"x": 1}, ["only"], tmp_path)


def test_python_task_constructor_errors_pass_through() -> None:
    spec = "python:fixtures/custom_task.py:ShoutTask"
    with pytest.raises(TaskConfigError, match=r"^\[task\.options\.loud\] unknown option"):
        build_task(spec, {"loud": True}, ["draft", "shout"], FIXTURES.parent)


def test_python_task_prompts_must_match_modules() -> None:
    spec = "python:fixtures/custom_task.py:ShoutTask"
    with pytest.raises(TaskConfigError, match=r"^\[task\.prompts\] .*no prompt for shout"):
        build_task(spec, {}, ["draft"], FIXTURES.parent)
    with pytest.raises(TaskConfigError, match="not a module of the task: extra"):
        build_task(spec, {}, ["draft", "shout", "extra"], FIXTURES.parent)


def test_python_class_that_is_not_a_task() -> None:
    spec = "python:fixtures/custom_task.py:NotATask"
    with pytest.raises(TaskConfigError, match=r"NotATask is not a task: it lacks run, score"):
        build_task(spec, {}, ["x"], FIXTURES.parent)


def test_python_missing_class_did_you_mean() -> None:
    with pytest.raises(TaskConfigError, match=r"has no class 'ShoutTsk'; did you mean 'ShoutTask'"):
        build_task("python:fixtures/custom_task.py:ShoutTsk", {}, ["m"], FIXTURES.parent)


def test_python_missing_file_and_bad_spec(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match=r"^\[task\.type\] no such file: nope\.py"):
        build_task("python:nope.py:Task", {}, ["m"], tmp_path)
    with pytest.raises(TaskConfigError, match=r"expected python:path/to/file\.py:ClassName"):
        build_task("python:nope.py", {}, ["m"], tmp_path)


def test_python_file_with_syntax_error_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("class Task:\n    def run(self\n", encoding="utf-8")
    with pytest.raises(TaskConfigError) as info:
        build_task("python:broken.py:Task", {}, ["m"], tmp_path)
    message = str(info.value)
    assert message.startswith("[task.type] could not import broken.py: SyntaxError: ")
    assert "\n" not in message


def test_python_file_raising_on_import(tmp_path: Path) -> None:
    (tmp_path / "boom.py").write_text("raise RuntimeError('no\\nway')\n", encoding="utf-8")
    with pytest.raises(TaskConfigError) as info:
        build_task("python:boom.py:Task", {}, ["m"], tmp_path)
    assert str(info.value) == "[task.type] could not import boom.py: RuntimeError: no way"
