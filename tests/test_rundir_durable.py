"""checkpoint.json and config.yaml are fsynced before they are renamed into place
(gepa_cli/rundir/durable.py), so a kill or a power cut leaves the old file or the new one,
never a damaged one; derived views skip the fsync."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_rundir import build_state

from gepa_cli.rundir import durable
from gepa_cli.rundir.directory import RunDir


@pytest.fixture
def order(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Records every fsync (of which final file) and rename, in order."""
    calls: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: str, dst: str | Path) -> None:
        calls.append(("rename", Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(durable.os, "fsync", fsync)
    monkeypatch.setattr(durable.os, "replace", replace)
    return calls


def test_the_checkpoint_is_fsynced_before_its_rename(tmp_path: Path, order: list) -> None:
    rundir = RunDir.create(tmp_path / "runs", "demo", None)
    order.clear()
    rundir.save_checkpoint(build_state(), {"usage": {}})
    assert [kind for kind, _ in order] == ["fsync", "rename"]
    assert ".checkpoint.json." in order[0][1] and order[1][1] == "checkpoint.json"


def test_config_is_durable_and_views_are_not(tmp_path: Path, order: list) -> None:
    rundir = RunDir.create(tmp_path / "runs", "demo", None)
    order.clear()
    rundir.write_config({"name": "demo"})
    assert [kind for kind, _ in order] == ["fsync", "rename"]
    order.clear()
    rundir.save_views(build_state(), [])
    assert order and all(kind == "rename" for kind, _ in order)
