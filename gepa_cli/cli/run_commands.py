"""`gepa run` and `gepa resume`: start or continue an optimization, print its run directory last."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gepa_cli.cli.errors import error_boundary
from gepa_cli.cli.options import (
    NO_CACHE_OVERRIDE,
    DisplayOption,
    NoCacheOption,
    SetOption,
    display_kind,
)
from gepa_cli.errors import BadInputError


def run_command(
    config: Annotated[Path, typer.Argument(help="Experiment YAML file.")],
    set_: SetOption = None,
    run_dir: Annotated[
        str | None, typer.Option("--run-dir", help="Run directory to create.")
    ] = None,
    display: DisplayOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything, spend nothing.")
    ] = False,
    no_cache: NoCacheOption = False,
) -> None:
    """Optimize the prompts of the experiment described by CONFIG."""
    from gepa_cli.config import load_config
    from gepa_cli.run.runner import start_run

    kind = display_kind(display)
    overrides = [*(set_ or []), *([NO_CACHE_OVERRIDE] if no_cache else [])]
    with error_boundary():
        explicit = explicit_run_dir(run_dir)
        cfg = load_config(config, overrides)
        if dry_run:
            from gepa_cli.run.plan import describe_plan

            typer.echo(describe_plan(cfg, config.parent))
            return
        result = start_run(cfg, config.resolve().parent, explicit, kind)
    _report(result)


def resume_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory with a checkpoint.")],
    set_: SetOption = None,
    display: DisplayOption = None,
    no_cache: NoCacheOption = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Resume even though the task or data changed since."),
    ] = False,
) -> None:
    """Continue a stopped run from its checkpoint (raise the budget with --set)."""
    from gepa_cli.run.runner import resume_run

    kind = display_kind(display)
    overrides = [*(set_ or []), *([NO_CACHE_OVERRIDE] if no_cache else [])]
    with error_boundary():
        result = resume_run(run_dir, overrides, kind, force=force)
    _report(result)


def explicit_run_dir(text: str | None) -> Path | None:
    """`--run-dir` as a path; an empty one (which would mean the current directory) is
    refused."""
    if text is None:
        return None
    if not text.strip():
        raise BadInputError("--run-dir is empty; give a directory, or leave the option out")
    return Path(text)


def _report(result: Any) -> None:
    """Print the run directory last on stdout; exit 130 after an interrupt."""
    summary = result.summary
    if result.interrupted:
        typer.echo(
            f"interrupted ({summary['stopped_because']}); checkpoint saved. "
            f"Resume with: gepa resume {result.run_dir}",
            err=True,
        )
        typer.echo(str(result.run_dir))
        raise typer.Exit(130)
    if summary.get("stopped_because") == "stop_file":
        typer.echo(
            f"stopped by the STOP file; checkpoint saved. "
            f"Resume with: gepa resume {result.run_dir}",
            err=True,
        )
    typer.echo(str(result.run_dir))
