"""Scaling measurements: how a run's per-iteration cost behaves as it grows (from
the records `bench.ours` and `bench.reference_adapter` write), and how the embedded
model's throughput scales with llama.cpp's parallel slots.

The slot measurement needs xllamacpp and the model files, which live in the
product venv, so it runs there as its own process:

    .venv/bin/python -m bench.scaling slots OUT.json [--models smollm2-135m ...]

For each model and slot count (1, 2, 4) it starts the embedded server, warms it
up, then sends 4 requests at once (they queue when there are fewer slots) and
reports the aggregate completion tokens per second, the mean per-request decode
speed llama.cpp reports, and the process RSS with the model loaded. It reuses the
request helpers of `bench/embedded_throughput.py`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.servers import Workload

SCALING_WORKLOAD = Workload(
    train=200, val=1000, learnable_kinds=40, unlearnable_kinds=10, help_one_in=60
)
SCALING_BUDGET = 5000
EARLY_ITERATION = 10
LATE_ITERATION = 200
WINDOW = 5
"""Iterations within +-WINDOW of the early and late marks are summarised by their median."""

SLOT_COUNTS = (1, 2, 4)
CONCURRENT_REQUESTS = 4
MAX_TOKENS = {"smollm2-135m": 128, "qwen2.5-coder-1.5b": 48}


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def ours_window(checkpoints: list[dict[str, float]], center: int) -> dict[str, Any]:
    """Median wall and persistence seconds of our iterations near `center`. Iterations
    that scored a new candidate on all of val are left out (their cost is evaluation)."""
    steady = [
        row
        for previous, row in zip(checkpoints, checkpoints[1:], strict=False)
        if row["iteration"] > 0
        and abs(row["iteration"] - center) <= WINDOW
        and row["candidates"] == previous["candidates"]
    ]
    return {
        "iterations": len(steady),
        "wall_s": _median([r["wall_s"] for r in steady]),
        "persist_s": _median([r["persist_s"] for r in steady]),
    }


def reference_window(
    starts: list[float], saves: list[tuple[int, float]], center: int
) -> dict[str, Any]:
    """Median iteration time (start to next start) and state-save time near `center`."""
    durations = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    near = [d for i, d in enumerate(durations, start=1) if abs(i - center) <= WINDOW]
    save_near = [s for i, s in saves if abs(i - center) <= WINDOW and i > 0]
    return {
        "iterations": len(near),
        "wall_s": _median(near),
        "persist_s": _median(save_near),
    }


def slot_throughput(model: str, slots: int) -> dict[str, Any]:
    """Aggregate throughput of CONCURRENT_REQUESTS requests on a server with `slots` slots."""
    from openai import OpenAI

    from bench.embedded_throughput import rss_mb, timed_request
    from gepa_cli.lm.embedded import EmbeddedServer

    started = time.perf_counter()
    with EmbeddedServer(model, slots=slots) as server:
        load_s = time.perf_counter() - started
        client = OpenAI(base_url=server.base_url, api_key="embedded", max_retries=0, timeout=600)
        timed_request(client, server.model_alias)  # warm-up

        def one(_: int) -> Any:
            return timed_request(client, server.model_alias)

        began = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENT_REQUESTS) as pool:
            timings = list(pool.map(one, range(CONCURRENT_REQUESTS)))
        wall = time.perf_counter() - began
        rss = rss_mb()
    tokens = sum(t.completion_tokens for t in timings)
    decode = [t.decode_tok_s for t in timings if t.decode_tok_s]
    return {
        "model": model,
        "slots": slots,
        "requests": CONCURRENT_REQUESTS,
        "load_s": load_s,
        "wall_s": wall,
        "completion_tokens": tokens,
        "aggregate_tok_s": tokens / wall if wall else 0.0,
        "mean_request_decode_tok_s": _median(decode),
        "rss_mb": rss,
    }


def measure_slots(models: Sequence[str]) -> list[dict[str, Any]]:
    import bench.embedded_throughput as helpers

    rows = []
    for model in models:
        helpers.MAX_TOKENS = MAX_TOKENS.get(model, helpers.MAX_TOKENS)
        for slots in SLOT_COUNTS:
            try:
                rows.append(slot_throughput(model, slots))
            except Exception as exc:  # a missing model must not sink the other numbers
                error = f"{type(exc).__name__}: {exc}"
                rows.append({"model": model, "slots": slots, "error": error})
                break
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="embedded model throughput per slot count")
    parser.add_argument("command", choices=["slots"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--models", nargs="+", default=["smollm2-135m"])
    args = parser.parse_args(argv)
    rows = measure_slots(args.models)
    args.out.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
