"""Pareto fronts, dominated-candidate pruning and frequency-weighted sampling."""

import random
from collections import Counter

from gepa_cli.engine.pareto import (
    per_example_fronts,
    prune_dominated,
    sample_pareto_parent,
    win_counts,
)

SCORES = {
    "a": {"e1": 1.0, "e2": 0.0, "e3": 0.0, "e4": 0.5},
    "b": {"e1": 1.0, "e2": 1.0, "e3": 0.0, "e4": 0.5},  # covers everything a wins
    "c": {"e1": 0.0, "e2": 0.0, "e3": 1.0, "e4": 0.0},
}
ORDER = ["a", "b", "c"]


def means(scores=SCORES):
    return {k: sum(v.values()) / len(v) for k, v in scores.items()}


def test_fronts_list_every_tied_winner():
    fronts = {f.example_id: f for f in per_example_fronts(ORDER, SCORES)}
    assert fronts["e1"].candidate_ids == ("a", "b")
    assert fronts["e3"] == type(fronts["e3"])("e3", 1.0, ("c",))
    assert fronts["e4"].best_score == 0.5


def test_prune_drops_candidate_whose_wins_are_all_shared():
    fronts = per_example_fronts(ORDER, SCORES)
    assert prune_dominated(fronts, ORDER, means()) == ["b", "c"]


def test_prune_keeps_one_of_identical_twins_the_newer_one():
    scores = {"x": {"e1": 1.0}, "y": {"e1": 1.0}}
    fronts = per_example_fronts(["x", "y"], scores)
    # equal means: the older one is tried (and dropped) first; the newer child survives
    assert prune_dominated(fronts, ["x", "y"], means(scores)) == ["y"]


def test_sampling_is_proportional_to_wins_and_never_picks_dominated():
    rng = random.Random(1)
    counts = Counter(sample_pareto_parent(ORDER, SCORES, means(), rng) for _ in range(3000))
    assert "a" not in counts
    fronts = per_example_fronts(ORDER, SCORES)
    wins = win_counts(fronts, ["b", "c"])
    assert wins == {"b": 3, "c": 1}
    assert 2.5 < counts["b"] / counts["c"] < 3.6


def test_sampling_is_reproducible_for_a_seed():
    draw = [sample_pareto_parent(ORDER, SCORES, means(), random.Random(7)) for _ in range(5)]
    assert len(set(draw)) == 1
