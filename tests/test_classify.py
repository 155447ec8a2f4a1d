"""The classify task: label extraction, scoring and feedback."""

import pytest

from gepa_cli.engine.types import Example
from gepa_cli.tasks.base import TaskConfigError, TaskOutput
from gepa_cli.tasks.classify import build_classify_task, predicted_label

LABELS = ["billing", "key_accounts", "mobile"]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("billing", "billing"),
        ("  Billing.", "billing"),
        ("`key_accounts`", "key_accounts"),
        ("Key accounts", "key_accounts"),
        ("key-accounts", "key_accounts"),
        ("The team is: mobile", "mobile"),
        ("billing or mobile", None),
        ("sales", None),
        ("", None),
    ],
)
def test_predicted_label(reply, expected):
    assert predicted_label(reply, LABELS) == expected


def test_score_and_feedback_name_gold_and_prediction():
    task = build_classify_task({"labels": LABELS}, ["route"])
    ex = Example("e1", {"input": "hi", "answer": "key_accounts"})
    right = task.score(ex, TaskOutput("Key accounts"))
    assert right.score == 1.0
    wrong = task.score(ex, TaskOutput("billing"))
    assert (
        wrong.score == 0.0 and "'key_accounts'" in wrong.feedback and "'billing'" in wrong.feedback
    )
    vague = task.score(ex, TaskOutput("I think billing or mobile"))
    assert vague.score == 0.0 and "exactly one of the labels" in vague.feedback


def test_options_are_validated():
    with pytest.raises(TaskConfigError, match=r"\[task.options.labels\]"):
        build_classify_task({}, ["route"])
    with pytest.raises(TaskConfigError, match=r"\[task.options.lables\] unknown option"):
        build_classify_task({"lables": LABELS}, ["route"])
    with pytest.raises(TaskConfigError, match=r"\[task.prompts\]"):
        build_classify_task({"labels": LABELS}, ["a", "b"])


def test_labels_file_json_or_lines(tmp_path):
    as_json = tmp_path / "labels.json"
    as_json.write_text('["card_arrival", "top_up"]')
    assert build_classify_task({"labels_file": str(as_json)}, ["m"]).labels == (
        "card_arrival",
        "top_up",
    )
    as_lines = tmp_path / "labels.txt"
    as_lines.write_text("a\n\nb\n")
    assert build_classify_task({"labels_file": str(as_lines)}, ["m"]).labels == ("a", "b")
    with pytest.raises(TaskConfigError, match="labels_file"):
        build_classify_task({"labels_file": str(tmp_path / "missing.json")}, ["m"])


def test_feedback_quotes_the_examples_rationale():
    task = build_classify_task({"labels": LABELS}, ["route"])
    why = "Enterprise customers always go to key_accounts."
    ex = Example("e1", {"input": "hi", "answer": "key_accounts", "rationale": why})
    assert task.score(ex, TaskOutput("billing")).feedback.endswith(f"Why: {why}")
    assert why in task.score(ex, TaskOutput("key_accounts")).feedback
