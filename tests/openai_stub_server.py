"""A small OpenAI-compatible HTTP server for tests (a helper module, not a test file).

`StubServer(responder)` serves `POST /v1/chat/completions` and `GET /v1/models`
on 127.0.0.1 (a free port) from a daemon thread. The responder gets each chat
request's JSON body and returns either the reply text or `(status, headers,
json_body)` to inject faults. Every chat request's body and Authorization header
is recorded in `.requests`. Use it as a context manager:

    with StubServer(lambda body: "Answer: 4") as server:
        lm = OpenAIChatLM("stub", server.base_url, "sk-test", "task", UsageMeter())
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Fault = tuple[int, dict[str, str], dict[str, Any]]
Reply = str | Fault
Responder = Callable[[dict[str, Any]], Reply]


@dataclass(frozen=True)
class RecordedRequest:
    """One chat request as the server saw it."""

    path: str
    body: dict[str, Any]
    authorization: str | None


def count_tokens(text: str) -> int:
    """The stub's token count: whitespace-separated words."""
    return len(text.split())


def chat_completion(
    text: str | None, model: str = "stub-model", finish_reason: str | None = "stop"
) -> dict[str, Any]:
    """A chat.completion body with `text` as the reply (None gives null content)."""
    completion_tokens = count_tokens(text or "")
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": 0,
            "completion_tokens": completion_tokens,
            "total_tokens": completion_tokens,
        },
    }


def _prompt_tokens(body: dict[str, Any]) -> int:
    messages = body.get("messages") or []
    return sum(
        count_tokens(m["content"])
        for m in messages
        if isinstance(m, dict) and isinstance(m.get("content"), str)
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler still sleeping (timeout tests) must not delay shutdown
    stub: StubServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            data = [
                {"id": m, "object": "model", "owned_by": "stub"} for m in self.server.stub.models
            ]
            self._send(200, {}, {"object": "list", "data": data})
        else:
            self._send(404, {}, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, {}, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            self._send(400, {}, {"error": {"message": f"bad JSON: {exc}"}})
            return
        status, headers, payload = self.server.stub.handle(body, self.headers.get("Authorization"))
        if body.get("stream") and status == 200:
            self._stream(body, payload)
        else:
            self._send(status, headers, payload)

    def _stream(self, body: dict[str, Any], payload: dict[str, Any]) -> None:
        """The reply as server-sent events, a word per chunk, then usage if asked for."""
        text = payload["choices"][0]["message"]["content"] or ""
        words = [w + " " for w in text.split(" ")]
        events = [{"choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
                  for w in words]  # fmt: skip
        events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({"choices": [], "usage": payload["usage"]})
        stub = self.server.stub
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for event in events:
                base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk",
                        "created": 0, "model": payload["model"]}  # fmt: skip
                self.wfile.write(f"data: {json.dumps({**base, **event})}\n\n".encode())
                self.wfile.flush()
                stub.chunks_sent += 1
                time.sleep(stub.chunk_delay_s)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client closed the stream early (a cut reply)
        self.close_connection = True

    def _send(self, status: int, headers: dict[str, str], payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to do


class StubServer:
    """An OpenAI-compatible server on 127.0.0.1 for tests; see the module docstring."""

    def __init__(
        self,
        responder: Responder | None = None,
        delay_s: float = 0.0,
        models: Sequence[str] = ("stub-model",),
    ) -> None:
        self.responder: Responder = responder or (lambda body: "ok")
        self.delay_s = delay_s
        self.models = tuple(models)
        self.chunks_sent = 0
        """Server-sent events written for streamed requests (a cut stream stops early)."""
        self.chunk_delay_s = 0.002
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.stub = self
        self.port = int(self._httpd.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._started = False

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the chat requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def handle(self, body: dict[str, Any], authorization: str | None) -> Fault:
        """Record one chat request and produce (status, headers, json_body) for it."""
        with self._lock:
            self._requests.append(RecordedRequest("/v1/chat/completions", body, authorization))
        if self.delay_s:
            time.sleep(self.delay_s)
        try:
            reply = self.responder(body)
        except Exception as exc:  # a broken responder must not hang the client
            return 500, {}, {"error": {"message": f"stub responder failed: {exc!r}"}}
        if isinstance(reply, tuple):
            return reply
        payload = chat_completion(reply, model=str(body.get("model", "stub-model")))
        prompt_tokens = _prompt_tokens(body)
        payload["usage"]["prompt_tokens"] = prompt_tokens
        payload["usage"]["total_tokens"] += prompt_tokens
        return 200, {}, payload

    def start(self) -> StubServer:
        if not self._started:
            self._thread.start()
            self._started = True
        return self

    def shutdown(self) -> None:
        """Stop serving, close the socket and join the server thread."""
        if self._started:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._started = False
        self._httpd.server_close()

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()
