"""The end of a run, outside the metric budget: the final choice on `task.data.select`
and the test scores.

Without a select split the final candidate is the best on val, and `closing_scores`
gives exactly the summary's `test` entry of old: the seed and the best on test. With
one, every frontier candidate (and the best on val) is scored on select and the best
mean there is the final candidate (ties: the better val mean, then the earlier
candidate), since val steered the search and its best mean is biased upward; the
summary then also carries `final_candidate` and a `select` entry with both choices and
the val-vs-select gap, and the test scores are those of the final candidate (and of
the best on val, when it is another one).

Like test scoring, none of this is charged to `budget.max_metric_calls`: it happens
once, after the search has stopped, and cannot change what the search did. Every
evaluation goes through the run's evaluator and response cache, so a resumed run
that finishes again replays them from the cache. A candidate is scored once per split
here (a second evaluation of the same requests would be another sample).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from gepa_cli.engine.scores import improves, ties
from gepa_cli.engine.state import EngineState
from gepa_cli.engine.types import Evaluator, Example


class HasSplits(Protocol):
    """The splits the closing scores read (`run.run_parts.Splits`)."""

    @property
    def test(self) -> list[Example] | None: ...

    @property
    def select(self) -> list[Example] | None: ...


class SplitScorer:
    """Mean scores of candidates on one split, each candidate evaluated at most once."""

    def __init__(self, state: EngineState, evaluator: Evaluator, examples: Sequence[Example]):
        self.state, self.evaluator, self.examples = state, evaluator, list(examples)
        self.means: dict[str, float] = {}

    def mean(self, cid: str) -> float:
        if cid not in self.means:
            prompts = self.state.candidate(cid).prompts
            rollouts = self.evaluator.evaluate(prompts, self.examples)
            self.means[cid] = sum(r.score for r in rollouts) / len(rollouts) if rollouts else 0.0
        return self.means[cid]


def choose_final(
    pool: Sequence[str], select_means: Mapping[str, float], val_means: Mapping[str, float]
) -> str:
    """The candidate of `pool` (in pool order) with the best select mean; ties go to the
    better val mean, then to the earlier candidate."""
    chosen = pool[0]
    for cid in pool[1:]:
        if improves(select_means[cid], select_means[chosen]) or (
            ties(select_means[cid], select_means[chosen])
            and improves(val_means[cid], val_means[chosen])
        ):
            chosen = cid
    return chosen


def closing_scores(
    state: EngineState, frontier: Sequence[str], splits: HasSplits, evaluator: Evaluator
) -> dict[str, Any]:
    """The summary entries of the end of a run: `test` (None without a test split) and,
    with a select split, `final_candidate` and `select`."""
    best, seed = state.best_id(), state.seed_id()
    closing: dict[str, Any] = {}
    final = best
    if splits.select:
        closing = select_entries(state, frontier, SplitScorer(state, evaluator, splits.select))
        final = closing["final_candidate"]
    test: dict[str, Any] | None = None
    if splits.test:
        scorer = SplitScorer(state, evaluator, splits.test)
        test = {"seed": scorer.mean(seed), "best": scorer.mean(final), "n": len(splits.test)}
        if splits.select:
            test["final_candidate"] = final
            if final != best:
                test["best_by_val"] = scorer.mean(best)
    return {"test": test, **closing}


def select_entries(
    state: EngineState, frontier: Sequence[str], scorer: SplitScorer
) -> dict[str, Any]:
    """`final_candidate` and the `select` entry: both choices, their scores, the gap."""
    best = state.best_id()
    pool = [c.id for c in state.candidates if c.id in set(frontier) or c.id == best]
    select_means = {cid: scorer.mean(cid) for cid in pool}
    val_means = {cid: state.mean_val_score(cid) for cid in pool}
    final = choose_final(pool, select_means, val_means)
    return {
        "final_candidate": final,
        "select": {
            "n": len(scorer.examples),
            "candidate": final,
            "select_score": select_means[final],
            "val_score": val_means[final],
            "best_val_candidate": best,
            "best_val_score": val_means[best],
            "best_val_select_score": select_means[best],
            "val_select_gap": val_means[best] - select_means[final],
            "scores": select_means,
        },
    }


def select_overlap_warning(
    select: Sequence[Example] | None, others: Mapping[str, Sequence[Example]]
) -> str | None:
    """A one-line warning when select shares rows (same content) with train, val or test:
    allowed, like any overlap of splits, but then select no longer measures unseen data
    (or, sharing with test, the test score of the final candidate is biased upward)."""
    if not select:
        return None
    rows = {_content(ex) for ex in select}
    shared = {name: sum(_content(ex) in rows for ex in split) for name, split in others.items()}
    named = [f"{count} with {name}" for name, count in shared.items() if count]
    if not named:
        return None
    return (
        f"task.data.select shares rows ({', '.join(named)}): the final choice is then "
        "partly made on data the search saw (train, val) or that should measure it (test); "
        "give select rows of its own"
    )


def _content(example: Example) -> str:
    return json.dumps(dict(example.data), sort_keys=True, ensure_ascii=False, default=str)
