"""Writing run-directory files safely: `write_atomic` (temp file, rename), the run
directory's `RunLock`, and `BackgroundSync`, which fsyncs files in a background thread.

`RunDir` writes checkpoint.json (and config.yaml) atomically and at once: the new file
is renamed into place before `save_checkpoint` returns, so a killed process (kill -9)
always leaves the latest checkpoint, complete. Only the fsync that makes it survive a
power cut as well is left to `BackgroundSync`: an fsync costs 3-6 ms on a virtual disk,
more than the rest of an iteration on a fast server, and the loop need not wait for it.
`flush()` waits for every fsync asked for so far; the run directory's lock is released
only after it, and the summary is written after it.

What this gives up: a power cut within those milliseconds after a checkpoint may, on a
filesystem without ext4's replace-on-rename ordering (`auto_da_alloc`), leave a
checkpoint that a resume refuses as damaged (one line, exit 2), where an fsync before
the rename would have left the previous one. A kill of the process loses nothing.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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

    def __init__(self, fd: int, before_release: Callable[[], None] | None = None) -> None:
        self._fd: int | None = fd
        self._before_release = before_release

    def release(self) -> None:
        if self._fd is not None:
            try:
                if self._before_release is not None:
                    self._before_release()  # the run directory's pending fsyncs
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def fsync_path(path: Path) -> None:
    """fsync the file now at `path` (a newer file renamed over it is synced instead)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BackgroundSync:
    """fsyncs files in one background thread, in order; a file already waiting for its
    fsync is not queued twice. Thread-safe; the thread starts on the first request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._waiting: dict[Path, Future[None]] = {}
        self._futures: list[Future[None]] = []

    def sync(self, path: Path) -> None:
        """fsync `path` soon; an error surfaces at the next `flush`."""
        with self._lock:
            queued = self._waiting.get(path)
            if queued is not None and not queued.running() and not queued.done():
                return  # its fsync has not started yet: it will see this write too
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gepa-fsync")
            future = self._pool.submit(fsync_path, path)
            self._waiting[path] = future
            kept = [f for f in self._futures if not f.done() or f.exception() is not None]
            self._futures = [*kept, future]  # done ones are dropped unless they failed

    def flush(self) -> None:
        """Wait until every fsync asked for so far is done; raise the first one's error."""
        with self._lock:
            futures, self._futures = self._futures, []
            self._waiting.clear()
        errors = [f.exception() for f in futures]  # waits for each
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first

    def close(self) -> None:
        """`flush`, then stop the thread."""
        try:
            self.flush()
        finally:
            with self._lock:
                pool, self._pool = self._pool, None
            if pool is not None:
                pool.shutdown(wait=True)
