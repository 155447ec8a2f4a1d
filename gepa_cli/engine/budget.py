"""Budget arithmetic in metric calls: what an iteration may cost at most, and
whether it still fits. The engine never starts work it could not finish inside
`max_metric_calls`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricBudget:
    """A cap on metric calls (None: unlimited)."""

    max_metric_calls: int | None

    def remaining(self, used: int) -> int | None:
        if self.max_metric_calls is None:
            return None
        return max(0, self.max_metric_calls - used)

    def fits(self, used: int, cost: int) -> bool:
        """True if spending `cost` more calls stays within the cap."""
        return self.max_metric_calls is None or used + cost <= self.max_metric_calls


def iteration_cost_bound(uncached_parent: int, minibatch_size: int, val_size: int) -> int:
    """The most metric calls one reflective iteration can spend: the parent's
    uncached minibatch rollouts, the child's minibatch, and the child's full val."""
    return uncached_parent + minibatch_size + val_size


def proposals_affordable(max_metric_calls: int, val_size: int, minibatch_size: int) -> int:
    """How many worst-case iterations fit after scoring the seed on val."""
    left = max_metric_calls - val_size
    per_iteration = 2 * minibatch_size + val_size
    return max(0, left // per_iteration) if left >= 0 else 0
