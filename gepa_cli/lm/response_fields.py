"""The few fields gepa-cli reads from an OpenAI-compatible chat response (plain JSON),
each checked for its type: a server's odd reply costs a retry, never a crash."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def server_accounting(body: Mapping[str, Any]) -> tuple[int, int, int]:
    """(cached prompt tokens, prefill ms, decode ms) where the server reports them:
    `usage.prompt_tokens_details.cached_tokens` (OpenAI, llama.cpp) and llama.cpp's
    `timings` (`prompt_ms`, `predicted_ms`)."""
    details = mapping_of(mapping_of(body.get("usage")).get("prompt_tokens_details"))
    timings = mapping_of(body.get("timings"))
    return (
        whole_count(details.get("cached_tokens")),
        whole_count(timings.get("prompt_ms")),
        whole_count(timings.get("predicted_ms")),
    )


def mapping_of(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def whole_count(value: Any) -> int:
    """A count or a duration as a non-negative int (0 if absent or not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return 0
    return int(value) if 0 <= value < 2**63 else 0
