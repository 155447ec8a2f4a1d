"""Options shared by several commands, and how `--display` is resolved."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config value: key.path=value (YAML scalar)."),
]
DisplayOption = Annotated[
    str | None, typer.Option("--display", help="rich | plain | none (default: rich on a terminal).")
]
NoCacheOption = Annotated[
    bool,
    typer.Option("--no-cache", help="No response cache (the same as --set runtime.cache=false)."),
]
NO_CACHE_OVERRIDE = "runtime.cache=false"


def display_kind(value: str | None) -> str:
    if value is None:
        return "rich" if sys.stderr.isatty() else "plain"
    if value not in ("rich", "plain", "none"):
        raise typer.BadParameter("expected rich, plain or none", param_hint="--display")
    return value
