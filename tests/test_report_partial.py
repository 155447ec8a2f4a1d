"""report.html's "vs parent" delta for a candidate that staged validation stopped early:
compared with the parent's mean on the same val examples, not on all of val."""

from __future__ import annotations

from gepa_cli.report.html_candidates import _parent_score
from gepa_cli.report.values import CandidateInfo, ScoreMatrix


def _cand(cid: str, val: float, partial: bool = False, parents: tuple[str, ...] = ()):
    return CandidateInfo(cid, parents, "mutation", 1, {"m": cid}, val, 10, partial)


MATRIX = ScoreMatrix(
    ("v1", "v2", "v3", "v4"),
    ("parent", "child", "full"),
    ((1.0, 1.0, 0.0, 0.0), (0.0, 1.0, None, None), (1.0, 1.0, 1.0, 0.0)),
)


def test_a_partial_child_is_compared_on_the_examples_it_was_scored_on() -> None:
    parent = _cand("parent", 0.5)
    child = _cand("child", 0.5, partial=True, parents=("parent",))
    assert _parent_score(child, parent, MATRIX) == 1.0  # v1 and v2 only: not the parent's 0.5


def test_a_complete_child_is_compared_with_the_parents_val_mean() -> None:
    parent = _cand("parent", 0.5)
    assert _parent_score(_cand("full", 0.75, parents=("parent",)), parent, MATRIX) == 0.5
    assert _parent_score(_cand("full", 0.75), None, MATRIX) is None


def test_without_a_score_matrix_a_partial_child_has_no_delta() -> None:
    parent = _cand("parent", 0.5)
    assert _parent_score(_cand("child", 0.5, True, ("parent",)), parent, None) is None
