"""Making and claiming a run directory: the path of a fresh one (timestamped under
`runs_dir`, or an explicit new or empty directory) and the lock that keeps a second
process out of it."""

from __future__ import annotations

import fcntl
import os
from datetime import datetime
from pathlib import Path

from gepa_cli.rundir.durable import RunLock
from gepa_cli.rundir.files import CHECKPOINT_FILE, LOCK_FILE, STOP_FILE, RunDirError
from gepa_cli.rundir.views import safe_file_stem


def fresh_run_path(
    runs_dir: Path, name: str, explicit: Path | None = None, now: datetime | None = None
) -> Path:
    """A fresh run directory, created: `runs_dir/<YYYYmmdd-HHMMSS>_<name>/` or `explicit`
    (see `RunDir.create`)."""
    if explicit is not None:
        if (explicit / CHECKPOINT_FILE).exists():
            raise RunDirError(
                f"{explicit} already holds a run (checkpoint.json); "
                f"use `gepa resume {explicit}` or choose another --run-dir"
            )
        if _holds_foreign_files(explicit):
            raise RunDirError(
                f"{explicit} is a directory with other files in it, not a run directory; "
                "give --run-dir a new or empty directory"
            )
        make_dirs(explicit, exist_ok=True)
        return explicit
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}_{safe_file_stem(name)}"
    make_dirs(runs_dir, exist_ok=True)
    for attempt in range(1, 1000):
        path = runs_dir / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise RunDirError(f"{path}: cannot create directory ({exc.strerror})") from None
        return path
    raise RunDirError(f"{runs_dir}: too many runs named {base}")


def lock_run_dir(run_path: Path) -> RunLock:
    """Hold `run_path` for this process; RunDirError if another one holds it."""
    path = run_path / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RunDirError(f"{path}: cannot open the lock file ({exc.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        who = f" (pid {holder})" if holder.isdigit() else ""
        raise RunDirError(
            f"{run_path} is in use by another gepa process{who}; wait for it to end, "
            f"or stop it cleanly with: touch {run_path / STOP_FILE}"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    return RunLock(fd)


def _holds_foreign_files(path: Path) -> bool:
    """Whether `path` is a non-empty directory that was never a run directory (no .lock)."""
    try:
        return path.is_dir() and not (path / LOCK_FILE).exists() and any(path.iterdir())
    except OSError:
        return False


def make_dirs(path: Path, exist_ok: bool) -> None:
    try:
        path.mkdir(parents=True, exist_ok=exist_ok)
    except OSError as exc:
        raise RunDirError(f"{path}: cannot create directory ({exc.strerror})") from None
