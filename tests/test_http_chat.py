"""Tests for the stdlib JSON client behind OpenAIChatLM (gepa_cli/lm/http_chat.py):
keep-alive reuse, a connection the server dropped while idle, proxies from the
environment, and replies that are not JSON objects."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gepa_cli.lm.base import LMError
from gepa_cli.lm.http_chat import (
    JSONEndpoint,
    MalformedReply,
    StatusFailure,
    route_for,
)
from gepa_cli.lm.openai_client import OpenAIChatLM
from gepa_cli.lm.usage import UsageMeter

Reply = tuple[int, dict[str, str], bytes]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like real servers
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        owner = self.server
        with owner.lock:
            owner.seen.append((self.client_address[1], self.path, dict(self.headers), body))
        status, headers, data = owner.reply(body)
        self.send_response(status)
        for name, value in {"Content-Length": str(len(data)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        if owner.drop_after_reply:
            self.close_connection = True  # closes without saying so (no Connection: close)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, reply: Callable[[dict[str, Any]], Reply]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.reply = reply
        self.lock = threading.Lock()
        self.seen: list[tuple[int, str, dict[str, str], dict[str, Any]]] = []
        self.drop_after_reply = False
        self.url = f"http://127.0.0.1:{self.server_address[1]}/v1"


def ok(body: dict[str, Any]) -> Reply:
    return 200, {"Content-Type": "application/json"}, json.dumps({"echo": body}).encode()


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[dict[str, Any]], Reply]], _Server]]:
    servers: list[_Server] = []

    def start(reply: Callable[[dict[str, Any]], Reply]) -> _Server:
        server = _Server(reply)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_requests_reuse_one_keep_alive_connection(serve: Any) -> None:
    server = serve(ok)
    endpoint = JSONEndpoint(server.url, "sk-1", timeout=5)
    replies = [endpoint.post("/chat/completions", {"n": n}) for n in range(3)]
    assert [r["echo"] for r in replies] == [{"n": 0}, {"n": 1}, {"n": 2}]
    ports = {port for port, *_ in server.seen}
    assert len(ports) == 1
    _, path, headers, _ = server.seen[0]
    assert path == "/v1/chat/completions"
    assert headers["Authorization"] == "Bearer sk-1"
    assert headers["Content-Type"] == "application/json"


def test_connection_dropped_while_idle_is_replaced_once(serve: Any) -> None:
    server = serve(ok)
    server.drop_after_reply = True
    endpoint = JSONEndpoint(server.url, "k", timeout=5)
    for n in range(3):
        assert endpoint.post("/chat/completions", {"n": n}) == {"echo": {"n": n}}
    assert [body["n"] for *_, body in server.seen] == [0, 1, 2]  # each sent once


def test_non_json_and_non_object_replies_are_malformed(serve: Any) -> None:
    bodies = iter([b"<html>Bad gateway</html>", b"[1, 2]", b'{"choices": [{"mess'])
    server = serve(lambda body: (200, {}, next(bodies)))
    endpoint = JSONEndpoint(server.url, "k", timeout=5)
    for _ in range(3):
        with pytest.raises(MalformedReply):
            endpoint.post("/chat/completions", {})


def test_status_failure_carries_headers_and_parsed_body(serve: Any) -> None:
    error = json.dumps({"error": {"message": "slow down"}}).encode()
    server = serve(lambda body: (429, {"Retry-After": "2"}, error))
    with pytest.raises(StatusFailure) as info:
        JSONEndpoint(server.url, "k", timeout=5).post("/chat/completions", {})
    assert info.value.status == 429
    assert info.value.headers["retry-after"] == "2"
    assert info.value.body == {"error": {"message": "slow down"}}


def test_http_proxy_from_environment_gets_absolute_url_and_credentials(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = serve(ok)
    host_port = proxy.url.removeprefix("http://").removesuffix("/v1")
    monkeypatch.setenv("HTTP_PROXY", f"http://user:p%40ss@{host_port}")
    endpoint = JSONEndpoint("http://llm.example.invalid:8000/v1", "k", timeout=5)
    assert endpoint.post("/chat/completions", {"x": 1}) == {"echo": {"x": 1}}
    _, path, headers, _ = proxy.seen[0]
    assert path == "http://llm.example.invalid:8000/v1/chat/completions"
    assert headers["Proxy-Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss


def test_no_proxy_and_tunnel_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.local:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    tunnel = route_for("https://api.example.com/v1")
    assert (tunnel.host, tunnel.port, tunnel.tunnel) == (
        "proxy.local",
        3128,
        ("api.example.com", 443),
    )
    direct = route_for("https://internal.example:8443/v1")
    assert (direct.host, direct.port, direct.tunnel, direct.prefix) == (
        "internal.example", 8443, None, "/v1",
    )  # fmt: skip


def test_unsupported_proxy_fails_at_first_call_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    lm = OpenAIChatLM("m", "http://llm.example.invalid/v1", None, "task", UsageMeter())
    with pytest.raises(LMError, match=r"unsupported proxy socks5://127\.0\.0\.1"):
        lm.complete([{"role": "user", "content": "hi"}])


def sse(*events: Any) -> Reply:
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return 200, {"Content-Type": "text/event-stream"}, (": ping\n\n" + body).encode()


def test_stream_yields_each_event_and_the_connection_is_reused(serve: Any) -> None:
    server = serve(lambda body: sse({"n": 1}, {"n": 2}) if body.get("stream") else ok(body))
    endpoint = JSONEndpoint(server.url, "k", timeout=5)
    assert list(endpoint.stream("/chat/completions", {"stream": True})) == [{"n": 1}, {"n": 2}]
    assert endpoint.post("/chat/completions", {}) == {"echo": {}}  # on the stream's connection
    assert len({port for port, *_ in server.seen}) == 1


def test_a_stream_closed_early_drops_its_connection(serve: Any) -> None:
    server = serve(lambda body: sse({"n": 1}, {"n": 2}, {"n": 3}))
    endpoint = JSONEndpoint(server.url, "k", timeout=5)
    events = endpoint.stream("/chat/completions", {"stream": True})
    assert next(events) == {"n": 1}
    events.close()  # the caller saw enough
    assert list(endpoint.stream("/chat/completions", {}))[-1] == {"n": 3}
    assert len({port for port, *_ in server.seen}) == 2  # the cut one was not pooled


def test_a_stream_refused_raises_a_status_failure(serve: Any) -> None:
    server = serve(lambda body: (503, {}, b'{"error": {"message": "busy"}}'))
    with pytest.raises(StatusFailure) as info:
        list(JSONEndpoint(server.url, "k", timeout=5).stream("/chat/completions", {}))
    assert info.value.status == 503
