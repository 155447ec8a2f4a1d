"""The LM protocol every model client implements, and the values it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from gepa_cli.errors import RuntimeFailure

Message = dict[str, str]
"""A chat message: {"role": "system"|"user"|"assistant", "content": "..."}."""


@dataclass(frozen=True)
class Completion:
    """One model reply with its accounting."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached: bool = False
    finish_reason: str | None = None
    latency_s: float = 0.0
    """Wall time of the request that produced it (0 for a cache replay)."""
    cached_input_tokens: int = 0
    """Prompt tokens the server reused from its prompt cache instead of computing."""
    prefill_ms: int = 0
    decode_ms: int = 0
    """The server's own prompt-processing and generation times, where it reports them."""


class LMError(RuntimeFailure):
    """A model call failed for good (after retries); the message says why."""


class LM(Protocol):
    """A chat model. Implementations are thread-safe: the evaluator calls them concurrently."""

    name: str

    def complete(self, messages: Sequence[Message]) -> Completion: ...
