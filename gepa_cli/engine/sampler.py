"""Epoch-shuffled minibatches as a pure function of (seed, iteration), and stratified
val subsamples.

The training ids are read as an endless stream of epochs, each a fresh shuffle
seeded by (seed, epoch). Iteration i takes the i-th slice of `size` ids, so a
resumed run draws exactly the minibatches an uninterrupted one would.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence


def epoch_order(ids: Sequence[str], seed: int, epoch: int) -> list[str]:
    """The shuffled order of `ids` for one epoch."""
    order = list(ids)
    random.Random(f"gepa-epoch:{seed}:{epoch}").shuffle(order)
    return order


def minibatch(ids: Sequence[str], size: int, seed: int, iteration: int) -> tuple[str, ...]:
    """The training ids for `iteration` (1-based); never repeats an id within a batch."""
    if not ids:
        raise ValueError("the training split is empty")
    size = min(size, len(ids))
    start = (iteration - 1) * size
    batch: list[str] = []
    position = start
    while len(batch) < size:
        epoch, offset = divmod(position, len(ids))
        candidate = epoch_order(ids, seed, epoch)[offset]
        if candidate not in batch:
            batch.append(candidate)
        position += 1
    return tuple(batch)


def iteration_rng(seed: int, iteration: int) -> random.Random:
    """The random source for one iteration's choices."""
    return random.Random(f"gepa-iteration:{seed}:{iteration}")


def stratified_sample(strata: Mapping[str, int], size: int, rng: random.Random) -> list[str]:
    """Up to `size` ids, drawn in turn from each stratum (in stratum order).

    `strata` maps each id to its stratum; each stratum's ids (sorted) are shuffled with
    `rng` in stratum order, then one id is taken from each non-empty stratum per round.
    """
    buckets = [
        sorted(eid for eid in strata if strata[eid] == s) for s in sorted(set(strata.values()))
    ]
    for bucket in buckets:
        rng.shuffle(bucket)
    chosen: list[str] = []
    while len(chosen) < size and any(buckets):
        for bucket in buckets:
            if bucket and len(chosen) < size:
                chosen.append(bucket.pop())
    return chosen
