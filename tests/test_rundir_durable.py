"""checkpoint.json and config.yaml are in place at once and fsynced in the background
(gepa_cli/rundir/durable.py): a kill right after `save_checkpoint` finds the new
checkpoint complete; the summary and the lock's release wait for the fsyncs."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from test_rundir import build_state

from gepa_cli.rundir import durable
from gepa_cli.rundir.directory import RunDir
from gepa_cli.rundir.durable import BackgroundSync


class GatedFsync:
    """An os.fsync that records the file it synced and can be held back."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.synced: list[str] = []
        self.real = os.fsync

    def __call__(self, fd: int) -> None:
        self.gate.wait(10)
        self.synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        self.real(fd)


@pytest.fixture
def fsync(monkeypatch: pytest.MonkeyPatch) -> GatedFsync:
    gated = GatedFsync()
    monkeypatch.setattr(durable.os, "fsync", gated)
    return gated


def test_checkpoint_is_complete_before_its_fsync_and_flush_waits_for_it(
    tmp_path: Path, fsync: GatedFsync
) -> None:
    rundir = RunDir.create(tmp_path / "runs", "demo", None)
    rundir.save_checkpoint(build_state(), {"usage": {}})
    on_disk = json.loads((rundir.path / "checkpoint.json").read_text())  # as a kill finds it
    assert on_disk["engine"]["iteration"] == 3 and fsync.synced == []
    fsync.gate.set()
    rundir.flush_to_disk()
    assert fsync.synced == [str(rundir.path / "checkpoint.json")]


def test_summary_and_lock_release_come_after_the_fsyncs(tmp_path: Path, fsync: GatedFsync) -> None:
    rundir = RunDir.create(tmp_path / "runs", "demo", None)
    with rundir.lock():
        rundir.write_config({"name": "demo"})
        rundir.save_checkpoint(build_state(), {})
        threading.Timer(0.2, fsync.gate.set).start()
        rundir.write_summary({"best_candidate": None})
        assert sorted(Path(p).name for p in fsync.synced[:2]) == ["checkpoint.json", "config.yaml"]
        rundir.save_checkpoint(build_state(), {})
    assert [Path(p).name for p in fsync.synced].count("checkpoint.json") == 2


def test_an_fsync_error_surfaces_at_flush(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(fd: int) -> None:
        raise OSError("EIO")

    monkeypatch.setattr(durable.os, "fsync", broken)
    sync = BackgroundSync()
    (tmp_path / "f").write_text("x")
    sync.sync(tmp_path / "f")
    with pytest.raises(OSError, match="EIO"):
        sync.close()
