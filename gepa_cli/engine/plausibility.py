"""Whether a state read back from a checkpoint could have been written by the engine.

`check_plausible` runs after `EngineState.from_json` has parsed the types: it refuses
negative or impossible counters (e.g. `metric_calls: -1000`, more failed evaluations
than evaluations), candidates whose fields have the wrong type, duplicate ids,
scores that are not finite numbers, and val rows that do not cover the seed's val
examples (only candidates marked partial, never the seed, hold part of them). It
raises `ValueError`, which `from_json` turns into a `CheckpointError`. Pure: the state
is duck-typed (this module imports nothing of the engine, so `state.py` can call it
without an import cycle).
"""

from __future__ import annotations

import math
from typing import Any

ORIGINS = frozenset({"seed", "mutation", "merge"})
_COUNTERS = (
    "iteration", "metric_calls", "errors", "idle_iterations", "merges_accepted", "merges_due",
)  # fmt: skip


def check_plausible(state: Any) -> None:
    """Raise ValueError naming the first field that no engine run could have written."""
    for name in _COUNTERS:
        _non_negative(name, getattr(state, name))
    for module, pointer in state.module_pointer.items():
        _non_negative(f"module_pointer[{module!r}]", pointer)
    if state.errors > state.metric_calls:
        raise ValueError(f"errors ({state.errors}) exceed metric_calls ({state.metric_calls})")
    ids = [_check_candidate(cand, state.metric_calls) for cand in state.candidates]
    if len(set(ids)) != len(ids):
        raise ValueError("a candidate id appears twice")
    if set(state.val_scores) != set(ids):
        raise ValueError("val_scores does not hold exactly one row per candidate")
    for cid, row in state.val_scores.items():
        if not all(isinstance(eid, str) and math.isfinite(s) for eid, s in row.items()):
            raise ValueError(f"val_scores of {cid} holds a score that is not a finite number")
    if ids and state.metric_calls < len(state.val_scores[ids[0]]):
        raise ValueError(
            f"metric_calls ({state.metric_calls}) is below the seed's "
            f"{len(state.val_scores[ids[0]])} val scores"
        )
    _check_rows(state, ids)


def _check_rows(state: Any, ids: list[str]) -> None:
    """Complete candidates score the seed's val examples; partial ones a part of them."""
    partial = state.partial
    if not all(isinstance(cid, str) for cid in partial) or not partial <= set(ids[1:]):
        raise ValueError("partial names a candidate that is not in the pool (or the seed)")
    val_ids = set(state.val_scores[ids[0]]) if ids else set()
    for cid in ids:
        row = set(state.val_scores[cid])
        if cid in partial and not (row and row < val_ids):
            raise ValueError(f"partial candidate {cid} must hold some, not all, val scores")
        if cid not in partial and row != val_ids:
            raise ValueError(f"val_scores of {cid} does not cover the seed's val examples")


def _non_negative(name: str, value: Any) -> None:
    if not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} is {value!r}; expected a whole number >= 0")


def _check_candidate(cand: Any, metric_calls: int) -> str:
    if not isinstance(cand.id, str) or not cand.id:
        raise ValueError(f"candidate id {cand.id!r} is not a non-empty string")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in cand.prompts.items()):
        raise ValueError(f"candidate {cand.id}: prompts must map module names to text")
    if not all(isinstance(p, str) for p in cand.parents) or cand.origin not in ORIGINS:
        raise ValueError(f"candidate {cand.id}: malformed parents or origin")
    _non_negative(f"candidate {cand.id}: iteration", cand.iteration)
    found_at = cand.metric_calls_at_discovery
    _non_negative(f"candidate {cand.id}: metric_calls_at_discovery", found_at)
    if found_at > metric_calls:
        raise ValueError(
            f"candidate {cand.id} was found at {found_at} metric calls, "
            f"after the run's {metric_calls}"
        )
    return str(cand.id)
