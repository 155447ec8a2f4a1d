"""Comparing scores the way the paper means them: sums of floats differ by rounding noise,
so "better" means better by more than that noise, and "tied" means equal within it."""

from __future__ import annotations

TOLERANCE = 1e-9
"""Relative (and, near zero, absolute) slack for float comparisons of scores and sums."""


def _slack(a: float, b: float) -> float:
    return TOLERANCE * max(1.0, abs(a), abs(b))


def improves(new: float, old: float) -> bool:
    """True if `new` beats `old` by more than floating-point noise (0.1 + 0.2 vs 0.3: no)."""
    return new - old > _slack(new, old)


def at_least(new: float, old: float) -> bool:
    """True if `new` is not worse than `old` beyond floating-point noise."""
    return new - old >= -_slack(new, old)


def ties(a: float, b: float) -> bool:
    """True if `a` and `b` are equal within floating-point noise."""
    return abs(a - b) <= _slack(a, b)
