"""The OpenAI-compatible chat client: concurrency limits, retries, timeouts, token accounting.

`OpenAIChatLM` implements the LM protocol over the synchronous `openai.OpenAI`
client against any OpenAI-compatible server (OpenAI, vLLM, SGLang, Ollama,
llama.cpp). It is safe to call from many threads: at most `max_concurrency`
requests are in flight per endpoint, shared through `endpoint_semaphore`.
The openai client's own retries are disabled; this module retries 408/409/429,
5xx, timeouts, connection errors and empty replies with jittered exponential
backoff, and fails with a one-line `LMError` naming the model and endpoint.
The API key is handed to the openai client only: never logged, stored or shown.
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import openai

from gepa_cli.lm.api_errors import one_line, status_failure
from gepa_cli.lm.base import Completion, LMError, Message
from gepa_cli.lm.connections import endpoint_semaphore, shared_client
from gepa_cli.lm.endpoint import DEFAULT_BASE_URL, endpoint_key
from gepa_cli.lm.reply_cut import ReplyCut
from gepa_cli.lm.response_fields import mapping_of, server_accounting, whole_count
from gepa_cli.lm.streamed import StreamedReply, read_stream
from gepa_cli.lm.usage import UsageMeter

PLACEHOLDER_API_KEY = "no-key"
"""Sent to a custom base_url when no key is configured; local servers ignore it.

Passing None instead would make the openai client read OPENAI_API_KEY and send the
user's OpenAI key to an arbitrary server.
"""

BACKOFF_BASE_S = 0.5
BACKOFF_FACTOR = 2.0
BACKOFF_CAP_S = 30.0


@dataclass(frozen=True)
class _Attempt:
    """The outcome of one HTTP request: a completion, or an error and whether to retry."""

    completion: Completion | None = None
    error: str = ""
    retryable: bool = False
    wait_s: float | None = None
    """A wait the server asked for (Retry-After), used instead of the backoff."""


def _connect(
    where: str, base_url: str | None, api_key: str | None, request_timeout: float
) -> tuple[openai.OpenAI | None, str | None]:
    """The shared openai client for the endpoint, or (None, why): OpenAI's own endpoint
    without an API key."""
    if base_url is None and api_key is None:
        return None, (
            f"{where}: no API key (set the variable named by api_key_env, "
            "or give a base_url for a server that needs none)"
        )
    client = shared_client(
        api_key or PLACEHOLDER_API_KEY, base_url or DEFAULT_BASE_URL, request_timeout
    )
    return client, None


class OpenAIChatLM:
    """A chat model behind an OpenAI-compatible endpoint; implements the LM protocol."""

    def __init__(
        self,
        name: str,
        base_url: str | None,
        api_key: str | None,
        role: str,
        meter: UsageMeter,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        extra: Mapping[str, Any] | None = None,
        max_concurrency: int = 8,
        request_timeout: float = 120.0,
        max_retries: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        label: str | None = None,
        cache_endpoint: str | None = None,
        stream_cut: bool = False,
        cut_at_fence: bool = False,
        server_timings: bool = False,
    ) -> None:
        self.name, self.base_url, self.role, self.meter = name, base_url, role, meter
        self._set_sampling(temperature, max_tokens, top_p, seed, extra)
        self.request_timeout = request_timeout
        self._set_streaming(stream_cut, cut_at_fence, server_timings)
        self.max_retries = max_retries
        self._set_names(label, cache_endpoint)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._semaphore = endpoint_semaphore(base_url, max_concurrency)
        self._client, self._setup_error = _connect(self._where, base_url, api_key, request_timeout)

    def _set_sampling(
        self,
        temperature: float,
        max_tokens: int | None,
        top_p: float | None,
        seed: int | None,
        extra: Mapping[str, Any] | None,
    ) -> None:
        """The request parameters that shape a reply (and so key the response cache)."""
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.top_p = top_p
        self.seed = seed
        self.extra: dict[str, Any] = dict(extra or {})

    def _set_streaming(self, stream_cut: bool, cut_at_fence: bool, server_timings: bool) -> None:
        self.stream_cut = stream_cut
        """Stream each reply and stop it once the rest is waste (see lm/reply_cut.py): in a
        runaway repetition, and for reflections (`cut_at_fence`) after the instruction's
        closing fence and in a loop of long sentences."""
        self.cut_at_fence = cut_at_fence
        self.server_timings = server_timings
        """Ask for llama.cpp's per-chunk timings when streaming (the embedded server)."""

    def _set_names(self, label: str | None, cache_endpoint: str | None) -> None:
        """How errors and the response cache name this model and its endpoint."""
        self.label = label or f"openai/{self.name}"
        """How errors name the model: "openai/gpt-4.1-mini", "embedded/qwen2.5-coder-1.5b"."""
        self.cache_endpoint = cache_endpoint or endpoint_key(self.base_url)
        """The endpoint as the response cache keys it (see lm/endpoint.py)."""
        self._where = f"{self.label} at {self.base_url or DEFAULT_BASE_URL}"

    def __repr__(self) -> str:
        return f"OpenAIChatLM(name={self.name!r}, base_url={self.base_url!r}, role={self.role!r})"

    def cache_identity(self) -> dict[str, Any]:
        """What determines a reply besides the messages: the response cache's key material.

        Holds the endpoint (`cache_endpoint`: the base_url without credentials, or
        what the caller chose, e.g. a user's `cache_key`); excludes the API key,
        timeouts and retry settings.
        """
        return {
            "endpoint": self.cache_endpoint,
            "model": self.name,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "seed": self.seed,
            "extra": dict(self.extra),
        }

    def with_temperature(self, temperature: float) -> OpenAIChatLM:
        """The same client (endpoint, limits, meter) sampling at `temperature`."""
        hotter = copy.copy(self)
        hotter.temperature = temperature
        return hotter

    def complete(self, messages: Sequence[Message]) -> Completion:
        """Send `messages`, retrying transient failures; raise LMError when it fails for good."""
        if self._client is None:
            self.meter.add(self.role, errors=1)
            raise LMError(self._setup_error)
        outcome, started = _Attempt(), time.monotonic()
        for attempt in range(self.max_retries + 1):
            outcome = self._attempt(self._client, messages)
            if outcome.completion is not None:
                completion = replace(outcome.completion, latency_s=time.monotonic() - started)
                self._count(completion)
                return completion
            if not outcome.retryable:
                self.meter.add(self.role, errors=1)
                raise LMError(f"{self._where}: {outcome.error}")
            if attempt < self.max_retries:
                self.meter.add(self.role, retries=1)
                wait = outcome.wait_s if outcome.wait_s is not None else self._backoff(attempt)
                self._sleep(wait)
        self.meter.add(self.role, errors=1)
        raise LMError(f"{self._where}: {outcome.error} after {self.max_retries} retries")

    def _attempt(self, client: openai.OpenAI, messages: Sequence[Message]) -> _Attempt:
        try:
            with self._semaphore:
                if self.stream_cut:
                    return self._read_streamed(self._streamed(client, messages))
                raw = client.chat.completions.with_raw_response.create(
                    model=self.name,
                    messages=cast(Any, [dict(m) for m in messages]),
                    **self._sampling_params(),
                )
                body = json.loads(raw.content)  # plain JSON: no response models to build
        except openai.APIStatusError as exc:
            return self._status_failure(exc, _real_key(client))
        except openai.APITimeoutError:
            return _Attempt(error=f"timed out after {self.request_timeout:g} s", retryable=True)
        except openai.APIConnectionError as exc:
            detail = one_line(str(exc.__cause__ or exc), _real_key(client))
            return _Attempt(error=f"connection error ({detail})", retryable=True)
        except openai.APIError as exc:
            detail = one_line(exc.message, _real_key(client))
            return _Attempt(error=f"bad response ({detail})", retryable=True)
        except ValueError as exc:  # a 200 whose JSON body is cut off or not JSON at all
            detail = one_line(str(exc), _real_key(client))
            return _Attempt(error=f"malformed response ({detail})", retryable=True)
        return self._read(body if isinstance(body, Mapping) else {})

    def _sampling_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"temperature": self.temperature}
        if self.max_tokens is not None:
            params["max_tokens"] = self.max_tokens
        if self.top_p is not None:
            params["top_p"] = self.top_p
        if self.seed is not None:
            params["seed"] = self.seed
        if self.extra:
            params["extra_body"] = dict(self.extra)
        return params

    def _streamed(self, client: openai.OpenAI, messages: Sequence[Message]) -> StreamedReply:
        """Send `messages` as a streamed request; read the reply until it ends or is cut."""
        params = self._sampling_params()
        if self.server_timings:
            params["extra_body"] = {**params.get("extra_body", {}), "timings_per_token": True}
        stream = client.chat.completions.create(
            model=self.name,
            messages=cast(Any, [dict(m) for m in messages]),
            stream=True,
            stream_options={"include_usage": True},
            **params,
        )
        cut = ReplyCut(fence=self.cut_at_fence, long_loops=self.cut_at_fence)
        with stream:
            return read_stream(stream, cut, stream.close)

    def _read_streamed(self, reply: StreamedReply) -> _Attempt:
        """A streamed reply as a Completion, or a retryable failure if it is empty."""
        if not reply.text.strip():
            self.meter.add(self.role, input_tokens=reply.input_tokens,
                           output_tokens=reply.output_tokens)  # fmt: skip
            error = f"empty reply (finish_reason={reply.finish_reason})"
            return _Attempt(error=error, retryable=True)
        if reply.finish_reason is not None and reply.finish_reason.startswith("cut_"):
            self.meter.add(self.role, replies_cut=1)
        completion = Completion(
            reply.text, reply.input_tokens, reply.output_tokens, False, reply.finish_reason,
            cached_input_tokens=reply.cached_input_tokens, prefill_ms=reply.prefill_ms,
            decode_ms=reply.decode_ms,
        )  # fmt: skip
        return _Attempt(completion=completion)

    def _read(self, body: Mapping[str, Any]) -> _Attempt:
        """Turn a 200 response's JSON into a Completion, or a retryable failure if it is empty."""
        choices = body.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
            return _Attempt(error="response has no choices", retryable=True)
        choice = choices[0]
        message = mapping_of(choice.get("message"))
        content = message.get("content")
        text = content if isinstance(content, str) else ""
        finish_reason = choice.get("finish_reason")
        usage = mapping_of(body.get("usage"))
        input_tokens = whole_count(usage.get("prompt_tokens"))
        output_tokens = whole_count(usage.get("completion_tokens"))
        if not text.strip():
            self.meter.add(self.role, input_tokens=input_tokens, output_tokens=output_tokens)
            return _Attempt(error=f"empty reply (finish_reason={finish_reason})", retryable=True)
        cached, prefill_ms, decode_ms = server_accounting(body)
        completion = Completion(
            text, input_tokens, output_tokens, False, finish_reason,
            cached_input_tokens=cached, prefill_ms=prefill_ms, decode_ms=decode_ms,
        )  # fmt: skip
        return _Attempt(completion=completion)

    def _count(self, completion: Completion) -> None:
        """Add a paid completion to the meter: calls, tokens, and what the server computed."""
        computed = max(0, completion.input_tokens - completion.cached_input_tokens)
        self.meter.add(
            self.role, calls=1, input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens, prompt_tokens_computed=computed,
            prefill_ms=completion.prefill_ms, decode_ms=completion.decode_ms,
        )  # fmt: skip

    def _status_failure(self, exc: openai.APIStatusError, secret: str) -> _Attempt:
        failure = status_failure(exc, secret)
        return _Attempt(error=failure.error, retryable=failure.retryable, wait_s=failure.wait_s)

    def _backoff(self, retry: int) -> float:
        """Exponential backoff for the `retry`-th retry (0-based), jittered to 50-100 %."""
        delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * BACKOFF_FACTOR**retry)
        return delay * (0.5 + 0.5 * self._rng.random())


def _real_key(client: openai.OpenAI) -> str:
    """The client's API key, or "" for the placeholder sent when none is configured."""
    return "" if client.api_key == PLACEHOLDER_API_KEY else client.api_key
