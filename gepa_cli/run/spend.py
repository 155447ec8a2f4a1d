"""What the providers billed, counted across kills and outages.

The usage meter lives in memory and is saved with every checkpoint. Two things used
to slip past it:

- After a kill, the answers fetched since the last checkpoint were paid for, but the
  restored meter never saw them, and the resume replays them from the cache as free.
  The cache's ledger (`lm/cache_db.py`) numbers every fetched answer; a checkpoint
  stores the last number it has counted (`cache_fetch_seq`), and a resume adds the
  answers recorded after it to the meter, once, before anything else happens
  (`settle_unrecorded`). They count as calls and tokens, so `lm_calls`, `cost_usd` and
  `budget.max_cost_usd` see them.
- A step thrown away by an outage is not checkpointed, so its failed calls (`errors`),
  retries and paid answers were lost on resume. `keep_usage` writes the meter into the
  checkpoint kept (an empty-state one when the seed was not scored yet), leaving the
  engine state, the sample counters and the event-log mark as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gepa_cli.engine.state import EngineState
from gepa_cli.lm.cache import ResponseCache
from gepa_cli.lm.usage import UsageMeter
from gepa_cli.run.resume_check import FINGERPRINT_KEY
from gepa_cli.rundir.directory import RunDir

FETCH_SEQ_KEY = "cache_fetch_seq"
"""The checkpoint's extra key: the last fetched answer its usage counts."""


def recorded_mark(extra: Mapping[str, Any]) -> int:
    """The checkpoint's `cache_fetch_seq` (0 for a fresh run or an older checkpoint)."""
    mark = extra.get(FETCH_SEQ_KEY, 0)
    return mark if isinstance(mark, int) and mark >= 0 else 0


def settle_unrecorded(
    cache: ResponseCache | None, meter: UsageMeter, extra: Mapping[str, Any]
) -> int:
    """Add to `meter` the answers the cache recorded as fetched after the checkpoint's
    mark (paid for, counted by no checkpoint); return the mark the next checkpoint
    stores. Without a cache nothing can be settled now: the old mark stays."""
    mark = recorded_mark(extra)
    if cache is None:
        return mark
    for role, counts in cache.fetches_after(mark).items():
        meter.add(role, **counts)
    return cache.last_fetch_seq()


def keep_usage(
    rundir: RunDir, usage: Mapping[str, Any], mark: int, fingerprint: Mapping[str, Any]
) -> None:
    """Store `usage` (and the fetch mark it counts up to) in the run's checkpoint without
    changing what it resumes from."""
    if rundir.has_checkpoint:
        state, extra = rundir.load_checkpoint()
    else:  # the seed was never scored: a checkpoint of the empty state
        state, extra = EngineState(), {FINGERPRINT_KEY: dict(fingerprint), "events_bytes": 0}
    rundir.save_checkpoint(state, {**extra, "usage": dict(usage), FETCH_SEQ_KEY: mark})
