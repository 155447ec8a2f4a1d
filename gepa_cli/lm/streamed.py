"""Reading a streamed chat reply and stopping it where the rest is waste (`reply_cut.py`).

The openai client's stream yields chunks; this module gathers their text, asks a
`ReplyCut` after each one whether to go on, and closes the stream when it says stop, which
drops the connection: llama.cpp then stops generating. Token accounting comes from the
last usage the server sent (`stream_options.include_usage`), or, for a reply cut before
its end, from llama.cpp's per-chunk `timings` (`timings_per_token`: prompt tokens computed
and reused, tokens generated so far); a server that reports neither gets the generated
count from the number of text chunks and no prompt count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gepa_cli.lm.reply_cut import ReplyCut
from gepa_cli.lm.response_fields import whole_count


@dataclass(frozen=True)
class StreamedReply:
    """A streamed reply, whole or cut, with what the server reported of its cost."""

    text: str
    finish_reason: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    prefill_ms: int = 0
    decode_ms: int = 0


@dataclass
class _Tally:
    text_chunks: int = 0
    finish_reason: str | None = None
    usage: Any = None
    timings: Mapping[str, Any] | None = None


def read_stream(chunks: Iterable[Any], cut: ReplyCut, close: Callable[[], None]) -> StreamedReply:
    """Gather a streamed reply, closing the stream as soon as `cut` says the rest is waste."""
    tally = _Tally()
    for chunk in chunks:
        _note(chunk, tally)
        delta = _delta_text(chunk)
        if not delta:
            continue
        tally.text_chunks += 1
        if cut.feed(delta):
            close()
            return _reply(cut.text, f"cut_{cut.reason}", tally)
    return _reply(cut.text, tally.finish_reason, tally)


def _note(chunk: Any, tally: _Tally) -> None:
    """Keep the chunk's usage, llama.cpp timings and finish reason."""
    usage = getattr(chunk, "usage", None)
    if usage is not None:
        tally.usage = usage
    extra = getattr(chunk, "model_extra", None) or {}
    timings = extra.get("timings") if isinstance(extra, Mapping) else None
    if isinstance(timings, Mapping):
        tally.timings = timings
    for choice in getattr(chunk, "choices", None) or []:
        if getattr(choice, "finish_reason", None):
            tally.finish_reason = choice.finish_reason


def _delta_text(chunk: Any) -> str:
    choices = getattr(chunk, "choices", None) or []
    if not choices:
        return ""
    delta = getattr(choices[0], "delta", None)
    content = getattr(delta, "content", None)
    return content if isinstance(content, str) else ""


def _reply(text: str, finish_reason: str | None, tally: _Tally) -> StreamedReply:
    timings = tally.timings or {}
    computed, reused = whole_count(timings.get("prompt_n")), whole_count(timings.get("cache_n"))
    usage = tally.usage
    if usage is not None:
        details = getattr(usage, "prompt_tokens_details", None)
        cached = whole_count(getattr(details, "cached_tokens", None)) if details else reused
        input_tokens = whole_count(getattr(usage, "prompt_tokens", 0))
        output_tokens = whole_count(getattr(usage, "completion_tokens", 0))
    else:
        cached, input_tokens = reused, computed + reused
        output_tokens = whole_count(timings.get("predicted_n")) or tally.text_chunks
    return StreamedReply(
        text, finish_reason, input_tokens, output_tokens, cached,
        whole_count(timings.get("prompt_ms")), whole_count(timings.get("predicted_ms")),
    )  # fmt: skip
