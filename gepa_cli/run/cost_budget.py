"""The dollar budget of a run (`budget.max_cost_usd`): the cost so far from the usage
meter and the models' prices, and whether the next step may still start."""

from __future__ import annotations

from gepa_cli.config import ModelsSpec
from gepa_cli.lm.usage import UsageMeter


class CostBudget:
    """Dollars spent so far (usage meter x prices) against `budget.max_cost_usd`.

    The next iteration may start only if the cost so far plus the most expensive step
    seen so far (the seed's scoring counts as one) stays within the cap.
    """

    def __init__(
        self, models: ModelsSpec, meter: UsageMeter, cap: float | None, worst: float = 0.0
    ) -> None:
        self.models, self.meter, self.cap = models, meter, cap
        self.worst_step = worst
        self._before = 0.0

    def spent(self) -> float | None:
        """The cost so far in dollars; None when no model has a price."""
        return self.models.cost_usd(self.meter.snapshot())

    def begin_step(self) -> None:
        self._before = self.spent() or 0.0

    def end_step(self) -> None:
        self.worst_step = max(self.worst_step, (self.spent() or 0.0) - self._before)

    def exhausted(self) -> bool:
        spent = self.spent()
        if self.cap is None or spent is None:
            return False
        return spent >= self.cap or spent + self.worst_step > self.cap
