"""System-aware merge: crossover of two frontier candidates through a common ancestor.

For two non-dominated candidates that descend from a shared ancestor (and not
from each other), every module takes the version that changed since the
ancestor; where both changed, the better-scoring candidate's version. A merge
is first scored on a few val examples stratified by which parent wins there.
All functions here are pure.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gepa_cli.engine.sampler import stratified_sample
from gepa_cli.engine.state import Candidate, EngineState, candidate_id


@dataclass(frozen=True)
class MergePlan:
    """Two parents, their common ancestor, and the merged prompts."""

    parents: tuple[str, str]
    ancestor: str
    prompts: dict[str, str]
    child_id: str

    @property
    def key(self) -> str:
        """What counts as 'already tried': the pair and the resulting module choice."""
        return f"{'+'.join(sorted(self.parents))}>{self.child_id}"


def ancestors(state: EngineState, cid: str) -> set[str]:
    """Every candidate `cid` descends from (not including itself)."""
    seen: set[str] = set()
    stack = list(state.candidate(cid).parents)
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(state.candidate(current).parents)
    return seen


def merge_prompts(
    ancestor: Mapping[str, str], first: Candidate, second: Candidate, first_is_better: bool
) -> dict[str, str] | None:
    """The merged prompts, or None when the merge would bring nothing from one side."""
    merged: dict[str, str] = {}
    took_first = took_second = False
    for module, base in ancestor.items():
        a, b = first.prompts[module], second.prompts[module]
        if a == b:
            merged[module] = a
        elif b == base:
            merged[module], took_first = a, True
        elif a == base:
            merged[module], took_second = b, True
        else:
            merged[module] = a if first_is_better else b
            took_first, took_second = (
                took_first or first_is_better,
                took_second or not first_is_better,
            )
    return merged if took_first and took_second else None


def find_merge(state: EngineState, frontier: Sequence[str], rng: random.Random) -> MergePlan | None:
    """A new, untried merge of two frontier candidates, chosen at random; None if none exists."""
    pairs = [(a, b) for i, a in enumerate(frontier) for b in frontier[i + 1 :]]
    rng.shuffle(pairs)
    for first_id, second_id in pairs:
        plan = _plan_for_pair(state, first_id, second_id, rng)
        if plan is not None:
            return plan
    return None


def _plan_for_pair(
    state: EngineState, first_id: str, second_id: str, rng: random.Random
) -> MergePlan | None:
    up_first, up_second = ancestors(state, first_id), ancestors(state, second_id)
    if first_id in up_second or second_id in up_first:
        return None
    first, second = state.candidate(first_id), state.candidate(second_id)
    score_first, score_second = state.mean_val_score(first_id), state.mean_val_score(second_id)
    common = sorted(up_first & up_second)
    rng.shuffle(common)
    for ancestor_id in common:
        if state.mean_val_score(ancestor_id) > min(score_first, score_second):
            continue
        ancestor = state.candidate(ancestor_id).prompts
        merged = merge_prompts(ancestor, first, second, score_first >= score_second)
        if merged is None:
            continue
        plan = MergePlan((first_id, second_id), ancestor_id, merged, candidate_id(merged))
        if plan.key in state.tried_merges or state.has(plan.child_id):
            continue
        return plan
    return None


def stratified_subsample(
    scores_first: Mapping[str, float],
    scores_second: Mapping[str, float],
    size: int,
    rng: random.Random,
) -> list[str]:
    """Up to `size` val ids, drawn in turn from where the first wins, the second wins, and ties."""
    strata: dict[str, int] = {}
    for eid in scores_first:
        a, b = scores_first[eid], scores_second[eid]
        strata[eid] = 0 if a > b else 1 if b > a else 2
    return stratified_sample(strata, size, rng)
