"""The embedded local model server: llama.cpp's HTTP server running in-process via `xllamacpp`.

An `EmbeddedServer` binds 127.0.0.1 only and is reached exclusively over HTTP by the regular
OpenAI-compatible client, so nothing downstream is special-cased. `EmbeddedServers` shares one
server per model across roles (task and reflection naming the same model). `serve_foreground`
backs `gepa serve`. Run ``python -m gepa_cli.lm.embedded --prepare NAME...`` to locate or
assemble the weights ahead of time (used by scripts/install.sh).
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from gepa_cli.lm.embedded_models import (
    XLLAMACPP_REQUIREMENT,
    EmbeddedModel,
    EmbeddedModelError,
    get_model,
    locate_model,
)

HOST = "127.0.0.1"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _import_xllamacpp() -> Any:
    try:
        import xllamacpp
    except ImportError:
        raise EmbeddedModelError(
            "the embedded runtime is not installed; install it with: "
            f"{sys.executable} -m pip install {XLLAMACPP_REQUIREMENT}"
        ) from None
    return xllamacpp


class EmbeddedServer:
    """A running llama.cpp server for one bundled model, on 127.0.0.1.

    It is running from construction until `close()` (also called on `with` exit and at
    interpreter exit). `base_url` ends in ``/v1`` and is meant for an OpenAI-compatible client.
    """

    def __init__(
        self,
        name: str,
        slots: int = 2,
        *,
        port: int | None = None,
        context_per_slot: int | None = None,
        startup_timeout: float = 120.0,
    ) -> None:
        if slots < 1:
            raise ValueError(f"slots must be >= 1, got {slots}")
        self.model: EmbeddedModel = get_model(name)
        self.slots = slots
        self.context_per_slot = context_per_slot or self.model.context_per_slot
        self.model_alias = self.model.name
        self._lock = threading.Lock()
        self._server: Any = self._start(locate_model(name), port)
        self.address: str = str(self._server.listening_address).rstrip("/")
        self.base_url = self.address + "/v1"
        atexit.register(self.close)
        try:
            _wait_until_healthy(self.address, startup_timeout)
        except BaseException:
            self.close()
            raise

    def _start(self, model_path: Path, port: int | None) -> Any:
        xllamacpp = _import_xllamacpp()
        params = xllamacpp.CommonParams()
        params.model.path = str(model_path)
        params.hostnames = [HOST]
        params.port = 0 if port is None else port
        params.n_parallel = self.slots
        params.n_ctx = self.slots * self.context_per_slot
        threads = os.cpu_count() or 2
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.verbosity = -1
        params.model_alias = {self.model_alias}  # a set: a bare str would become its letters
        try:
            return xllamacpp.Server(params)
        except RuntimeError as exc:
            hint = f" (is 127.0.0.1:{port} already in use?)" if port else ""
            raise EmbeddedModelError(
                f"embedded model {self.model.name} failed to start: {exc}{hint}"
            ) from exc

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])

    @property
    def closed(self) -> bool:
        return self._server is None

    def close(self) -> None:
        """Stop the server and free its port. Safe to call more than once."""
        with self._lock:
            server, self._server = self._server, None
        if server is None:
            return
        atexit.unregister(self.close)
        del server  # xllamacpp stops the HTTP server and frees the model when the object dies

    def __enter__(self) -> EmbeddedServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.base_url
        return f"EmbeddedServer({self.model.name!r}, slots={self.slots}, {state})"


def _wait_until_healthy(address: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        try:
            with _NO_PROXY.open(address + "/health", timeout=5) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.05)
    raise EmbeddedModelError(
        f"embedded server at {address} not ready after {timeout}s: {last_error}"
    )


class EmbeddedServers:
    """One shared server per bundled model, so roles naming the same model share it.

    The first `acquire` of a model fixes its slot count; later, larger requests reuse the
    running server (extra concurrent requests queue on it). Acquire the largest role first.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: dict[str, EmbeddedServer] = {}

    def acquire(self, name: str, slots: int) -> EmbeddedServer:
        model = get_model(name)
        with self._lock:
            server = self._servers.get(model.name)
            if server is None or server.closed:
                server = EmbeddedServer(model.name, slots)
                self._servers[model.name] = server
            return server

    def close_all(self) -> None:
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.close()


EMBEDDED_SERVERS = EmbeddedServers()
"""The process-wide pool used by the runner to wire `embedded/<name>` models."""

atexit.register(EMBEDDED_SERVERS.close_all)


def serve_foreground(
    name: str, port: int | None, slots: int, on_ready: Callable[[str], None]
) -> None:
    """Run the server for `name` on 127.0.0.1 until SIGINT or SIGTERM, then stop it cleanly."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with EmbeddedServer(name, slots, port=port) as server:
            on_ready(server.base_url)
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gepa_cli.lm.embedded --prepare NAME...``: print each model's GGUF path."""
    parser = argparse.ArgumentParser(prog="python -m gepa_cli.lm.embedded")
    parser.add_argument("--prepare", nargs="+", metavar="NAME", required=True)
    args = parser.parse_args(argv)
    try:
        for name in args.prepare:
            started = time.monotonic()
            path = locate_model(name)
            print(f"{get_model(name).model_id}: {path} ({time.monotonic() - started:.1f}s)")
    except EmbeddedModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
