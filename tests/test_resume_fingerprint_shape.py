"""A checkpoint's extra fields and id lists of the wrong shape are refused as corrupt (one
error line), never used: a list in place of a split's record in the fingerprint, a null
usage, a non-string id each crashed `gepa resume` with a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gepa_cli.engine.state import CheckpointError, EngineState
from gepa_cli.run.resume_check import checked_extra
from gepa_cli.rundir.directory import RunDirError

GOOD: dict[str, Any] = {
    "task": {"type": "abc", "options": "def"},
    "data": {"val": {"sha256": "x", "offset": 0, "limit": None}, "select": None},
}


@pytest.mark.parametrize(
    "fingerprint",
    [
        {**GOOD, "data": {"val": []}},
        {**GOOD, "data": {"val": "x"}},
        {**GOOD, "data": []},
        {**GOOD, "task": {"type": 3}},
        {**GOOD, "task": ["type"]},
        ["task"],
    ],
)
def test_a_misshapen_fingerprint_is_refused_as_corrupt(fingerprint: Any) -> None:
    with pytest.raises(RunDirError, match="corrupt 'fingerprint'"):
        checked_extra({"fingerprint": fingerprint}, Path("checkpoint.json"))


@pytest.mark.parametrize("fingerprint", [GOOD, {"task": GOOD["task"]}, {}])
def test_a_well_formed_or_older_fingerprint_passes(fingerprint: Any) -> None:
    assert checked_extra({"fingerprint": fingerprint}, Path("c.json"))["fingerprint"] == fingerprint


@pytest.mark.parametrize(
    "extra",
    [
        {"usage": None},
        {"cache_samples": None},
        {"elapsed_s": None},
        {"events_bytes": None},
        {"phase_s": {"seed": "x"}},
        {"phase_s": [1.0]},
        {"fingerprint": None},
    ],
)
def test_a_null_or_wrong_typed_extra_field_is_refused_as_corrupt(extra: dict[str, Any]) -> None:
    """A key that is present must have its shape: null is not "absent" (the exhaustive sweep
    of checkpoint.json found `usage: null` crashing resume with AttributeError)."""
    with pytest.raises(RunDirError, match=f"corrupt '{next(iter(extra))}'"):
        checked_extra(extra, Path("checkpoint.json"))


def test_the_extra_fields_a_run_writes_pass() -> None:
    extra = {
        "usage": {"task": {"calls": 3}},
        "cache_samples": {"task": {"hits": 1}},
        "elapsed_s": 1.5,
        "events_bytes": 10,
        "cache_fetch_seq": 0,
        "phase_s": {"seed": 0.5, "val": 2},
        "fingerprint": GOOD,
    }
    assert checked_extra(extra, Path("c.json")) == extra


@pytest.mark.parametrize("field", ["tried_children", "tried_merges", "exhausted", "partial"])
@pytest.mark.parametrize("item", [None, True, 3, ["a"]])
def test_an_id_list_with_a_non_string_item_is_a_corrupt_checkpoint(field: str, item: Any) -> None:
    """A wrong-typed id used to load and crash the next checkpoint's sort."""
    raw = EngineState().to_json()
    raw[field] = ["abc", item]
    with pytest.raises(CheckpointError, match="corrupt"):
        EngineState.from_json(raw)
