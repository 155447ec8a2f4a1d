"""`gepa serve`: the embedded model as an OpenAI-compatible endpoint on 127.0.0.1."""

from __future__ import annotations

from typing import Annotated

import typer

from gepa_cli.cli.errors import error_boundary
from gepa_cli.errors import BadInputError

MAX_SLOTS = 64
"""More parallel slots than this is a typo, not a plan (each slot holds its own context)."""


def check_serve_options(port: int | None, slots: int) -> None:
    """Refuse a port outside 1-65535 and a slot count outside 1-MAX_SLOTS (exit 2)."""
    if not 1 <= slots <= MAX_SLOTS:
        raise BadInputError(f"--slots must be between 1 and {MAX_SLOTS}, got {slots}")
    if port is not None and not 1 <= port <= 65535:
        raise BadInputError(f"--port must be between 1 and 65535, got {port}")


def serve_command(
    model: Annotated[str, typer.Option(help="Embedded model name.")] = "qwen2.5-coder-1.5b",
    port: Annotated[
        int | None, typer.Option(help="Port on 127.0.0.1 (default: a free one).")
    ] = None,
    slots: Annotated[int, typer.Option(help="Parallel request slots.")] = 2,
) -> None:
    """Serve an embedded model as an OpenAI-compatible endpoint on 127.0.0.1 until Ctrl-C."""
    from gepa_cli.lm.embedded import serve_foreground

    name = model.removeprefix("embedded/")

    def ready(base_url: str) -> None:
        typer.echo(
            f"serving embedded/{name} at {base_url} (model id: {name}); Ctrl-C stops", err=True
        )
        typer.echo(base_url)

    with error_boundary():
        check_serve_options(port, slots)
        serve_foreground(name, port, slots, ready)
