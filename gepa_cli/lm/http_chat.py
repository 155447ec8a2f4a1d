"""A small HTTP/1.1 JSON client for OpenAI-compatible endpoints (stdlib `http.client`).

`JSONEndpoint.post` sends one JSON body and returns the JSON object of a 2xx reply, or
raises one of the `HTTPFailure`s below; `JSONEndpoint.stream` yields the JSON events of
a streamed (server-sent events) reply and drops the connection if closed early.
Connections are kept alive and pooled per endpoint (a connection the server closed
while idle is replaced once, at no retry cost); `https` is verified against certifi's
bundle (or SSL_CERT_FILE/SSL_CERT_DIR); an `http://` proxy is taken from
HTTP(S)_PROXY/ALL_PROXY unless NO_PROXY exempts the host. The timeout applies to each
connect, send and read, as in the openai client.

Why not the `openai` SDK: it costs about 1 ms of CPU per request (request
transformation, pydantic response models, httpx), more than all of gepa-cli's other
per-call work together (`make bench`, section 1), and importing it took ~0.4 s of
every start. This client sends the same request and reads the few fields
gepa-cli uses. Retries are the caller's (`openai_client.py`).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import ssl
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gepa_cli import __version__

USER_AGENT = f"gepa-cli/{__version__}"
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
"""What a reused keep-alive connection raises when the server had closed it."""


class HTTPFailure(Exception):
    """A request that got no usable 2xx JSON reply."""


class StatusFailure(HTTPFailure):
    """A non-2xx reply: its status, headers and body (parsed JSON, else text)."""

    def __init__(self, status: int, headers: dict[str, str], body: Any) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.headers, self.body = status, headers, body


class TimeoutFailure(HTTPFailure):
    """Connecting, sending or reading took longer than the timeout."""


class ConnectionFailure(HTTPFailure):
    """The connection could not be made or broke (refused, reset, DNS, TLS)."""


class MalformedReply(HTTPFailure):
    """A 2xx reply whose body is not a JSON object."""


_tls: ssl.SSLContext | None = None
_tls_lock = threading.Lock()


def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process, built on first use (it costs ~20 ms)."""
    global _tls
    with _tls_lock:
        if _tls is None:
            cafile = None
            if not (os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR")):
                try:
                    import certifi

                    cafile = certifi.where()
                except ImportError:  # the system's trust store then
                    pass
            _tls = ssl.create_default_context(cafile=cafile)
        return _tls


@dataclass(frozen=True)
class _Route:
    """Where to connect (the server or a proxy) and how to address the request."""

    scheme: str
    host: str
    port: int
    prefix: str  # the base URL's path, or the whole base URL when sent through a proxy
    tunnel: tuple[str, int] | None = None  # https through a proxy: CONNECT host:port
    proxy_headers: tuple[tuple[str, str], ...] = ()


def route_for(base_url: str) -> _Route:
    """The route to `base_url`, through the environment's proxy if one applies."""
    url = urllib.parse.urlsplit(base_url.rstrip("/"))
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"not an http(s) URL: {base_url}")
    port = url.port or (443 if url.scheme == "https" else 80)
    proxy = _proxy_for(url.scheme, url.hostname)
    if proxy is None:
        return _Route(url.scheme, url.hostname, port, url.path)
    purl = urllib.parse.urlsplit(proxy)
    if purl.scheme != "http" or not purl.hostname:
        raise ValueError(
            f"unsupported proxy {purl.scheme}://{purl.hostname} (use an http:// proxy)"
        )
    headers: tuple[tuple[str, str], ...] = ()
    if purl.username:
        user = urllib.parse.unquote(purl.username)
        secret = urllib.parse.unquote(purl.password or "")
        token = base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")
        headers = (("Proxy-Authorization", f"Basic {token}"),)
    if url.scheme == "https":
        return _Route(
            "https", purl.hostname, purl.port or 80, url.path, (url.hostname, port), headers
        )
    return _Route("http", purl.hostname, purl.port or 80, base_url.rstrip("/"), None, headers)


def _proxy_for(scheme: str, host: str) -> str | None:
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(scheme) or proxies.get("all")
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if not proxy or bypass(host, proxies):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


class JSONEndpoint:
    """POSTs JSON to one base URL over pooled keep-alive connections; thread-safe."""

    def __init__(self, base_url: str, api_key: str, timeout: float) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.timeout = timeout
        self._route = route_for(base_url)
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Authorization": f"Bearer {api_key}",
        }
        if self._route.tunnel is None:
            headers.update(self._route.proxy_headers)
        self._headers = headers

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The JSON object the server answers to `body` at `path` (e.g. "/chat/completions")."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        status, headers, raw = self._exchange(self._route.prefix + path, data)
        if not 200 <= status < 300:
            raise StatusFailure(status, headers, _parsed(raw))
        try:
            reply = json.loads(raw)
        except ValueError as exc:
            raise MalformedReply(f"{exc} in {raw[:80]!r}") from None
        if not isinstance(reply, dict):
            raise MalformedReply(f"expected a JSON object, got {type(reply).__name__}")
        return reply

    def stream(self, path: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The JSON objects of a server-sent-events reply (a `"stream": true` request), in
        order, up to `data: [DONE]`. Closing the iterator early drops the connection (a
        llama.cpp server then stops generating). Failures raise as in `post`."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        conn = self._connect()  # never a pooled one: a stream may be cut and dropped
        finished = False
        try:
            conn.request("POST", self._route.prefix + path, body=data, headers=self._headers)
            response = conn.getresponse()
            if not 200 <= response.status < 300:
                headers = {name.lower(): value for name, value in response.getheaders()}
                raise StatusFailure(response.status, headers, _parsed(response.read()))
            yield from _sse_data(response)
            finished = response.isclosed() and not response.will_close
        except TimeoutError:
            raise TimeoutFailure(f"timed out after {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise ConnectionFailure(f"{type(exc).__name__}: {exc}") from None
        finally:
            if finished:
                with self._lock:
                    self._idle.append(conn)
            else:
                conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _exchange(self, target: str, data: bytes) -> tuple[int, dict[str, str], bytes]:
        conn: http.client.HTTPConnection | None = None
        try:
            conn, reused = self._checkout()
            try:
                return self._send(conn, target, data)
            except _STALE:
                if not reused:
                    raise
                conn.close()  # the server closed it while idle: once more on a new one
                conn = None
                conn = self._connect()
                return self._send(conn, target, data)
        except TimeoutError:
            _close(conn)
            raise TimeoutFailure(f"timed out after {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:
            _close(conn)
            raise ConnectionFailure(f"{type(exc).__name__}: {exc}") from None

    def _send(
        self, conn: http.client.HTTPConnection, target: str, data: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        conn.request("POST", target, body=data, headers=self._headers)
        response = conn.getresponse()
        raw = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        if response.will_close:
            conn.close()
        else:
            with self._lock:
                self._idle.append(conn)
        return response.status, headers, raw

    def _checkout(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._connect(), False

    def _connect(self) -> http.client.HTTPConnection:
        route = self._route
        conn: http.client.HTTPConnection
        if route.scheme == "https" and route.tunnel is None:
            conn = http.client.HTTPSConnection(
                route.host, route.port, timeout=self.timeout, context=tls_context()
            )
        elif route.tunnel is not None:
            conn = http.client.HTTPSConnection(
                route.host, route.port, timeout=self.timeout, context=tls_context()
            )
            conn.set_tunnel(*route.tunnel, headers=dict(route.proxy_headers))
        else:
            conn = http.client.HTTPConnection(route.host, route.port, timeout=self.timeout)
        conn.connect()
        if conn.sock is not None:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn


def _sse_data(response: http.client.HTTPResponse) -> Iterator[dict[str, Any]]:
    """The `data:` payloads of an event stream as JSON objects, up to `[DONE]` or the end
    (the rest of the body is read, so a kept-alive connection stays usable)."""
    for raw in response:
        line = raw.decode("utf-8", errors="replace").strip()
        if not line.startswith("data:"):
            continue  # blank separators, comments (":"), event/id fields
        payload = line[len("data:") :].strip()
        if payload == "[DONE]":
            response.read()
            return
        try:
            event = json.loads(payload)
        except ValueError as exc:
            raise MalformedReply(f"{exc} in {payload[:80]!r}") from None
        if not isinstance(event, dict):
            raise MalformedReply(f"expected a JSON object, got {type(event).__name__}")
        yield event


def _close(conn: http.client.HTTPConnection | None) -> None:
    if conn is not None:
        conn.close()


def _parsed(raw: bytes) -> Any:
    """An error body as JSON if it is JSON, else as text."""
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text
