"""A checkpoint's fingerprint of the wrong shape is refused as corrupt (one error line),
never compared field by field (where a list in place of a split's record crashed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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
