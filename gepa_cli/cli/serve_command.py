"""`gepa serve`: the embedded model as an OpenAI-compatible endpoint on 127.0.0.1."""

from __future__ import annotations

from typing import Annotated

import typer

from gepa_cli.cli.errors import error_boundary


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
        serve_foreground(name, port, slots, ready)
