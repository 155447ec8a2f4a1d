"""Per-endpoint sharing: one `openai.OpenAI` client (one connection pool) and one
concurrency semaphore per endpoint, so the task and reflection roles of one server, and
every replica client, draw on the same connections and the same in-flight limit."""

from __future__ import annotations

import threading

import openai

from gepa_cli.lm.endpoint import DEFAULT_BASE_URL

_semaphores: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_semaphores_lock = threading.Lock()


def endpoint_semaphore(base_url: str | None, limit: int) -> threading.BoundedSemaphore:
    """The semaphore shared by every client that targets `base_url` with this `limit`.

    Keyed by (normalised base_url, limit): clients built from one config share a
    limit per endpoint; a client asking for another limit gets its own semaphore
    rather than silently inheriting someone else's.
    """
    if limit < 1:
        raise ValueError(f"max_concurrency must be at least 1, got {limit}")
    key = ((base_url or DEFAULT_BASE_URL).rstrip("/"), limit)
    with _semaphores_lock:
        semaphore = _semaphores.get(key)
        if semaphore is None:
            semaphore = threading.BoundedSemaphore(limit)
            _semaphores[key] = semaphore
        return semaphore


_clients: dict[tuple[str, str, float], openai.OpenAI] = {}
_clients_lock = threading.Lock()


def shared_client(api_key: str, base_url: str, timeout: float) -> openai.OpenAI:
    """One `openai.OpenAI` (and so one connection pool) per endpoint, key and timeout.

    Building a client costs tens of milliseconds (the default HTTP client loads the CA
    bundle into an SSL context even for a plain-http URL); the task and reflection roles on
    one server share it, and a plain-http endpoint (the embedded server, a local vLLM) gets
    an HTTP client without certificates, since it never speaks TLS. The key is only a dict
    key in memory, never logged or stored.
    """
    key = (api_key, base_url.rstrip("/"), timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            plain = base_url.lower().startswith("http://")
            http = openai.DefaultHttpxClient(verify=False) if plain else None
            client = openai.OpenAI(
                api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0,
                http_client=http,
            )  # fmt: skip
            _clients[key] = client
        return client
