"""How an endpoint is named in cache keys and on the console.

`endpoint_key` is the response cache's idea of "the same server": scheme, host, port
and path of a base_url, lower-cased where URLs are case-insensitive, without a trailing
slash and without credentials. The same model name on another endpoint is another
model (another quantization, another deployment), so the cache never answers for one
endpoint with the replies of another.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_BASE_URL = "https://api.openai.com/v1"
"""Where requests go when no base_url is configured (OPENAI_BASE_URL is not consulted)."""


def endpoint_key(base_url: str | None) -> str:
    """`https://API.example.com:443/v1/` -> `https://api.example.com:443/v1`."""
    url = base_url or DEFAULT_BASE_URL
    try:
        parts = urlsplit(url.strip())
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:  # not a URL the client could use either; key on the text
        return url.strip().rstrip("/")
    host = (parts.hostname or "").lower()
    return f"{parts.scheme.lower()}://{host}{port}{parts.path.rstrip('/')}"


def replicas_key(keys: list[str]) -> str:
    """The endpoint identity of several replicas of one model: their set, order-free."""
    distinct = sorted(set(keys))
    return distinct[0] if len(distinct) == 1 else "replicas:" + " ".join(distinct)
