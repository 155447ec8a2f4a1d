"""Measure an embedded model end to end: load time, RSS, tokens/s, and 2 concurrent requests.

Usage: ``python bench/embedded_throughput.py [smollm2-135m|qwen2.5-coder-1.5b ...]``. Heavy: run
it alone on the machine (llama.cpp's threads suffer badly from sharing the cores).
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from openai import OpenAI

from gepa_cli.lm.embedded import EmbeddedServer

PROMPT = "Write a short paragraph about why the sky is blue."
MAX_TOKENS = 128


@dataclass(frozen=True)
class RequestTiming:
    """One chat completion measured from the client side, plus llama.cpp's own timings."""

    seconds: float
    prompt_tokens: int
    completion_tokens: int
    decode_tok_s: float | None
    prefill_tok_s: float | None


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed_request(client: OpenAI, model: str) -> RequestTiming:
    started = time.perf_counter()
    reply = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": PROMPT}],
        temperature=0,
        max_tokens=MAX_TOKENS,
    )
    seconds = time.perf_counter() - started
    timings: dict[str, Any] = (reply.model_extra or {}).get("timings") or {}
    usage = reply.usage
    return RequestTiming(
        seconds=seconds,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        decode_tok_s=timings.get("predicted_per_second"),
        prefill_tok_s=timings.get("prompt_per_second"),
    )


def describe(timing: RequestTiming) -> str:
    decode = f"{timing.decode_tok_s:.1f}" if timing.decode_tok_s else "?"
    prefill = f"{timing.prefill_tok_s:.1f}" if timing.prefill_tok_s else "?"
    return (
        f"{timing.completion_tokens} tok in {timing.seconds:.2f}s "
        f"(decode {decode} tok/s, prefill {prefill} tok/s over {timing.prompt_tokens} tok)"
    )


def measure(name: str) -> None:
    before = rss_mb()
    started = time.perf_counter()
    with EmbeddedServer(name, slots=2) as server:
        load = time.perf_counter() - started
        print(f"{name}: ready in {load:.2f}s, RSS {before:.0f} -> {rss_mb():.0f} MB")
        client = OpenAI(base_url=server.base_url, api_key="embedded", max_retries=0)
        timed_request(client, server.model_alias)  # warm-up
        print(f"  1 request:  {describe(timed_request(client, server.model_alias))}")
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            pair = list(pool.map(lambda _: timed_request(client, server.model_alias), range(2)))
        wall = time.perf_counter() - started
        tokens = sum(t.completion_tokens for t in pair)
        print(f"  2 parallel: {tokens} tok in {wall:.2f}s = {tokens / wall:.1f} tok/s aggregate")
        for timing in pair:
            print(f"    {describe(timing)}")
        print(f"  RSS after requests: {rss_mb():.0f} MB")


if __name__ == "__main__":
    for model_name in sys.argv[1:] or ["smollm2-135m"]:
        measure(model_name)
