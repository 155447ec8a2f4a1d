"""Writing run-directory files safely: `write_atomic` (temp file, fsync, rename) and the
run directory's `RunLock`.

checkpoint.json and config.yaml are written durably: flushed and fsynced before the rename,
so neither a killed process nor a power cut can leave a damaged checkpoint, only the
previous one or the new one. (A background fsync after the rename saved 3-6 ms per
checkpoint on this machine's disk; it was tried and dropped: those milliseconds do not
matter next to a model call, and a power cut right after a checkpoint could then have
left one that a resume refuses.) Derived views are rebuilt from the checkpoint, so they
skip the fsync (`durable=False`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str, durable: bool = True) -> None:
    """Replace `path` with `text`: temp file in the same dir, flush, fsync, rename.

    `durable=False` skips the fsync: still atomic for readers and across a killed
    process, only not across a power cut. For views rebuilt from the checkpoint at
    every save (score matrix, frontier, best prompts), where an fsync per file per
    iteration would dominate the framework's own time.
    """
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


class RunLock:
    """An exclusive `flock` on the run directory's lock file; the OS drops it when the
    process ends, even on SIGKILL."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
