"""What an HTTP error status from an OpenAI-compatible server means to the client: a
one-line error text (the server's own message, the API key blanked out), whether it is
worth retrying (408/409/429 and 5xx), and how long the server asked to wait."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import openai

RETRY_AFTER_CAP_S = 60.0
RETRYABLE_STATUSES = frozenset({408, 409, 429})
ERROR_DETAIL_MAX_CHARS = 200


@dataclass(frozen=True)
class StatusFailure:
    """One failed request's error text, whether to retry it, and the server's wait."""

    error: str
    retryable: bool
    wait_s: float | None


def status_failure(exc: openai.APIStatusError, secret: str) -> StatusFailure:
    """The failure an HTTP error status stands for; `secret` (the API key, or "" when none
    was configured) is blanked out of the server's message."""
    status = exc.status_code
    detail = one_line(_error_message(exc), secret)
    error = f"HTTP {status}" + (f" ({detail})" if detail else "")
    retryable = status in RETRYABLE_STATUSES or status >= 500
    wait_s = _retry_after_s(exc.response.headers.get("retry-after")) if retryable else None
    return StatusFailure(error, retryable, wait_s)


def _retry_after_s(header: str | None) -> float | None:
    """The Retry-After header in seconds, capped; None if absent or not a number."""
    if header is None:
        return None
    try:
        seconds = float(header.strip())
    except ValueError:
        return None
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return min(seconds, RETRY_AFTER_CAP_S)


def _error_message(exc: openai.APIStatusError) -> str:
    """The server's own error message if the body has one, else the body text."""
    body = exc.body
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        return ""
    return str(body) if body else ""


def one_line(text: str, secret: str) -> str:
    """`text` on one line, shortened, with the API key blanked out should a server echo it."""
    if secret:
        text = text.replace(secret, "***")
    flat = " ".join(text.split())
    if len(flat) > ERROR_DETAIL_MAX_CHARS:
        flat = flat[: ERROR_DETAIL_MAX_CHARS - 3] + "..."
    return flat
