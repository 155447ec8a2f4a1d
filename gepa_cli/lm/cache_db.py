"""The SQLite side of the response cache: opening and checking the file, turning a
damaged database into one line, and the ledger of answers fetched from a provider.

`open_cache_db` refuses a `cache.sqlite` that is not a database, is truncated or fails
SQLite's quick check with a `CacheError` (exit 2) that says what to do: delete the
file (its answers are asked for again) or run with `--no-cache`.

The `fetches` table records every answer a run fetched from a provider (role and
tokens, in order, `seq` increasing). A checkpoint stores the highest `seq` it has
counted; after a kill the answers fetched since were paid for but are counted by no
checkpoint, and a resume replays them from the cache for free, so `fetches_after`
lets the resume add them to the usage once (see `run/spend.py`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gepa_cli.errors import BadInputError

COMPLETIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    finish_reason TEXT
)
"""
FETCHES_SCHEMA = """
CREATE TABLE IF NOT EXISTS fetches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    role TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL
)
"""


class CacheError(BadInputError):
    """The response cache file is damaged or unusable (one line, exit 2)."""


def cache_error(path: Path, exc: BaseException) -> CacheError:
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return CacheError(
        f"{path}: not a usable response cache ({detail}); delete the file (its answers "
        "will be asked for again) or run with --no-cache"
    )


@contextmanager
def guarded(path: Path) -> Iterator[None]:
    """Turn an SQLite failure inside the block into a CacheError naming `path`."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise cache_error(path, exc) from None


def open_cache_db(path: Path) -> sqlite3.Connection:
    """A connection to the cache at `path` (created if missing), checked to be sound."""
    with guarded(path):
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            (verdict,) = conn.execute("PRAGMA quick_check(1)").fetchone()
            if verdict != "ok":
                raise sqlite3.DatabaseError(str(verdict))
            _create_schema(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            conn.close()
            raise
    return conn


def _create_schema(conn: sqlite3.Connection) -> None:
    """The tables (if missing) and WAL mode, without fsyncs: creating an empty cache and
    switching it to WAL synced three times (~20 ms, a tenth of a short run). Nothing is
    stored yet, so a power cut here loses nothing; at worst the next open finds a
    damaged file and says to delete it. On an existing cache all of it is a no-op.
    Answers are written with synchronous=NORMAL, as before."""
    conn.execute("PRAGMA synchronous=OFF")
    with transaction(conn):
        conn.execute(COMPLETIONS_SCHEMA)
        conn.execute(FETCHES_SCHEMA)
    conn.execute("PRAGMA journal_mode=WAL")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """The block's statements as one transaction (the connection is in autocommit mode)."""
    conn.execute("BEGIN")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def record_fetch(
    conn: sqlite3.Connection, role: str, input_tokens: int, output_tokens: int
) -> None:
    conn.execute(
        "INSERT INTO fetches (role, input_tokens, output_tokens) VALUES (?, ?, ?)",
        (role, input_tokens, output_tokens),
    )


def last_fetch_seq(conn: sqlite3.Connection) -> int:
    (seq,) = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM fetches").fetchone()
    return int(seq)


def fetches_after(conn: sqlite3.Connection, seq: int) -> dict[str, dict[str, int]]:
    """Per role: the answers fetched after `seq` (calls) and their tokens."""
    rows = conn.execute(
        "SELECT role, COUNT(*), SUM(input_tokens), SUM(output_tokens) FROM fetches"
        " WHERE seq > ? GROUP BY role",
        (seq,),
    ).fetchall()
    return {
        str(role): {"calls": int(n), "input_tokens": int(tin or 0), "output_tokens": int(tout or 0)}
        for role, n, tin, tout in rows
    }
