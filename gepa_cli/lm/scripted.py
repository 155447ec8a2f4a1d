"""A scripted LM for tests: replies from a function or a FIFO list, records every call.

`ScriptedLM` implements the LM protocol (and `cache_identity`, so it can sit
inside a `CachedLM`) without any network. It is thread-safe; calls are numbered
from 0 in the order they arrive, and chosen calls can be made to fail with
`LMError`. Token counts are whitespace-separated words, enough for accounting tests.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from gepa_cli.lm.base import Completion, LMError, Message
from gepa_cli.lm.usage import UsageMeter

Responder = Callable[[Sequence[Message]], str]
"""Computes a reply from the messages; it may raise LMError to simulate a failure."""


class ScriptExhaustedError(RuntimeError):
    """A ScriptedLM built from a list of replies was called more times than it had replies."""


class ScriptedLM:
    """An LM whose replies are scripted. `calls` holds each call's messages, in call order."""

    def __init__(
        self,
        script: Responder | Iterable[str],
        name: str = "scripted",
        role: str = "task",
        fail_calls: Iterable[int] = (),
        meter: UsageMeter | None = None,
    ) -> None:
        """`script` is a function of the messages or a list of replies consumed FIFO.

        `fail_calls` are 0-based call numbers that raise LMError instead of replying
        (they still consume no reply from a list). With a `meter`, calls, tokens
        and errors are recorded under `role` like a real client would.
        """
        if isinstance(script, str):
            raise TypeError("script must be a function or a list of replies, not one string")
        self.name = name
        self.role = role
        self.meter = meter
        self.calls: list[list[Message]] = []
        self._responder: Responder | None = script if callable(script) else None
        self._replies: deque[str] = deque() if callable(script) else deque(script)
        self._fail_calls = set(fail_calls)
        self._lock = threading.Lock()

    def cache_identity(self) -> dict[str, Any]:
        return {"model": self.name}

    def fail_call(self, call_number: int) -> None:
        """Make the `call_number`-th call (0-based) raise LMError."""
        with self._lock:
            self._fail_calls.add(call_number)

    def complete(self, messages: Sequence[Message]) -> Completion:
        with self._lock:
            call_number = len(self.calls)
            self.calls.append([dict(m) for m in messages])
            fails = call_number in self._fail_calls
            reply = None if fails or self._responder else self._pop_reply(call_number)
        if fails:
            self._record(errors=1)
            raise LMError(f"{self.name}: scripted failure on call {call_number}")
        if reply is None:
            assert self._responder is not None
            try:
                reply = self._responder(messages)
            except LMError:
                self._record(errors=1)
                raise
        input_tokens = sum(len(m.get("content", "").split()) for m in messages)
        output_tokens = len(reply.split())
        self._record(calls=1, input_tokens=input_tokens, output_tokens=output_tokens)
        return Completion(reply, input_tokens, output_tokens, False, "stop")

    @property
    def remaining(self) -> int:
        """Canned replies not yet consumed (0 for a function script)."""
        with self._lock:
            return len(self._replies)

    def _pop_reply(self, call_number: int) -> str:
        if not self._replies:
            raise ScriptExhaustedError(
                f"{self.name}: no scripted reply left for call {call_number}"
            )
        return self._replies.popleft()

    def _record(self, **counts: int) -> None:
        if self.meter is not None:
            self.meter.add(self.role, **counts)
