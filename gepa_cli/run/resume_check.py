"""Whether a checkpoint can be resumed: fingerprints of the task and of the data it
was made from, the comparison that tells `gepa resume` what changed since, and the
shape check of the checkpoint's extra fields.

The task fingerprint hashes `task.type`, `options`, `prompts` and `fields` (and,
for a `python:` task, the task file's bytes); the data fingerprint holds the
sha256 of each split file with its offset and limit. Paths are recorded for the
message but not compared: moving an unchanged file does not block a resume.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gepa_cli.config import DataSpec, ExperimentConfig, SplitSpec, TaskSpec
from gepa_cli.engine.state import EngineState
from gepa_cli.rundir.directory import RunDirError

FINGERPRINT_KEY = "fingerprint"
"""The checkpoint's extra key under which the fingerprint is stored."""

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes ("missing" if it cannot be read)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError:
        return "missing"
    return digest.hexdigest()


def _value_digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _python_task_file(task_type: str) -> Path | None:
    if not task_type.startswith("python:"):
        return None
    target = task_type.removeprefix("python:").rpartition(":")[0]
    path = Path(target)
    return path if path.suffix == ".py" else None


def task_fingerprint(task: TaskSpec) -> dict[str, str]:
    """Digests of what decides the task's scores; keys name the config part."""
    parts: dict[str, Any] = {
        "type": task.type,
        "options": dict(task.options),
        "prompts": dict(task.prompts),
        "fields": dict(task.fields),
    }
    digests = {name: _value_digest(value) for name, value in parts.items()}
    code = _python_task_file(task.type)
    if code is not None:
        digests["code"] = file_sha256(code)
    return digests


def _split_fingerprint(split: SplitSpec) -> dict[str, Any]:
    return {
        "path": str(split.path),
        "sha256": file_sha256(split.path),
        "offset": split.offset,
        "limit": split.limit,
        "stride": split.stride,
    }


def data_fingerprint(data: DataSpec) -> dict[str, dict[str, Any] | None]:
    """Per split: its file's sha256, offset and limit (and path, for messages). `select` is
    always present (None without a select split), so a checkpoint written before it was
    fingerprinted (no key at all) is told apart from one without a select split."""
    splits = {"train": data.train, "val": data.val, "test": data.test}
    found: dict[str, dict[str, Any] | None] = {
        name: _split_fingerprint(s) for name, s in splits.items() if s is not None
    }
    found["select"] = _split_fingerprint(data.select) if data.select is not None else None
    return found


def run_fingerprint(cfg: ExperimentConfig) -> dict[str, Any]:
    """The fingerprint stored in the checkpoint: {"task": {...}, "data": {...}}."""
    return {"task": task_fingerprint(cfg.task), "data": data_fingerprint(cfg.task.data)}


def _task_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    names = sorted(set(old) | set(new))
    return [
        "the task file's code" if name == "code" else f"task.{name}"
        for name in names
        if old.get(name) != new.get(name)
    ]


def _split_change(name: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str:
    if old is None:
        return f"task.data.{name} (added)"
    if new is None:
        return f"task.data.{name} (removed)"
    if old.get("sha256") != new.get("sha256"):
        return f"task.data.{name} (the content of {new.get('path')} changed)"
    return f"task.data.{name} (offset/limit/stride)"


def _data_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    changes = []
    names = ("train", "val", "test", "select") if "select" in old else ("train", "val", "test")
    for name in names:
        before, after = old.get(name), new.get(name)
        same = (before is None and after is None) or (
            before is not None
            and after is not None
            and all(before.get(k) == after.get(k) for k in ("sha256", "offset", "limit"))
            and before.get("stride", 1) == after.get("stride", 1)
        )
        if not same:
            changes.append(_split_change(name, before, after))
    return changes


def describe_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between two run fingerprints, e.g. ["task.options", "task.data.val (...)"]."""
    task_old, task_new = old.get("task"), new.get("task")
    data_old, data_new = old.get("data"), new.get("data")
    changes: list[str] = []
    if isinstance(task_old, Mapping) and isinstance(task_new, Mapping):
        changes += _task_changes(task_old, task_new)
    if isinstance(data_old, Mapping) and isinstance(data_new, Mapping):
        changes += _data_changes(data_old, data_new)
    return changes


def _extra_ok(key: str, value: Any) -> bool:
    """Whether one of the checkpoint's extra fields has the shape this version writes."""
    if key in ("usage", "cache_samples"):  # {role: {name: count}}
        return isinstance(value, dict) and all(
            isinstance(row, dict) and all(type(n) is int and n >= 0 for n in row.values())
            for row in value.values()
        )
    if key == "elapsed_s":
        return type(value) in (int, float) and value >= 0
    if key in ("events_bytes", "cache_fetch_seq"):
        return type(value) is int and value >= 0
    if key == "phase_s":  # {phase: seconds}
        return isinstance(value, dict) and all(
            type(s) in (int, float) and s >= 0 for s in value.values()
        )
    return _fingerprint_ok(value)


def _fingerprint_ok(value: Any) -> bool:
    """{"task": {part: digest}, "data": {split: {field: value} | None}}; either part may
    be missing (older checkpoints), but a present one must have this shape."""
    if not isinstance(value, dict):
        return False
    task, data = value.get("task", {}), value.get("data", {})
    return (
        isinstance(task, dict)
        and all(isinstance(digest, str) for digest in task.values())
        and isinstance(data, dict)
        and all(split is None or isinstance(split, dict) for split in data.values())
    )


def checked_extra(extra: Mapping[str, Any], checkpoint: Path) -> dict[str, Any]:
    """The checkpoint's extra fields, refused (RunDirError) if one has the wrong shape."""
    keys = ("usage", "cache_samples", "elapsed_s", "events_bytes", "cache_fetch_seq", "phase_s")
    for key in (*keys, FINGERPRINT_KEY):
        if key in extra and not _extra_ok(key, extra[key]):  # null included
            raise RunDirError(f"{checkpoint}: corrupt '{key}' field")
    return dict(extra)


def check_resumable(
    run_dir: Path,
    state: EngineState,
    extra: Mapping[str, Any],
    fingerprint: Mapping[str, Any],
    val_ids: set[str],
    force: bool,
) -> None:
    """Refuse (RunDirError) to continue `state` when the task or data changed since its
    checkpoint (unless `force`), or when the val ids differ (always)."""
    recorded = extra.get(FINGERPRINT_KEY)
    changes = describe_changes(recorded, fingerprint) if recorded else []
    if changes and not force:
        raise RunDirError(
            f"{run_dir}: the task or data changed since the checkpoint "
            f"({'; '.join(changes)}); resuming would mix scores of different tasks or data. "
            "Restore them, or pass --force to resume anyway"
        )
    if state.candidates:
        scored = set(state.val_scores[state.seed_id()])
        if scored != val_ids:
            raise RunDirError(
                f"{run_dir}: the val examples' ids differ from those in the checkpoint's "
                "score matrix; a run cannot continue on another val set (not even with "
                "--force); start a new run"
            )
