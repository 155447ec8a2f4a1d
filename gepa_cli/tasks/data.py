"""Loading a dataset split from JSONL into Examples, with located error messages.

Owns `load_split` and `DataError`. Every error is one line that names the file and,
where there is one, the line: `data/train.jsonl:7: not valid JSON (...)`. A split must
be a regular file of at most `MAX_DATA_BYTES` (256 MiB; not /dev/zero, a pipe or a
device).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from gepa_cli.engine.types import Example
from gepa_cli.errors import BadInputError
from gepa_cli.input_limits import MAX_DATA_BYTES, read_regular_file


class DataError(BadInputError, ValueError):
    """A dataset file is missing or malformed; the message names file:line or file and field."""


def load_split(
    name: str,
    path: Path,
    fields: Mapping[str, str],
    required_fields: Sequence[str],
    offset: int = 0,
    limit: int | None = None,
    stride: int = 1,
    check: Callable[[Example], str | None] | None = None,
) -> list[Example]:
    """Read one split: every non-blank line of `path` is a JSON object, one Example each.

    `fields` maps the task's field names to the dataset's; `Example.data` holds every
    dataset field plus the task's names mapped in. `offset`, `stride` (every stride-th
    row from offset on) and `limit` (rows taken) select rows after reading; duplicate ids
    are only an error among the selected rows. `check`, when given (the task's
    `check_example`), vets each selected example: a message it returns becomes a
    DataError naming the file and line.
    """
    if offset < 0:
        raise DataError(f"{path}: offset of split '{name}' must be >= 0, got {offset}")
    if limit is not None and limit < 0:
        raise DataError(f"{path}: limit of split '{name}' must be >= 0, got {limit}")
    rows = list(_read_rows(path))
    examples = [_to_example(name, path, line, row, fields, required_fields) for line, row in rows]
    if stride < 1:
        raise DataError(f"{path}: stride of split '{name}' must be >= 1, got {stride}")
    picked = range(len(examples))[offset::stride][:limit]
    selected = [examples[i] for i in picked]
    selected_lines = [rows[i][0] for i in picked]
    if not selected:
        raise DataError(_empty_message(name, path, len(examples), offset, limit))
    _check_unique_ids(path, selected, selected_lines)
    if check is not None:
        _check_examples(path, selected, selected_lines, check)
    return selected


def _read_text(path: Path) -> str:
    try:
        raw = read_regular_file(path, MAX_DATA_BYTES)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a JSONL file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise DataError(f"{path}:{line}: not valid UTF-8 (byte 0x{byte})") from None


def _read_rows(path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """Yield (1-based line number, object) for every non-blank line."""
    # split on "\n" only: str.splitlines would also break inside JSON strings at U+2028 etc.
    for number, text in enumerate(_read_text(path).split("\n"), start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path}:{number}: not valid JSON ({exc.msg}, column {exc.colno})"
            ) from None
        if not isinstance(row, dict):
            kind = type(row).__name__
            raise DataError(f"{path}:{number}: expected a JSON object, got {kind}")
        yield number, row


def _to_example(
    name: str,
    path: Path,
    line: int,
    row: Mapping[str, Any],
    fields: Mapping[str, str],
    required_fields: Sequence[str],
) -> Example:
    for task_field in required_fields:
        data_field = fields.get(task_field, task_field)
        if row.get(data_field) is None:
            raise DataError(f"{path}:{line}: {_missing_field(row, data_field, task_field)}")
    data = dict(row)
    for task_field, data_field in fields.items():
        if data_field in row:
            data[task_field] = row[data_field]
    raw_id = row.get("id")
    example_id = f"{name}-{line}" if raw_id is None else str(raw_id)
    return Example(id=example_id, data=data)


def _missing_field(row: Mapping[str, Any], data_field: str, task_field: str) -> str:
    problem = (
        f"field '{data_field}' is null" if data_field in row else f"missing field '{data_field}'"
    )
    if data_field == task_field:
        return f"{problem} (required by the task; task.fields can map another field to it)"
    return f"{problem} (mapped from task field '{task_field}')"


def _check_unique_ids(path: Path, examples: Sequence[Example], lines: Sequence[int]) -> None:
    first_line: dict[str, int] = {}
    for example, line in zip(examples, lines, strict=True):
        if example.id in first_line:
            first = first_line[example.id]
            raise DataError(f"{path}:{line}: duplicate id '{example.id}' (first on line {first})")
        first_line[example.id] = line


def _check_examples(
    path: Path,
    examples: Sequence[Example],
    lines: Sequence[int],
    check: Callable[[Example], str | None],
) -> None:
    for example, line in zip(examples, lines, strict=True):
        problem = check(example)
        if problem is not None:
            raise DataError(f"{path}:{line}: {' '.join(problem.split())}")


def _empty_message(name: str, path: Path, total: int, offset: int, limit: int | None) -> str:
    if total == 0:
        return f"{path}: split '{name}' has no examples"
    return (
        f"{path}: split '{name}' is empty after offset={offset}, limit={limit} "
        f"(the file has {total} examples)"
    )
