"""Reading a run directory's files for the report without raising: a missing file
reads as None (or empty), an unreadable or damaged one also adds a note to `notes`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gepa_cli.report.coerce import as_float, as_mapping
from gepa_cli.report.values import ScoreMatrix


def _read_text(path: Path, notes: list[str]) -> str | None:
    """The file's text; None if it is missing or unreadable (noted)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        notes.append(f"{path.name}: unreadable ({type(exc).__name__}); left out")
        return None


def read_json(path: Path, notes: list[str]) -> Mapping[str, Any] | None:
    text = _read_text(path, notes)
    try:
        raw = json.loads(text) if text is not None else None
    except json.JSONDecodeError:
        raw = "damaged"
    if raw is not None and not isinstance(raw, dict):
        notes.append(f"{path.name}: not a valid JSON object; left out")
    return raw if isinstance(raw, dict) else None


def read_jsonl(path: Path, notes: list[str]) -> list[Mapping[str, Any]]:
    records: list[Mapping[str, Any]] = []
    damaged = 0
    for line in (_read_text(path, notes) or "").splitlines():
        try:
            record = json.loads(line) if line.strip() else {}
        except json.JSONDecodeError:
            record = None
        if isinstance(record, dict):
            records.extend([record] if record else [])
        else:
            damaged += 1
    if damaged:
        notes.append(f"{path.name}: {damaged} damaged line(s) skipped")
    return records


def read_config(path: Path, notes: list[str]) -> Mapping[str, Any]:
    try:
        return as_mapping(yaml.safe_load(_read_text(path, notes) or "{}"))
    except yaml.YAMLError:
        notes.append(f"{path.name}: not valid YAML; left out")
        return {}


def read_matrix(path: Path, notes: list[str]) -> ScoreMatrix | None:
    text = _read_text(path, notes)
    try:
        rows = [row for row in csv.reader(io.StringIO(text or "")) if row]
    except csv.Error:
        notes.append(f"{path.name}: not valid CSV; left out")
        return None
    if not rows:
        return None
    example_ids = tuple(rows[0][1:])
    padded = [row[1:] + [""] * (len(example_ids) - len(row) + 1) for row in rows[1:]]
    cells = tuple(tuple(_csv_score(cell) for cell in row[: len(example_ids)]) for row in padded)
    return ScoreMatrix(example_ids, tuple(row[0] for row in rows[1:]), cells)


def _csv_score(cell: str) -> float | None:
    try:
        return as_float(float(cell))
    except ValueError:
        return None
