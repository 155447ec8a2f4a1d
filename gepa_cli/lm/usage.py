"""Thread-safe accounting of model usage per role ("task", "reflection", ...).

A `UsageMeter` counts, for each role: requests answered by the model (`calls`),
requests answered from the response cache (`cached_calls`), input and output
tokens, calls that failed for good (`errors`) and retry attempts (`retries`).
Its snapshot is a plain dict so a checkpoint can store it and a resumed run can
continue its counts with `restore`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

USAGE_FIELDS: tuple[str, ...] = (
    "calls",
    "cached_calls",
    "input_tokens",
    "output_tokens",
    "errors",
    "retries",
    "prompt_tokens_computed",
    "prefill_ms",
    "decode_ms",
    "replies_cut",
)
"""The counters kept for every role, in snapshot order. `prompt_tokens_computed` are the
prompt tokens the server actually computed (sent minus those it reported as cached, e.g.
llama.cpp's or OpenAI's `prompt_tokens_details.cached_tokens`); `prefill_ms` and
`decode_ms` are the server's own timings where it reports them (llama.cpp does);
`replies_cut` counts streamed replies stopped early (`models.<role>.stream_cut`)."""


class UsageMeter:
    """Counters per role, safe to update from many threads at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = {}

    def add(self, role: str, **counts: int) -> None:
        """Add `counts` (field name -> amount) to `role`'s counters.

        Example: `meter.add("task", calls=1, input_tokens=120, output_tokens=8)`.
        Raises ValueError for a field that is not in USAGE_FIELDS.
        """
        unknown = sorted(set(counts) - set(USAGE_FIELDS))
        if unknown:
            raise ValueError(f"unknown usage field(s): {', '.join(unknown)}")
        with self._lock:
            row = self._row(role)
            for field_name, amount in counts.items():
                row[field_name] += int(amount)

    def snapshot(self) -> dict[str, dict[str, int]]:
        """A deep copy of every role's counters: {role: {field: count}}."""
        with self._lock:
            return {role: dict(row) for role, row in self._counts.items()}

    def restore(self, snapshot: Mapping[str, Mapping[str, int]]) -> None:
        """Replace all counters with `snapshot` (as made by `snapshot()`).

        Missing fields count as 0; unknown fields are ignored, so a snapshot from
        an older version still loads.
        """
        restored = {
            str(role): {name: int(row.get(name, 0)) for name in USAGE_FIELDS}
            for role, row in snapshot.items()
        }
        with self._lock:
            self._counts = restored

    def role_usage(self, role: str) -> dict[str, int]:
        """The counters of one role (all zero if it was never used)."""
        with self._lock:
            row = self._counts.get(role)
            return dict(row) if row is not None else dict.fromkeys(USAGE_FIELDS, 0)

    def total_calls(self) -> int:
        """Requests answered by a model, over all roles (cache hits excluded)."""
        return self._total("calls")

    def total_cached_calls(self) -> int:
        """Requests answered from the response cache, over all roles."""
        return self._total("cached_calls")

    def total_tokens(self) -> int:
        """Input plus output tokens spent, over all roles (cache hits spend none)."""
        return self._total("input_tokens") + self._total("output_tokens")

    def _total(self, field_name: str) -> int:
        with self._lock:
            return sum(row[field_name] for row in self._counts.values())

    def _row(self, role: str) -> dict[str, int]:
        row = self._counts.get(role)
        if row is None:
            row = dict.fromkeys(USAGE_FIELDS, 0)
            self._counts[role] = row
        return row
