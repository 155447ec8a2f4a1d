"""Tests for gepa_cli.evaluation.ConcurrentEvaluator: order, concurrency and the error rule."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from gepa_cli.engine.types import Example, ModuleCall, Prompts
from gepa_cli.lm.base import LM, Message
from gepa_cli.lm.scripted import ScriptedLM
from gepa_cli.run.evaluator import ConcurrentEvaluator
from gepa_cli.tasks.base import Score, TaskOutput
from gepa_cli.tasks.qa import QATask

PROMPTS = {"m": "Answer the question."}


def examples(count: int) -> list[Example]:
    return [Example(f"e{i}", {"input": f"q{i}", "answer": f"a{i}"}) for i in range(count)]


class InFlightCounter:
    """A responder that sleeps, answers correctly, and records the peak of concurrent calls."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, messages: Sequence[Message]) -> str:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        question = messages[1]["content"]
        # later examples answer sooner, so completion order differs from input order
        time.sleep(self.delay / (1 + int(question[1:])))
        with self._lock:
            self.in_flight -= 1
        return "Answer: a" + question[1:]


class ScriptedScoreTask:
    """A task whose score() returns a fixed Score, or raises, per example id."""

    modules: tuple[str, ...] = ("m",)
    required_fields: tuple[str, ...] = ("input",)

    def __init__(self, scores: dict[str, Any]) -> None:
        self.scores = scores

    def run(self, example: Example, prompts: Prompts, lm: LM) -> TaskOutput:
        if example.data.get("crash_run"):
            raise KeyError("missing thing")
        return TaskOutput("out-" + example.id, (ModuleCall("m", "in", "out-" + example.id),))

    def score(self, example: Example, output: TaskOutput) -> Score:
        value = self.scores[example.id]
        if isinstance(value, Exception):
            raise value
        return value


def test_rollouts_come_back_in_input_order_under_concurrency() -> None:
    counter = InFlightCounter(delay=0.2)
    with ConcurrentEvaluator(QATask("m"), ScriptedLM(counter), max_workers=4) as evaluator:
        rollouts = evaluator.evaluate(PROMPTS, examples(8))
    assert [r.example_id for r in rollouts] == [f"e{i}" for i in range(8)]
    assert all(r.score == 1.0 and r.error is None for r in rollouts)
    assert counter.peak > 1
    assert counter.peak <= 4


def test_concurrency_is_faster_than_serial() -> None:
    def slow(messages: Sequence[Message]) -> str:
        time.sleep(0.1)
        return "Answer: x"

    lm = ScriptedLM(slow)
    with ConcurrentEvaluator(QATask("m"), lm, max_workers=8) as evaluator:
        started = time.monotonic()
        evaluator.evaluate(PROMPTS, examples(8))
        elapsed = time.monotonic() - started
    assert elapsed < 0.5  # serial would take 0.8 s


def test_rollout_carries_output_trace_and_feedback() -> None:
    lm = ScriptedLM(lambda messages: "Answer: a0")
    with ConcurrentEvaluator(QATask("m"), lm, max_workers=2) as evaluator:
        (rollout,) = evaluator.evaluate(PROMPTS, examples(1))
    assert rollout.output == "Answer: a0"
    assert rollout.trace == (ModuleCall("m", "q0", "Answer: a0"),)
    assert rollout.feedback == "Correct. The answer is 'a0'."


def test_lm_error_scores_zero_with_feedback_and_counts() -> None:
    lm = ScriptedLM(lambda messages: "Answer: " + messages[1]["content"].replace("q", "a"))
    lm.fail_call(1)
    with ConcurrentEvaluator(QATask("m"), lm, max_workers=1) as evaluator:
        rollouts = evaluator.evaluate(PROMPTS, examples(3))
        assert evaluator.error_count == 1
    assert [r.score for r in rollouts] == [1.0, 0.0, 1.0]
    failed = rollouts[1]
    assert failed.error is not None and failed.error.startswith("LMError: ")
    assert failed.feedback == f"The program failed on this example: {failed.error}"
    assert failed.output == "" and failed.trace == ()


def test_task_exceptions_in_run_and_score_become_errors() -> None:
    task = ScriptedScoreTask(
        {"ok": Score(0.5, "half", {"m": "module says"}), "bad": ZeroDivisionError("oops\nmore")}
    )
    items = [
        Example("ok", {}),
        Example("bad", {}),
        Example("crash", {"crash_run": True}),
    ]
    with ConcurrentEvaluator(task, ScriptedLM(lambda m: ""), max_workers=3) as evaluator:
        ok, bad, crash = evaluator.evaluate(PROMPTS, items)
        assert evaluator.error_count == 2
    assert (ok.score, ok.feedback, dict(ok.module_feedback)) == (0.5, "half", {"m": "module says"})
    assert bad.score == 0.0 and bad.error == "ZeroDivisionError: oops more"
    assert bad.output == "out-bad" and len(bad.trace) == 1  # the run's output is kept
    assert crash.error == "KeyError: 'missing thing'"
    assert crash.feedback.startswith("The program failed on this example: KeyError")


@pytest.mark.parametrize(("raw", "clamped"), [(1.7, 1.0), (-0.3, 0.0), (math.inf, 1.0)])
def test_scores_are_clamped(raw: float, clamped: float) -> None:
    task = ScriptedScoreTask({"x": Score(raw, "fb")})
    with ConcurrentEvaluator(task, ScriptedLM(lambda m: ""), max_workers=1) as evaluator:
        (rollout,) = evaluator.evaluate(PROMPTS, [Example("x", {})])
        assert evaluator.error_count == 0
    assert rollout.score == clamped
    assert rollout.error is None


def test_nan_score_is_zero_with_error() -> None:
    task = ScriptedScoreTask({"x": Score(math.nan, "fb")})
    with ConcurrentEvaluator(task, ScriptedLM(lambda m: ""), max_workers=1) as evaluator:
        (rollout,) = evaluator.evaluate(PROMPTS, [Example("x", {})])
        assert evaluator.error_count == 1
    assert rollout.score == 0.0
    assert rollout.error is not None and "NaN" in rollout.error


def test_score_of_the_wrong_type_is_an_error() -> None:
    task = ScriptedScoreTask({"x": 0.7})
    with ConcurrentEvaluator(task, ScriptedLM(lambda m: ""), max_workers=1) as evaluator:
        (rollout,) = evaluator.evaluate(PROMPTS, [Example("x", {})])
    assert rollout.score == 0.0
    assert rollout.error == "TypeError: the task's score() must return a Score, got float"


def test_error_count_is_exact_under_concurrency() -> None:
    lm = ScriptedLM(lambda messages: "Answer: x", fail_calls=range(0, 40, 2))
    with ConcurrentEvaluator(QATask("m"), lm, max_workers=8) as evaluator:
        rollouts = evaluator.evaluate(PROMPTS, examples(40))
        assert evaluator.error_count == 20
    assert sum(r.error is not None for r in rollouts) == 20


def test_empty_examples_and_bad_worker_count() -> None:
    with ConcurrentEvaluator(QATask("m"), ScriptedLM(lambda m: ""), max_workers=1) as evaluator:
        assert evaluator.evaluate(PROMPTS, []) == []
    with pytest.raises(ValueError, match="max_workers"):
        ConcurrentEvaluator(QATask("m"), ScriptedLM(lambda m: ""), max_workers=0)


def test_close_shuts_the_pool() -> None:
    evaluator = ConcurrentEvaluator(QATask("m"), ScriptedLM(lambda m: ""), max_workers=1)
    evaluator.close()
    with pytest.raises(RuntimeError):
        evaluator.evaluate(PROMPTS, examples(1))
