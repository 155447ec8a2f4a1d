"""The benchmark's simulated model and its data: a deterministic OpenAI-compatible
server on 127.0.0.1 (instant, or a fixed latency per request like a hosted API)
and the generated classification dataset its answers are consistent with.

The workload: support tickets of numbered *kinds*, each kind routed to one of four
labels by a policy only the gold labels reveal. The simulated task model answers
right iff the instruction (system message) states the rule for the ticket's kind.
The simulated reflection model (recognised by either tool's meta-prompt) replies
with the rules already in the prompt plus, when the call is "helpful", the rules of
the learnable kinds it sees. Helpfulness is a hash of (rules known, kinds seen), so
it does not depend on the tool's prompt wording: both tools face the same odds. A
few kinds are never learnable, so no run reaches a perfect val score and stops early.

The server records when each request started and ended; `busy_seconds` turns that
into the time spent inside the server during a run, whatever the concurrency.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from gepa_cli.engine.reflection import SYSTEM_PROMPT

LABELS = ("alpha", "beta", "gamma", "delta")
SEED_INSTRUCTION = "Route the support ticket: reply with one label: alpha, beta, gamma or delta."
REFERENCE_REFLECTION_MARK = "I provided an assistant with the following instructions"
_RULE = re.compile(r"Kind (\d+) goes to (\w+)\.")
_KIND = re.compile(r"ticket about kind (\d+)")

Responder = Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Workload:
    """The dataset's shape and the simulated reflection's odds of helping."""

    train: int
    val: int
    learnable_kinds: int
    unlearnable_kinds: int
    help_one_in: int
    """A reflection call adds the rules it sees with probability 1/help_one_in."""

    @property
    def kinds(self) -> int:
        return self.learnable_kinds + self.unlearnable_kinds


def gold_label(kind: int) -> str:
    return LABELS[(kind * 7 + 3) % len(LABELS)]


def wrong_label(kind: int) -> str:
    return LABELS[(kind * 7 + 4) % len(LABELS)]


def rule_text(kind: int) -> str:
    return f"Kind {kind} goes to {gold_label(kind)}."


def ticket_kind(number: int, kinds: int) -> int:
    """Kinds are spread over tickets by a fixed scramble (1-based)."""
    return (number * 37 + 11) % kinds + 1


def write_workload(root: Path, workload: Workload) -> dict[str, Path]:
    """Write train.jsonl and val.jsonl under `root`; returns the split paths."""
    root.mkdir(parents=True, exist_ok=True)
    paths = {}
    offsets = {"train": 0, "val": 100_000}
    for split, size in (("train", workload.train), ("val", workload.val)):
        rows = []
        for number in range(offsets[split], offsets[split] + size):
            kind = ticket_kind(number, workload.kinds)
            text = f"Ticket {number}: a ticket about kind {kind}."
            rows.append({"id": f"{split}{number}", "input": text, "answer": gold_label(kind)})
        path = root / f"{split}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        paths[split] = path
    return paths


def instruction_with(rules: set[int], note: str = "") -> str:
    lines = [SEED_INSTRUCTION, *(rule_text(k) for k in sorted(rules))]
    if note:
        lines.append(note)
    return "\n".join(lines)


def make_responder(workload: Workload) -> Responder:
    """The simulated model for both roles; see the module docstring."""

    def respond(body: dict[str, Any]) -> str:
        messages = body.get("messages") or []
        texts = [str(m.get("content") or "") for m in messages if isinstance(m, dict)]
        joined = "\n".join(texts)
        is_ours = bool(texts) and texts[0] == SYSTEM_PROMPT
        if is_ours or REFERENCE_REFLECTION_MARK in joined:
            return _reflect(joined, workload)
        instruction = texts[0] if len(texts) > 1 else ""
        match = _KIND.search(texts[-1] if texts else "")
        if match is None:
            return "alpha"
        kind = int(match.group(1))
        return gold_label(kind) if rule_text(kind) in instruction else wrong_label(kind)

    return respond


def _reflect(prompt: str, workload: Workload) -> str:
    known = {int(k) for k, _ in _RULE.findall(prompt)}
    seen = {int(k) for k in _KIND.findall(prompt)}
    key = f"{sorted(known)}|{sorted(seen)}".encode()
    digest = hashlib.sha256(key).hexdigest()
    learnable = {k for k in seen if k <= workload.learnable_kinds}
    if int(digest[:8], 16) % workload.help_one_in == 0 and learnable - known:
        text = instruction_with(known | learnable)
    else:
        text = instruction_with(known, f"Read the ticket carefully (note {digest[:8]}).")
    return f"```\n{text}\n```"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    """The listen backlog (socketserver's default is 5): 16 clients connecting at once
    overflowed it, and a dropped SYN is retried after 1 s, a stall no real server has."""
    owner: BenchServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, like a hosted API
    disable_nagle_algorithm = True  # else headers and body in two writes stall ~40 ms

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log."""

    def do_POST(self) -> None:
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        owner = self.server.owner
        if owner.delay_s:
            time.sleep(owner.delay_s)
        text = owner.responder(body)
        payload = json.dumps(_completion(text, str(body.get("model", "sim")))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        owner.record(started, time.monotonic())


def _completion(text: str, model: str) -> dict[str, Any]:
    tokens = len(text.split())
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": tokens, "total_tokens": tokens},
    }


class BenchServer:
    """A threaded OpenAI-compatible server on 127.0.0.1 that answers `responder`
    after `delay_s` and records each request's (start, end) monotonic times."""

    def __init__(self, responder: Responder, delay_s: float = 0.0) -> None:
        self.responder = responder
        self.delay_s = delay_s
        self._lock = threading.Lock()
        self._intervals: list[tuple[float, float]] = []
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def record(self, started: float, ended: float) -> None:
        with self._lock:
            self._intervals.append((started, ended))

    def intervals(self) -> list[tuple[float, float]]:
        with self._lock:
            return list(self._intervals)

    def __enter__(self) -> BenchServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def busy_seconds(intervals: list[tuple[float, float]], start: float, end: float) -> float:
    """Length of the union of `intervals` clipped to [start, end]: the time at least
    one request was inside the server."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals if b > start and a < end)
    total, cursor = 0.0, start
    for a, b in clipped:
        if b > cursor:
            total += b - max(a, cursor)
            cursor = b
    return total


def count_requests(intervals: list[tuple[float, float]], start: float, end: float) -> int:
    return sum(1 for a, _ in intervals if start <= a <= end)
