"""The per-example Pareto frontier and Pareto-based parent sampling.

For each val example, the frontier holds the best score seen and the candidates
that reach it. A candidate survives pruning if it is the only remaining best on
at least one example; survivors are sampled in proportion to how many examples
they are best on.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gepa_cli.engine.scores import ties


@dataclass(frozen=True)
class ExampleFront:
    """The best score on one val example and the candidates that achieve it."""

    example_id: str
    best_score: float
    candidate_ids: tuple[str, ...]


def per_example_fronts(
    order: Sequence[str], val_scores: Mapping[str, Mapping[str, float]]
) -> list[ExampleFront]:
    """One front per val example any of `order` is scored on; candidates in pool order.

    An unscored cell (a row without the example) is skipped: it neither wins nor counts
    as 0. Examples are listed in the order the rows first name them.
    """
    example_ids = list(dict.fromkeys(eid for cid in order for eid in val_scores[cid]))
    fronts = []
    for eid in example_ids:
        scored = [cid for cid in order if eid in val_scores[cid]]
        best = max(val_scores[cid][eid] for cid in scored)
        winners = tuple(cid for cid in scored if ties(val_scores[cid][eid], best))
        fronts.append(ExampleFront(eid, best, winners))
    return fronts


def prune_dominated(
    fronts: Sequence[ExampleFront], order: Sequence[str], mean_scores: Mapping[str, float]
) -> list[str]:
    """Drop candidates whose every front also holds another surviving candidate.

    Low-mean candidates are tried first (ties: earlier in the pool first, so of identical
    twins the newer one, which passed the minibatch gate, survives), and pruning restarts
    after each removal. Returns survivors in pool order.
    """
    members = [set(f.candidate_ids) for f in fronts]
    alive = {cid for m in members for cid in m}
    position = {cid: i for i, cid in enumerate(order)}
    removed = True
    while removed:
        removed = False
        for cid in sorted(alive, key=lambda c: (mean_scores[c], position[c])):
            mine = [m for m in members if cid in m]
            if all(len((m & alive) - {cid}) > 0 for m in mine):
                alive.discard(cid)
                removed = True
                break
    return [cid for cid in order if cid in alive]


def win_counts(fronts: Sequence[ExampleFront], candidates: Sequence[str]) -> dict[str, int]:
    """How many val examples each candidate is (tied) best on."""
    counts = dict.fromkeys(candidates, 0)
    for front in fronts:
        for cid in front.candidate_ids:
            if cid in counts:
                counts[cid] += 1
    return counts


def sample_pareto_parent(
    order: Sequence[str],
    val_scores: Mapping[str, Mapping[str, float]],
    mean_scores: Mapping[str, float],
    rng: random.Random,
) -> str:
    """Sample a non-dominated candidate with probability proportional to its wins."""
    fronts = per_example_fronts(order, val_scores)
    survivors = prune_dominated(fronts, order, mean_scores)
    counts = win_counts(fronts, survivors)
    weighted = [cid for cid in survivors if counts[cid] > 0]
    if not weighted:
        return max(order, key=lambda c: mean_scores[c])
    return rng.choices(weighted, weights=[counts[c] for c in weighted], k=1)[0]
