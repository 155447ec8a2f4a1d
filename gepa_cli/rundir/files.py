"""The names of a run directory's files and how they are read back.

Every reader here turns what can be wrong with a file (missing, unreadable, not
UTF-8, not JSON, a value of the wrong type) into one `RunDirError` line that names
the file and says what to do, never a traceback: `candidates.jsonl`, `frontier.json`
and `summary.json` are views `gepa resume RUN` rewrites from the checkpoint; a damaged
`checkpoint.json` or `config.yaml` cannot be rebuilt.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gepa_cli.errors import BadInputError

CONFIG_FILE = "config.yaml"
CHECKPOINT_FILE = "checkpoint.json"
CANDIDATES_FILE = "candidates.jsonl"
SCORE_MATRIX_FILE = "score_matrix.csv"
FRONTIER_FILE = "frontier.json"
SUMMARY_FILE = "summary.json"
EVENTS_FILE = "events.jsonl"
CACHE_FILE = "cache.sqlite"
BEST_DIR = "best"
LOCK_FILE = ".lock"
STOP_FILE = "STOP"

_REBUILT = "`gepa resume` on the run directory rewrites it from checkpoint.json"
HINTS = {
    CHECKPOINT_FILE: "the run cannot be resumed from it; restore the file or start a new run",
    CONFIG_FILE: "restore the file, or start a new run",
    CANDIDATES_FILE: _REBUILT,
    FRONTIER_FILE: _REBUILT,
    SUMMARY_FILE: _REBUILT,
}
"""What to do about a damaged file, by name."""


class RunDirError(BadInputError):
    """A run directory is missing, not a run directory, or holds unreadable files."""


def damaged(path: Path, problem: str, line: int | None = None) -> RunDirError:
    """`path[:line]: problem; <what to do>` as a RunDirError."""
    hint = HINTS.get(path.name)
    where = f"{path}:{line}" if line is not None else str(path)
    return RunDirError(f"{where}: {problem}" + (f"; {hint}" if hint else ""))


def read_text(path: Path, missing: str) -> str:
    """The file's text; RunDirError if it is missing (`missing` says why), unreadable
    or not UTF-8."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RunDirError(f"{path}: missing; {missing}") from None
    except OSError as exc:
        raise damaged(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise damaged(path, f"damaged: not UTF-8 text (byte {exc.start})") from None


def read_json(path: Path, what: str) -> Any:
    """The JSON value in `path` (a `what`: "checkpoint", "frontier", ...)."""
    text = read_text(path, f"no {what} was written yet")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = (
            f" at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            if isinstance(exc, json.JSONDecodeError)
            else " (nested too deeply)"
        )
        raise damaged(path, f"corrupt {what} (invalid JSON{where})") from None


def read_candidates(path: Path) -> list[dict[str, Any]]:
    """Every record of candidates.jsonl, each checked to have the fields' types."""
    text = read_text(path, "the run has not scored its seed yet")
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            raise damaged(path, "invalid JSON", number) from None
        if not _is_candidate(record):
            raise damaged(path, "not a candidate record", number)
        records.append(record)
    return records


def _is_candidate(record: Any) -> bool:
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return False
    prompts, parents = record.get("prompts", {}), record.get("parents", [])
    return (
        isinstance(prompts, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in prompts.items())
        and isinstance(parents, list)
        and all(isinstance(p, str) for p in parents)
        and isinstance(record.get("origin", ""), str)
        and _is_number_or_none(record.get("val_score"))
        and _is_number_or_none(record.get("iteration"))
    )


def _is_number_or_none(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_frontier(path: Path, frontier: dict[str, Any]) -> dict[str, Any]:
    """`frontier` (frontier.json's content) if every part has the type the writer gives it."""
    examples, members = frontier.get("examples"), frontier.get("non_dominated")
    best = frontier.get("best_candidate")
    ok = (
        isinstance(examples, list)
        and isinstance(members, list)
        and (best is None or isinstance(best, str))
        and all(_is_frontier_example(ex) for ex in examples)
        and all(_is_frontier_member(m) for m in members)
    )
    if not ok:
        raise damaged(path, "not a frontier written by gepa (a part is missing or mistyped)")
    return frontier


def _is_frontier_example(example: Any) -> bool:
    return (
        isinstance(example, dict)
        and isinstance(example.get("example_id"), str)
        and _is_number_or_none(example.get("best_score"))
        and example.get("best_score") is not None
        and isinstance(example.get("candidates"), list)
        and all(isinstance(c, str) for c in example["candidates"])
    )


def _is_frontier_member(member: Any) -> bool:
    return (
        isinstance(member, dict)
        and isinstance(member.get("id"), str)
        and isinstance(member.get("wins", 0), int)
        and not isinstance(member.get("wins", 0), bool)
        and _is_number_or_none(member.get("mean_val_score"))
    )
