"""Where `-o FILE` may write (`gepa export-prompt -o`, `gepa report -o`).

A command writing a user-named file must never overwrite a run directory's own
files: `-o RUN/checkpoint.json` would make the run impossible to resume. Refused,
with exit 2 and one line: any file a run directory manages (`config.yaml`,
`checkpoint.json`, `candidates.jsonl`, `score_matrix.csv`, `frontier.json`,
`summary.json`, `events.jsonl`, `cache.sqlite` and its journal files, `report.html`
unless the command writes the report, `.lock`, `STOP`, anything under `best/` or
`evals/`), whether named directly, through `..` or through a symbolic link; a path
that is a directory; a path whose parent directory does not exist (unless the command
creates it, as `gepa report` does). A run directory is
one holding `checkpoint.json` or `.lock` (every run creates it when it starts).
"""

from __future__ import annotations

import os
from pathlib import Path

from gepa_cli.rundir import files as rd

MANAGED_FILES = frozenset(
    {
        rd.CONFIG_FILE, rd.CHECKPOINT_FILE, rd.CANDIDATES_FILE, rd.SCORE_MATRIX_FILE,
        rd.FRONTIER_FILE, rd.SUMMARY_FILE, rd.EVENTS_FILE, rd.CACHE_FILE,
        f"{rd.CACHE_FILE}-wal", f"{rd.CACHE_FILE}-shm", f"{rd.CACHE_FILE}-journal",
        rd.LOCK_FILE, rd.STOP_FILE, "report.html",
    }
)  # fmt: skip
"""The names a run directory owns at its top level."""

MANAGED_DIRS = frozenset({rd.BEST_DIR, "evals"})
"""Folders of a run directory whose content the run writes."""


class OutputPathError(rd.RunDirError):
    """`-o` names a file that must not be written (exit 2, one line)."""


def is_run_directory(path: Path) -> bool:
    """Whether `path` is a run directory (it holds checkpoint.json or .lock)."""
    return (path / rd.CHECKPOINT_FILE).is_file() or (path / rd.LOCK_FILE).exists()


def check_output_path(
    output: Path, allowed: frozenset[str] = frozenset(), creates_parent: bool = False
) -> Path:
    """`output` if `-o` may write it; OutputPathError naming the problem otherwise.

    `allowed` names managed files the calling command owns (`report.html` for
    `gepa report`); `creates_parent` says the command makes a missing parent directory.
    """
    try:
        resolved = Path(os.path.realpath(output))
    except (OSError, ValueError) as exc:
        raise OutputPathError(f"-o {output}: unusable path ({exc})") from None
    if resolved.is_dir():
        raise OutputPathError(f"-o {output}: is a directory; give a file path")
    if not creates_parent and not resolved.parent.is_dir():
        raise OutputPathError(f"-o {output}: the directory {output.parent} does not exist")
    owner = _managed_by(resolved, allowed)
    if owner is not None:
        raise OutputPathError(
            f"-o {output}: refusing to overwrite {resolved.relative_to(owner)}, a file the "
            f"run directory {owner} manages; write somewhere else"
        )
    return output


def _managed_by(path: Path, allowed: frozenset[str]) -> Path | None:
    """The run directory that manages `path` (unless `allowed` names it), or None."""
    parent = path.parent
    if path.name in MANAGED_FILES - allowed and is_run_directory(parent):
        return parent
    for folder in path.parents:
        if folder.name in MANAGED_DIRS and is_run_directory(folder.parent):
            return folder.parent
    return None


def write_output(output: Path, text: str) -> None:
    """Write `text` to `output` (already checked); a failure is one line, exit 2."""
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputPathError(f"-o {output}: cannot write ({exc.strerror or exc})") from None
