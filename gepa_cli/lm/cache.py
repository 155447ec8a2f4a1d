"""The LM response cache: a SQLite table of completions and the LM wrapper that uses it.

`ResponseCache` stores completions under a key that hashes the model, the
endpoint identity (`cache_identity()["endpoint"]`: the base_url, the set of
replicas, `embedded/<name>` or a user-set `cache_key`), the messages, the sampling
parameters and a sample index (never the API key or timeouts). `CachedLM` wraps a
model client: a hit is returned with `cached=True` and counted in the meter without
calling the model; a miss is fetched, stored and recorded in the ledger of paid
answers (`cache_db.py`).

Sample index: the n-th identical request (same messages and parameters) made
through one `CachedLM` gets index n, in call order. Repeated calls at
temperature > 0 can therefore differ, and a replay that issues the same
requests in the same order gets the same answers. When identical requests run
concurrently, which caller gets which index is a race; this is harmless as long
as identical requests are interchangeable (same request, either answer). Across
a resume, save `CachedLM.snapshot()` in the checkpoint and `restore` it so the
counters continue where the interrupted run stopped.

Rollout index (`search.rollouts_per_example`): `CachedLM.for_rollout(i)` is a view
whose keys also carry `i`, so the i-th rollout of an example is stored apart from the
others even when its requests are identical. Rollout 0 is the plain `CachedLM`: its
keys are exactly those of a run without repeated rollouts, so existing caches stay valid.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, cast

from gepa_cli.lm.base import Completion, Message
from gepa_cli.lm.cache_db import (
    fetches_after,
    guarded,
    last_fetch_seq,
    open_cache_db,
    record_fetch,
    transaction,
)
from gepa_cli.lm.usage import UsageMeter

EXCLUDED_PARAMS = frozenset(
    {"api_key", "base_url", "timeout", "request_timeout", "max_retries", "max_concurrency"}
)
"""Parameters that never enter a cache key even if a caller passes them."""


def key_for(
    model: str,
    messages: Sequence[Message],
    params: Mapping[str, Any],
    sample_index: int,
    rollout: int = 0,
) -> str:
    """The cache key: sha256 of the canonical JSON (sorted keys) of the request. A
    `rollout` other than 0 enters the key; rollout 0 leaves it as it always was."""
    request: dict[str, Any] = {
        "model": model,
        "messages": [dict(m) for m in messages],
        "params": {k: v for k, v in params.items() if k not in EXCLUDED_PARAMS},
        "sample_index": sample_index,
    }
    if rollout:
        request["rollout"] = rollout
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """Completions in a SQLite database (WAL mode); one connection shared under a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = open_cache_db(self.path)  # CacheError if the file is damaged

    def get(self, key: str) -> Completion | None:
        """The stored completion for `key` (with cached=False as stored), or None."""
        with self._lock, guarded(self.path):
            row = self._conn.execute(
                "SELECT text, input_tokens, output_tokens, finish_reason"
                " FROM completions WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        text, input_tokens, output_tokens, finish_reason = row
        return Completion(text, input_tokens, output_tokens, False, finish_reason)

    def put(self, key: str, completion: Completion, fetched_by: str | None = None) -> None:
        """Store `completion` under `key`, replacing any earlier entry; `fetched_by` (a
        role) also records it in the ledger of answers paid for (see cache_db.py)."""
        with self._lock, guarded(self.path), transaction(self._conn):
            self._conn.execute(
                "INSERT OR REPLACE INTO completions"
                " (key, text, input_tokens, output_tokens, finish_reason) VALUES (?, ?, ?, ?, ?)",
                (
                    key,
                    completion.text,
                    completion.input_tokens,
                    completion.output_tokens,
                    completion.finish_reason,
                ),
            )
            if fetched_by is not None:
                tokens = (completion.input_tokens, completion.output_tokens)
                record_fetch(self._conn, fetched_by, *tokens)

    def last_fetch_seq(self) -> int:
        """The number of the last answer recorded as fetched from a provider (0: none)."""
        with self._lock, guarded(self.path):
            return last_fetch_seq(self._conn)

    def fetches_after(self, seq: int) -> dict[str, dict[str, int]]:
        """Per role, the answers fetched after `seq`: {"calls", "input_tokens", "output_tokens"}."""
        with self._lock, guarded(self.path):
            return fetches_after(self._conn, seq)

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._conn.execute("SELECT COUNT(*) FROM completions").fetchone()
        return int(count)

    def close(self) -> None:
        """Close the connection (SQLite folds the WAL back into the main file)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class CacheableLM(Protocol):
    """An LM that can describe what determines its replies (see OpenAIChatLM)."""

    name: str
    role: str

    def complete(self, messages: Sequence[Message]) -> Completion: ...

    def cache_identity(self) -> dict[str, Any]: ...


def with_temperature(lm: CacheableLM, temperature: float) -> CacheableLM:
    """`lm` sampling at `temperature` if it can change it, else `lm` itself."""
    change = getattr(lm, "with_temperature", None)
    return lm if change is None else cast(CacheableLM, change(temperature))


class CachedLM:
    """An LM that answers from a ResponseCache first and asks `inner` only on a miss."""

    def __init__(
        self, inner: CacheableLM, cache: ResponseCache, meter: UsageMeter, ledger: bool = True
    ) -> None:
        self.inner = inner
        self.ledger = ledger
        """Record fetched answers as paid by the run (not for `gepa eval`)."""
        self.cache = cache
        self.meter = meter
        self.name = inner.name
        self.role = inner.role
        self._lock = threading.Lock()
        self._sample_counts: dict[str, int] = {}
        self.rollout = 0
        """The rollout index this view's keys carry (see `for_rollout`)."""

    def cache_identity(self) -> dict[str, Any]:
        return self.inner.cache_identity()

    def with_temperature(self, temperature: float) -> CachedLM:
        """The inner model at `temperature` behind the same cache and sample counters."""
        hotter = copy.copy(self)  # shares the lock and the counters, so checkpoints see both
        hotter.inner = with_temperature(self.inner, temperature)
        return hotter

    def for_rollout(self, index: int) -> CachedLM:
        """This model behind the same cache and sample counters, keying its requests by
        rollout `index` (0: the keys of this model itself)."""
        view = copy.copy(self)  # shares the lock and the counters, so checkpoints see it
        view.rollout = index
        return view

    def complete(self, messages: Sequence[Message]) -> Completion:
        """A cached reply (cached=True) if there is one, else the inner model's, then stored."""
        params = self.inner.cache_identity()
        model = str(params.get("model", self.inner.name))
        base = key_for(model, messages, params, 0, self.rollout)
        sample_index = self._next_sample_index(base)
        key = key_for(model, messages, params, sample_index, self.rollout)
        hit = self.cache.get(key)
        if hit is not None:
            self.meter.add(self.role, cached_calls=1)
            return replace(hit, cached=True)
        completion = self.inner.complete(messages)
        self.cache.put(key, completion, fetched_by=self.role if self.ledger else None)
        return completion

    def snapshot(self) -> dict[str, int]:
        """The sample counters (request key -> requests made so far), for a checkpoint."""
        with self._lock:
            return dict(self._sample_counts)

    def restore(self, snapshot: Mapping[str, int]) -> None:
        """Continue counting from a checkpoint's `snapshot()`."""
        with self._lock:
            self._sample_counts = {str(k): int(v) for k, v in snapshot.items()}

    def _next_sample_index(self, request_key: str) -> int:
        with self._lock:
            index = self._sample_counts.get(request_key, 0)
            self._sample_counts[request_key] = index + 1
            return index
