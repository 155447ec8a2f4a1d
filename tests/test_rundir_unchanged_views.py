"""Derived views are rewritten only when their text changes (gepa_cli/rundir/directory.py):
an unchanged view keeps its file, a changed or deleted one is written again."""

from __future__ import annotations

from pathlib import Path

from test_rundir import VAL_IDS, build_state

from gepa_cli.rundir.directory import RunDir

VIEWS = ("score_matrix.csv", "frontier.json", "best/solve.txt", "best/check.txt")


def inodes(run: Path) -> dict[str, int]:
    return {name: (run / name).stat().st_ino for name in VIEWS}


def test_unchanged_views_are_not_rewritten_and_changed_ones_are(tmp_path: Path) -> None:
    rundir = RunDir.create(tmp_path / "runs", "demo", None)
    rundir.save_views(build_state(2), VAL_IDS)
    first = inodes(rundir.path)
    rundir.save_views(build_state(2), VAL_IDS)
    assert inodes(rundir.path) == first  # an atomic rewrite would give new inodes
    (rundir.path / "frontier.json").unlink()
    rundir.save_views(build_state(3), VAL_IDS)  # a new best candidate: every view changes
    assert (rundir.path / "frontier.json").is_file()
    changed = ("score_matrix.csv", "frontier.json", "best/check.txt")  # solve.txt is as B's
    assert all(inodes(rundir.path)[name] != first[name] for name in changed)
    assert inodes(rundir.path)["best/solve.txt"] == first["best/solve.txt"]
    assert "Check units" in (rundir.path / "best/check.txt").read_text()


def test_a_new_run_dir_object_writes_every_view_again(tmp_path: Path) -> None:
    rundir = RunDir.create(tmp_path / "runs", "demo", None)
    rundir.save_views(build_state(), VAL_IDS)
    (rundir.path / "score_matrix.csv").write_text("edited by hand\n")
    RunDir(rundir.path).save_views(build_state(), VAL_IDS)
    assert (rundir.path / "score_matrix.csv").read_text().startswith("candidate,")
