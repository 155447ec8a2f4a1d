"""The run directory (DESIGN §4): opening it (creating and locking it is creation.py),
atomic writes of the checkpoint and the derived views (the fsyncs in the background,
see durable.py; unchanged views not rewritten), the append-only event log (cut back
to the checkpoint on resume), and the loading helpers that `resume`, `show-frontier`
and `export-prompt` use.

Nothing here receives API keys or dumps the environment: the files hold the
resolved config, the engine state and what is derived from it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from gepa_cli.engine.events import Event, event_to_json
from gepa_cli.engine.state import SCHEMA_VERSION, CheckpointError, EngineState
from gepa_cli.input_limits import load_yaml
from gepa_cli.rundir.creation import fresh_run_path, lock_run_dir, make_dirs
from gepa_cli.rundir.durable import RunLock, write_atomic
from gepa_cli.rundir.files import (
    BEST_DIR,
    CACHE_FILE,
    CANDIDATES_FILE,
    CHECKPOINT_FILE,
    CONFIG_FILE,
    EVENTS_FILE,
    FRONTIER_FILE,
    SCORE_MATRIX_FILE,
    STOP_FILE,
    SUMMARY_FILE,
    RunDirError,
    check_frontier,
    damaged,
    read_candidates,
    read_json,
    read_text,
)
from gepa_cli.rundir.views import (
    candidate_record,
    frontier_data,
    safe_file_stem,
    score_matrix_csv,
)

_RESERVED_CHECKPOINT_KEYS = frozenset({"schema_version", "engine"})


def _json_line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str) + "\n"


class RunDir:
    """One run's directory and every file in it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._event_lock = threading.Lock()
        self._candidates_written: int | None = None
        self._views: dict[Path, str] = {}
        """The text of each derived view as this object last wrote it (see `_write_view`)."""

    # --- creating and opening ---------------------------------------------------------

    @staticmethod
    def create(
        runs_dir: Path, name: str, explicit: Path | None = None, now: datetime | None = None
    ) -> RunDir:
        """A fresh run directory: `runs_dir/<YYYYmmdd-HHMMSS>_<name>/` or `explicit`.

        An explicit directory may exist, empty or holding a run killed before its first
        checkpoint, but not holding a checkpoint already nor other files (a project folder).
        """
        return RunDir(fresh_run_path(runs_dir, name, explicit, now))

    @staticmethod
    def open(path: Path) -> RunDir:
        """An existing run directory (one holding config.yaml or checkpoint.json)."""
        if not path.is_dir():
            raise RunDirError(f"{path}: no such run directory")
        if not (path / CONFIG_FILE).is_file() and not (path / CHECKPOINT_FILE).is_file():
            raise RunDirError(f"{path}: not a run directory (no config.yaml or checkpoint.json)")
        return RunDir(path)

    def lock(self) -> RunLock:
        """Hold the run directory for this process; RunDirError if another one holds it."""
        return lock_run_dir(self.path)

    # --- paths ------------------------------------------------------------------------

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def cache_path(self) -> Path:
        return self.path / CACHE_FILE

    @property
    def best_dir(self) -> Path:
        return self.path / BEST_DIR

    # --- config -----------------------------------------------------------------------

    def write_config(self, config: Mapping[str, Any]) -> None:
        text = yaml.safe_dump(dict(config), sort_keys=False)
        write_atomic(self.file(CONFIG_FILE), text)

    def read_config(self) -> dict[str, Any]:
        path = self.file(CONFIG_FILE)
        text = read_text(path, "the run directory is incomplete")
        try:
            raw = load_yaml(text)  # alias expansion bounded
        except (yaml.YAMLError, RecursionError) as exc:
            raise damaged(path, f"not valid YAML ({_one_line(exc)})") from None
        if not isinstance(raw, dict):
            raise damaged(path, "expected a mapping at the top level")
        return raw

    @property
    def has_checkpoint(self) -> bool:
        return self.file(CHECKPOINT_FILE).is_file()

    def clear_stop_request(self) -> None:
        """Remove a STOP file left by the stop being resumed from."""
        self.file(STOP_FILE).unlink(missing_ok=True)

    # --- events -----------------------------------------------------------------------

    def events_size(self) -> int:
        """The size of events.jsonl in bytes (0 if absent), saved with each checkpoint."""
        try:
            return self.file(EVENTS_FILE).stat().st_size
        except FileNotFoundError:
            return 0

    def truncate_events(self, size: int) -> None:
        """Cut events.jsonl back to `size` bytes: drop what an unfinished step logged."""
        if self.events_size() > size:
            os.truncate(self.file(EVENTS_FILE), size)

    def append_event(self, event: Event) -> None:
        """Append one event to events.jsonl with a `time` key (ISO 8601, UTC). An EventSink."""
        record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds")}
        record.update(event_to_json(event))
        line = _json_line(record)
        with self._event_lock, self.file(EVENTS_FILE).open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()

    # --- checkpoint -------------------------------------------------------------------

    def save_checkpoint(self, state: EngineState, extra: Mapping[str, Any]) -> None:
        """Write checkpoint.json atomically: schema_version, the engine state, then `extra`."""
        clash = _RESERVED_CHECKPOINT_KEYS & set(extra)
        if clash:
            raise ValueError(f"checkpoint extra may not use the keys {sorted(clash)}")
        payload = {"schema_version": SCHEMA_VERSION, "engine": state.to_json(), **extra}
        write_atomic(self.file(CHECKPOINT_FILE), json.dumps(payload, ensure_ascii=False))

    def load_checkpoint(self) -> tuple[EngineState, dict[str, Any]]:
        """The engine state and the extra fields saved with it."""
        path = self.file(CHECKPOINT_FILE)
        raw = read_json(path, what="checkpoint")
        if not isinstance(raw, dict) or not isinstance(raw.get("engine"), dict):
            raise damaged(path, "not a gepa checkpoint (no 'engine' object)")
        version = raw.get("schema_version")
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise RunDirError(
                f"{path}: schema_version {version!r} is not supported "
                f"(this gepa-cli reads up to {SCHEMA_VERSION}); upgrade gepa-cli"
            )
        try:
            state = EngineState.from_json(raw["engine"])
        except CheckpointError as exc:
            raise damaged(path, _one_line(exc)) from None
        extra = {k: v for k, v in raw.items() if k not in _RESERVED_CHECKPOINT_KEYS}
        return state, extra

    # --- derived views ----------------------------------------------------------------

    def save_views(self, state: EngineState, val_ids: list[str]) -> None:
        """Write candidates.jsonl, score_matrix.csv, frontier.json and best/<module>.txt."""
        self._sync_candidates(state)
        self._write_view(self.file(SCORE_MATRIX_FILE), score_matrix_csv(state, val_ids))
        frontier = frontier_data(state, val_ids)
        self._write_view(self.file(FRONTIER_FILE), json.dumps(frontier, indent=2) + "\n")
        if state.candidates:
            self._write_best(state.candidate(state.best_id()).prompts)

    def _sync_candidates(self, state: EngineState) -> None:
        """Append the candidates not yet in candidates.jsonl; rewrite it if it disagrees."""
        ids = [c.id for c in state.candidates]
        if self._candidates_written is None:
            on_disk = self._candidate_ids_on_disk()
            if on_disk is None or on_disk != ids[: len(on_disk)]:
                self._rewrite_candidates(state)
                return
            self._candidates_written = len(on_disk)
        if self._candidates_written > len(ids):
            self._rewrite_candidates(state)
            return
        new = state.candidates[self._candidates_written :]
        if new:
            text = "".join(_json_line(candidate_record(state, c)) for c in new)
            with self.file(CANDIDATES_FILE).open("a", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
        self._candidates_written = len(ids)

    def _rewrite_candidates(self, state: EngineState) -> None:
        text = "".join(_json_line(candidate_record(state, c)) for c in state.candidates)
        write_atomic(self.file(CANDIDATES_FILE), text)
        self._candidates_written = len(state.candidates)

    def _candidate_ids_on_disk(self) -> list[str] | None:
        """The ids in candidates.jsonl ([] if absent), or None if a line is damaged."""
        if not self.file(CANDIDATES_FILE).exists():
            return []
        try:
            text = read_text(self.file(CANDIDATES_FILE), "")
            if text and not text.endswith("\n"):
                return None
            return [record["id"] for record in read_candidates(self.file(CANDIDATES_FILE))]
        except RunDirError:
            return None

    def write_best(self, prompts: Mapping[str, str]) -> None:
        """best/<module>.txt for `prompts` (the final candidate chosen on select)."""
        self._write_best(prompts)

    def _write_best(self, prompts: Mapping[str, str]) -> None:
        wanted = {
            f"{safe_file_stem(module, 'module')}.txt": text for module, text in prompts.items()
        }
        written = [self._views.get(self.best_dir / name) for name in wanted]
        if written == list(wanted.values()) and all((self.best_dir / n).exists() for n in wanted):
            return  # the same best prompts as last time, still there: no mkdir, no glob
        make_dirs(self.best_dir, exist_ok=True)
        for name, text in wanted.items():
            self._write_view(self.best_dir / name, text)
        for stale in self.best_dir.glob("*.txt"):
            if stale.name not in wanted:
                stale.unlink()

    def _write_view(self, path: Path, text: str) -> None:
        """Write a derived view unless it already holds `text` (most iterations change no
        view, and a rename over a file costs about a millisecond on ext4)."""
        if self._views.get(path) == text and path.exists():
            return
        write_atomic(path, text, durable=False)
        self._views[path] = text

    # --- summary and loading ------------------------------------------------------------

    def write_summary(self, summary: Mapping[str, Any]) -> None:
        text = json.dumps(dict(summary), indent=2, ensure_ascii=False, default=str) + "\n"
        write_atomic(self.file(SUMMARY_FILE), text)

    def read_summary(self) -> dict[str, Any]:
        return self._read_json_object(SUMMARY_FILE, "summary")

    def read_frontier(self) -> dict[str, Any]:
        path = self.file(FRONTIER_FILE)
        return check_frontier(path, self._read_json_object(FRONTIER_FILE, "frontier"))

    def load_candidates(self) -> list[dict[str, Any]]:
        """Every line of candidates.jsonl as a dict, in pool order."""
        return read_candidates(self.file(CANDIDATES_FILE))

    def _read_json_object(self, name: str, what: str) -> dict[str, Any]:
        path = self.file(name)
        raw = read_json(path, what)
        if not isinstance(raw, dict):
            raise damaged(path, "expected a JSON object")
        return raw


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
