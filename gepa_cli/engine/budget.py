"""Budget arithmetic in metric calls: what an iteration may cost at most, and
whether it still fits. The engine never starts work it could not finish inside
`max_metric_calls`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricBudget:
    """A cap on metric calls (None: unlimited). Each evaluation of a (candidate, example)
    pair runs `rollouts_per_example` rollouts, and each rollout is one metric call."""

    max_metric_calls: int | None
    rollouts_per_example: int = 1

    def calls(self, evaluations: int) -> int:
        """The metric calls of `evaluations` (candidate, example) evaluations."""
        return evaluations * self.rollouts_per_example

    def remaining(self, used: int) -> int | None:
        if self.max_metric_calls is None:
            return None
        return max(0, self.max_metric_calls - used)

    def fits(self, used: int, cost: int) -> bool:
        """True if spending `cost` more calls stays within the cap."""
        return self.max_metric_calls is None or used + cost <= self.max_metric_calls


def iteration_cost_bound(
    uncached_parent: int, minibatch_size: int, val_size: int, rollouts_per_example: int = 1
) -> int:
    """The most metric calls one reflective iteration can spend: the parent's
    uncached minibatch rollouts, the child's minibatch, and the child's full val,
    each evaluation `rollouts_per_example` times."""
    return (uncached_parent + minibatch_size + val_size) * rollouts_per_example


def proposals_affordable(
    max_metric_calls: int, val_size: int, minibatch_size: int, rollouts_per_example: int = 1
) -> int:
    """How many worst-case iterations fit after scoring the seed on val."""
    left = max_metric_calls - val_size * rollouts_per_example
    per_iteration = (2 * minibatch_size + val_size) * rollouts_per_example
    return max(0, left // per_iteration) if left >= 0 else 0
