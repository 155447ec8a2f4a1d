"""Running a candidate on examples concurrently and scoring each one.

Owns `ConcurrentEvaluator`, the engine's `Evaluator`: one shared thread pool, rollouts
returned in input order, and the error rule of DESIGN §5: whatever goes wrong on one
example (LM failure, task bug, unusable output or score) makes that example score 0
with the error as feedback; it never aborts the evaluation. With
`rollouts_per_example` n > 1, each example runs n times and its n rollouts are
combined into one (`rollouts.py`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

from gepa_cli.engine.types import Example, Prompts, Rollout
from gepa_cli.lm.base import LM
from gepa_cli.run.rollouts import combine_rollouts, rollout_lm
from gepa_cli.tasks.base import Score, Task, TaskOutput

_MAX_ERROR_CHARS = 500


class ConcurrentEvaluator:
    """Evaluates examples on a shared pool of `max_workers` threads.

    `error_count` counts the examples that failed since construction (thread-safe).
    Use as a context manager, or call `close()` when done.
    """

    def __init__(self, task: Task, lm: LM, max_workers: int, rollouts_per_example: int = 1) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        if rollouts_per_example < 1:
            raise ValueError(f"rollouts_per_example must be >= 1, got {rollouts_per_example}")
        self.task = task
        self.lm = lm
        self.rollouts_per_example = rollouts_per_example
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="gepa-eval")
        self._lock = threading.Lock()
        self._errors = 0

    @property
    def error_count(self) -> int:
        with self._lock:
            return self._errors

    def evaluate(self, prompts: Prompts, examples: Sequence[Example]) -> list[Rollout]:
        """Run and score every example; the result is in the order of `examples`."""
        if self.rollouts_per_example > 1:
            return self._evaluate_repeated(prompts, examples)
        futures = [self._pool.submit(self._evaluate_one, prompts, ex) for ex in examples]
        return [future.result() for future in futures]

    def _evaluate_repeated(self, prompts: Prompts, examples: Sequence[Example]) -> list[Rollout]:
        """Every example `rollouts_per_example` times (all on the pool), combined per example."""
        indexes = range(self.rollouts_per_example)
        lms = [rollout_lm(self.lm, i) for i in indexes]
        futures = [
            [self._pool.submit(evaluate_example, self.task, lms[i], prompts, ex) for i in indexes]
            for ex in examples
        ]
        return [self._counted(combine_rollouts([f.result() for f in row])) for row in futures]

    def close(self) -> None:
        """Stop the pool: queued examples are dropped, running ones finish."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ConcurrentEvaluator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _evaluate_one(self, prompts: Prompts, example: Example) -> Rollout:
        return self._counted(evaluate_example(self.task, self.lm, prompts, example))

    def _counted(self, rollout: Rollout) -> Rollout:
        """`rollout`, counted in `error_count` when it is a failure."""
        if rollout.error is not None:
            with self._lock:
                self._errors += 1
        return rollout


def evaluate_example(task: Task, lm: LM, prompts: Prompts, example: Example) -> Rollout:
    """Run and score one example; any failure is a score-0 rollout carrying the error.
    A pure function of its arguments, so a Ray worker can run it too."""
    try:
        output = task.run(example, prompts, lm)
        _expect(output, ("output", "trace"), "run()", "TaskOutput")
    except Exception as exc:
        return failed_rollout(example, describe_error(exc))
    try:
        verdict = task.score(example, output)
        _expect(verdict, ("score", "feedback", "module_feedback"), "score()", "Score")
        score = float(verdict.score)
        feedback = str(verdict.feedback)
        module_feedback = {str(k): str(v) for k, v in dict(verdict.module_feedback).items()}
    except Exception as exc:
        return failed_rollout(example, describe_error(exc), output)
    if math.isnan(score):
        return failed_rollout(example, "the task's score was NaN", output, verdict)
    return Rollout(
        example_id=example.id,
        score=min(1.0, max(0.0, score)),
        feedback=feedback,
        output=str(output.output),
        trace=tuple(output.trace),
        module_feedback=module_feedback,
    )


def failed_rollout(
    example: Example,
    error: str,
    output: TaskOutput | None = None,
    verdict: Score | None = None,
) -> Rollout:
    """A score-0 rollout that carries the error and whatever the program produced."""
    feedback = f"The program failed on this example: {error}"
    if verdict is not None and verdict.feedback:
        feedback += f"\n{verdict.feedback}"
    return Rollout(
        example_id=example.id,
        score=0.0,
        feedback=feedback,
        output="" if output is None else str(output.output),
        trace=() if output is None else tuple(output.trace),
        error=error,
    )


def _expect(value: object, attributes: tuple[str, ...], method: str, kind: str) -> None:
    if not all(hasattr(value, name) for name in attributes):
        raise TypeError(f"the task's {method} must return a {kind}, got {type(value).__name__}")


def describe_error(exc: BaseException) -> str:
    """`ExcType: message` on one line, shortened to a readable length."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(text) > _MAX_ERROR_CHARS:
        text = text[: _MAX_ERROR_CHARS - 3] + "..."
    return text
