"""The select split is part of the run's data fingerprint: changing, adding or removing it
between run and resume is refused like a changed test split; checkpoints written before it
was fingerprinted still resume."""

from __future__ import annotations

from pathlib import Path

from gepa_cli.config.schema import DataSpec, SplitSpec
from gepa_cli.run.resume_check import data_fingerprint, describe_changes


def _data(tmp_path: Path, select: str | None, rows: str = '{"input": "a", "answer": "b"}\n'):
    for name in ("train", "val", "sel"):
        (tmp_path / f"{name}.jsonl").write_text(rows if name == "sel" else '{"input": "x"}\n')
    chosen = SplitSpec(Path(select)) if select is not None else None
    return DataSpec(
        SplitSpec(tmp_path / "train.jsonl"), SplitSpec(tmp_path / "val.jsonl"), select=chosen
    )


def _changes(old, new) -> list[str]:
    return describe_changes({"data": old}, {"data": new})


def test_adding_removing_or_editing_the_select_split_is_a_change(tmp_path: Path) -> None:
    sel = str(tmp_path / "sel.jsonl")
    without = data_fingerprint(_data(tmp_path, None))
    with_select = data_fingerprint(_data(tmp_path, sel))
    assert without["select"] is None and with_select["select"] is not None
    assert _changes(without, with_select) == ["task.data.select (added)"]
    assert _changes(with_select, without) == ["task.data.select (removed)"]
    edited = data_fingerprint(_data(tmp_path, sel, '{"input": "a", "answer": "c"}\n'))
    assert _changes(with_select, edited) == [f"task.data.select (the content of {sel} changed)"]
    assert _changes(with_select, data_fingerprint(_data(tmp_path, sel))) == []


def test_a_fingerprint_from_before_select_was_recorded_is_not_a_change(tmp_path: Path) -> None:
    new = data_fingerprint(_data(tmp_path, str(tmp_path / "sel.jsonl")))
    old = {name: value for name, value in new.items() if name != "select"}
    assert _changes(old, new) == []
