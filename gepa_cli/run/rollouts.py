"""Repeated rollouts (`search.rollouts_per_example: n`): the model each rollout talks to,
and the one `Rollout` the engine sees for an example evaluated n times.

Rollout `i` of an example talks to `rollout_lm(lm, i)`: the run's model itself for
rollout 0 (so its cache keys are exactly those of a run without repeats) and, behind
the response cache, a view of it whose cache keys carry the rollout index for the
others (`CachedLM.for_rollout`), so every rollout is stored apart and a resume replays
each one from the cache.

`combine_rollouts` averages the scores and keeps the first rollout's output and trace.
When the rollouts disagree (different scores or outputs), the feedback the reflection
reads starts with a short, bounded list of every rollout's score, output and feedback,
so the reflection sees that the example is unstable and how.

`repeat_warning` is the one-line warning for repeats that would all be alike: a task
model at temperature 0 (or with a fixed sampling seed) gives the same answer n times,
so only a noisy metric (e.g. an LLM judge) makes them differ.
"""

from __future__ import annotations

from collections.abc import Sequence

from gepa_cli.config import ModelSpec
from gepa_cli.engine.types import Rollout
from gepa_cli.lm.base import LM

SHOWN_ROLLOUTS = 4
"""At most this many rollouts are listed in the feedback of a disagreeing example."""
OUTPUT_CHARS = 100
FEEDBACK_CHARS = 100
"""Each listed rollout's output and feedback are cut to these lengths (one line each), so
the list stays well inside what the reflection shows of a feedback (1500 characters)."""


def repeat_warning(rollouts_per_example: int, task_model: ModelSpec) -> str | None:
    """A warning when n > 1 rollouts of a deterministic task model would be alike."""
    n = rollouts_per_example
    if n <= 1 or (task_model.temperature > 0 and task_model.seed is None):
        return None
    why = "temperature is 0" if task_model.temperature <= 0 else "seed is fixed"
    return (
        f"search.rollouts_per_example is {n} but the task model's {why}: its {n} "
        f"rollouts of an example give one answer, so unless the metric is noisy (e.g. an "
        f"LLM judge) they cost {n}x the metric calls for nothing"
    )


def rollout_lm(lm: LM, index: int) -> LM:
    """The model rollout `index` uses: `lm` itself for rollout 0, else its per-rollout
    view when it has one (the response cache), else `lm` (uncached calls differ anyway)."""
    if index == 0:
        return lm
    for_rollout = getattr(lm, "for_rollout", None)
    return lm if for_rollout is None else for_rollout(index)


def combine_rollouts(rollouts: Sequence[Rollout]) -> Rollout:
    """One example's n rollouts as one: mean score, the first rollout's output and trace,
    and, when they disagree, each rollout summarized at the head of the feedback. The
    example counts as failed only when every rollout failed."""
    first = rollouts[0]
    if len(rollouts) == 1:
        return first
    mean = sum(r.score for r in rollouts) / len(rollouts)
    failed = [r for r in rollouts if r.error is not None]
    error = None  # a partial failure is a low score with its reason in the feedback, not an
    if len(failed) == len(rollouts):  # example failure (which counts towards an outage)
        error = f"all {len(rollouts)} rollouts failed: {failed[0].error}"
    if not _disagree(rollouts):
        return Rollout(
            first.example_id, mean, first.feedback, first.output, first.trace,
            dict(first.module_feedback), error,
        )  # fmt: skip
    note = disagreement_note(rollouts, mean)
    module_feedback = {m: f"{note}\n\n{text}" for m, text in first.module_feedback.items()}
    return Rollout(
        first.example_id, mean, f"{note}\n\n{first.feedback}", first.output, first.trace,
        module_feedback, error,
    )  # fmt: skip


def _disagree(rollouts: Sequence[Rollout]) -> bool:
    return len({(r.score, r.output) for r in rollouts}) > 1


def disagreement_note(rollouts: Sequence[Rollout], mean: float) -> str:
    """A bounded summary of disagreeing rollouts: one line per rollout (at most
    `SHOWN_ROLLOUTS`), then a pointer to the feedback that follows (rollout 1's)."""
    lines = [f"The {len(rollouts)} rollouts of this example disagree (mean score {mean:.3g}):"]
    for number, rollout in enumerate(rollouts[:SHOWN_ROLLOUTS], start=1):
        output = _one_line(rollout.output, OUTPUT_CHARS) or "(empty)"
        feedback = _one_line(rollout.feedback, FEEDBACK_CHARS)
        lines.append(
            f"- rollout {number}: score {rollout.score:.3g}; output: {output}; feedback: {feedback}"
        )
    if len(rollouts) > SHOWN_ROLLOUTS:
        lines.append(f"- ... and {len(rollouts) - SHOWN_ROLLOUTS} more rollouts")
    lines.append("Feedback on rollout 1 (the output shown):")
    return "\n".join(lines)


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
