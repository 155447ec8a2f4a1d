"""Where failures become one stderr line and an exit code: the only such place.

Every error the product raises derives from `gepa_cli.errors.GepaError` and carries its
exit code (2 bad input, 1 runtime failure, 130 interrupted); an `OSError` that escapes
is a runtime failure. `GEPA_DEBUG=1` shows the traceback instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from gepa_cli.errors import GepaError


def one_line(message: str) -> str:
    """`message` on one printable line: line breaks and other control characters (which
    may come from a path or value the user gave) are shown escaped."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in message)


def fail(code: int, message: str) -> typer.Exit:
    """Print `error: message` on stderr; the returned Exit carries `code`."""
    typer.echo(f"error: {one_line(message)}", err=True)
    return typer.Exit(code)


@contextmanager
def error_boundary() -> Iterator[None]:
    """Turn known exceptions into one stderr line and an exit code."""
    if os.environ.get("GEPA_DEBUG") == "1":
        yield
        return
    try:
        yield
    except GepaError as exc:
        raise fail(exc.exit_code, str(exc) or type(exc).__name__) from None
    except OSError as exc:
        raise fail(1, str(exc) or type(exc).__name__) from None
    except KeyboardInterrupt:
        raise fail(130, "interrupted") from None
