"""Choosing what to change: the parent candidate and the module(s) to rewrite."""

from __future__ import annotations

import random
from collections.abc import Sequence

from gepa_cli.engine.pareto import sample_pareto_parent
from gepa_cli.engine.state import EngineState

CANDIDATE_STRATEGIES = ("pareto", "current_best", "epsilon_greedy")
MODULE_STRATEGIES = ("round_robin", "all")


def select_parent(
    state: EngineState, strategy: str, rng: random.Random, epsilon: float = 0.1
) -> str:
    """Pick the parent of this iteration's proposal from the pool (never a partial one)."""
    order = state.complete_ids()
    means = {cid: state.mean_val_score(cid) for cid in order}
    if strategy == "pareto":
        return sample_pareto_parent(order, state.val_scores, means, rng)
    if strategy == "current_best":
        return state.best_id()
    if strategy == "epsilon_greedy":
        if rng.random() < epsilon:
            return rng.choice(order)
        return state.best_id()
    raise ValueError(f"unknown candidate selection strategy {strategy!r}")


def select_modules(
    modules: Sequence[str], strategy: str, pointer: int
) -> tuple[tuple[str, ...], int]:
    """The modules to rewrite and the parent's next round-robin pointer."""
    if strategy == "all":
        return tuple(modules), pointer
    if strategy == "round_robin":
        return (modules[pointer % len(modules)],), (pointer + 1) % len(modules)
    raise ValueError(f"unknown module selection strategy {strategy!r}")
