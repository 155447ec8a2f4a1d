"""Drives gepa-cli on the benchmark workload: writes the experiment config and runs
`gepa_cli.runner.start_run` in-process, in a subprocess of its own so that its
timing, memory and CPU are not mixed with the orchestrator's or the server's.

    python -m bench.ours CONFIG.yaml OUT.json [--display plain|none]

OUT.json gets the run's monotonic start/end (to match the server's records), its
summary counters, the peak RSS of the process, and per checkpoint the iteration,
the seconds since the previous checkpoint and the seconds spent persisting
(checkpoint.json, derived views, events.jsonl). Persistence is timed by wrapping
`RunDir` methods from outside; nothing in gepa_cli is changed.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench.servers import LABELS, SEED_INSTRUCTION

MODULE = "route"
PERSISTENCE_WRITERS = ("append_event", "save_checkpoint", "save_views")
"""RunDir methods that write the run directory; the last one ends a checkpoint."""


def write_config(
    root: Path,
    splits: dict[str, Path],
    base_url: str,
    max_metric_calls: int,
    max_concurrency: int,
    seed: int = 0,
    parallel_proposals: int = 1,
) -> Path:
    """An experiment config for the workload against `base_url`; returns its path."""
    model = {
        "model": "openai/sim",
        "base_url": base_url,
        "api_key_env": "GEPA_BENCH_UNSET_KEY",  # unset: a local server needs no key
    }
    config: dict[str, Any] = {
        "name": "bench",
        "seed": seed,
        "task": {
            "type": "classify",
            "data": {"train": str(splits["train"]), "val": str(splits["val"])},
            "prompts": {MODULE: SEED_INSTRUCTION},
            "options": {"labels": list(LABELS)},
        },
        "models": {"task": dict(model), "reflection": dict(model)},
        "budget": {"max_metric_calls": max_metric_calls},
        "search": {"minibatch_size": 3, "parallel_proposals": parallel_proposals},
        "runtime": {"max_concurrency": max_concurrency, "max_retries": 1, "request_timeout": 60},
        "output": {"runs_dir": str(root / "runs")},
    }
    path = root / "experiment.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


class PersistenceClock:
    """Wraps RunDir's writers to time them and to mark each checkpoint."""

    def __init__(self) -> None:
        self.pending_s = 0.0
        self.last_mark = time.monotonic()
        self.checkpoints: list[dict[str, float]] = []

    def timed(self, method: Callable[..., None]) -> Callable[..., None]:
        def wrapper(*args: Any, **kwargs: Any) -> None:
            started = time.monotonic()
            try:
                method(*args, **kwargs)
            finally:
                self.pending_s += time.monotonic() - started

        return wrapper

    def marking(self, method: Callable[..., None]) -> Callable[..., None]:
        """Like `timed`, and closes one iteration's record after the write."""
        timed = self.timed(method)

        def wrapper(rundir: Any, state: Any, *args: Any, **kwargs: Any) -> None:
            timed(rundir, state, *args, **kwargs)
            now = time.monotonic()
            record = {
                "iteration": float(state.iteration),
                "candidates": float(len(state.candidates)),
                "wall_s": now - self.last_mark,
                "persist_s": self.pending_s,
            }
            self.checkpoints.append(record)
            self.last_mark, self.pending_s = now, 0.0

        return wrapper


def install_clock() -> PersistenceClock:
    """Time RunDir's writers (checkpoint.json, events.jsonl, the derived views); a record
    closes after the last writer of each checkpoint (save_views, else save_checkpoint)."""
    from gepa_cli.rundir.directory import RunDir

    clock = PersistenceClock()
    writers = [name for name in PERSISTENCE_WRITERS if hasattr(RunDir, name)]
    for name in writers:
        wrap = clock.marking if name == writers[-1] else clock.timed
        setattr(RunDir, name, wrap(getattr(RunDir, name)))
    return clock


def critical_path(events_path: Path, concurrency: int) -> dict[str, int]:
    """The rounds of dependent LM calls our run could not avoid, from its events.jsonl:
    seed val in ceil(|val|/C) rounds; per iteration the parent's uncached minibatch
    examples (if any), one reflection call per module, the child's minibatch, and the
    val rounds of an accepted child. Multiply by the per-request latency for a bound."""
    rounds = {"seed_val": 0, "parent_minibatch": 0, "reflection": 0, "child_minibatch": 0}
    rounds["accepted_val"] = 0
    started: dict[str, Any] | None = None
    proposal: dict[str, Any] | None = None
    for line in events_path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        kind, calls = event["event"], event.get("metric_calls", 0)
        if kind == "SeedEvaluated":
            rounds["seed_val"] += _rounds(calls, concurrency)
        elif kind == "IterationStarted":
            started, proposal = event, None
        elif kind == "IterationSkipped" and started is not None:
            rounds["parent_minibatch"] += _rounds(calls - started["metric_calls"], concurrency)
            if event["reason"] != "all_perfect":
                rounds["reflection"] += len(started["modules"])
        elif kind == "ProposalEvaluated" and started is not None:
            child = len(started["minibatch"])
            parent = calls - started["metric_calls"] - child
            rounds["parent_minibatch"] += _rounds(parent, concurrency)
            rounds["reflection"] += len(started["modules"])
            rounds["child_minibatch"] += _rounds(child, concurrency)
            proposal = event
        elif kind == "CandidateAdded" and proposal is not None:
            rounds["accepted_val"] += _rounds(calls - proposal["metric_calls"], concurrency)
            proposal = None
    return rounds


def _rounds(calls: int, concurrency: int) -> int:
    return -(-max(0, calls) // concurrency)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(config_path: Path, display: str) -> dict[str, Any]:
    from gepa_cli.config import load_config
    from gepa_cli.run.runner import start_run

    clock = install_clock()
    cfg = load_config(config_path)
    rss_before = peak_rss_mb()
    cpu_started = time.process_time()
    started = time.monotonic()
    clock.last_mark = started
    result = start_run(cfg, config_path.parent, None, display)
    ended = time.monotonic()
    cpu_s = time.process_time() - cpu_started
    summary = result.summary
    return {
        "tool": "gepa-cli",
        "start": started,
        "end": ended,
        "wall_s": ended - started,
        "cpu_s": cpu_s,
        "metric_calls": summary["metric_calls"],
        "lm_calls": summary["lm_calls"],
        "lm_calls_cached": summary["lm_calls_cached"],
        "iterations": summary["iterations"],
        "candidates": summary["candidates"],
        "best_val_score": summary["best_val_score"],
        "stopped_because": summary["stopped_because"],
        "run_dir": str(result.run_dir),
        "peak_rss_mb_before_run": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "checkpoints": clock.checkpoints,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--display", default="plain", choices=["plain", "none"])
    args = parser.parse_args(argv)
    record = run(args.config, args.display)
    args.out.write_text(json.dumps(record, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
