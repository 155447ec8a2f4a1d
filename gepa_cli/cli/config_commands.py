"""`gepa validate` and `gepa schema`: check an experiment config, print the config's JSON Schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gepa_cli.cli.errors import error_boundary, fail
from gepa_cli.cli.options import SetOption


def validate_command(
    config: Annotated[Path, typer.Argument(help="Experiment YAML file.")],
    set_: SetOption = None,
    ping: Annotated[
        bool,
        typer.Option("--ping", help="Also send one tiny request to each model endpoint."),
    ] = False,
) -> None:
    """Check a config, its task, data and models without calling any model (unless --ping)."""
    from gepa_cli.config import load_config
    from gepa_cli.run.plan import describe_plan, ping_models

    with error_boundary():
        cfg = load_config(config, set_ or [])
        typer.echo(describe_plan(cfg, config.parent))
        if not ping:
            return
        results = ping_models(cfg)
        typer.echo("\n".join(f"# {result.line()}" for result in results))
    down = [result for result in results if not result.reachable]
    if down:
        names = ", ".join("+".join(result.roles) for result in down)
        raise fail(1, f"unreachable model endpoint ({names}): {down[0].detail}")


def schema_command() -> None:
    """Print the experiment config's JSON Schema (for editors and CI checks)."""
    import json

    from gepa_cli.config import config_json_schema

    typer.echo(json.dumps(config_json_schema(), indent=2))
