"""Commands that read a finished or stopped run: show-frontier, export-prompt, report, eval."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gepa_cli.cli.errors import error_boundary, one_line
from gepa_cli.cli.options import NoCacheOption, SetOption


def show_frontier_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Show which candidates hold the per-example Pareto frontier."""
    import json

    from rich.console import Console

    from gepa_cli.display.frontier_table import frontier_table
    from gepa_cli.rundir.directory import RunDir
    from gepa_cli.rundir.frontier import frontier_json

    with error_boundary():
        rundir = RunDir.open(run_dir)
        if as_json:
            typer.echo(json.dumps(frontier_json(rundir), indent=2))
        else:
            Console(markup=False).print(frontier_table(rundir))


def export_prompt_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    candidate: Annotated[str, typer.Option(help="Candidate id (or prefix), or 'best'.")] = "best",
    component: Annotated[str | None, typer.Option(help="Only this module's prompt.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text | json | yaml")] = "text",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to FILE.")] = None,
) -> None:
    """Print (or write) a candidate's prompts."""
    from gepa_cli.rundir.directory import RunDir
    from gepa_cli.rundir.frontier import export_prompts
    from gepa_cli.rundir.outputs import check_output_path, write_output

    if fmt not in ("text", "json", "yaml"):
        raise typer.BadParameter("expected text, json or yaml", param_hint="--format")
    with error_boundary():
        if output is not None:
            check_output_path(output)
        text = export_prompts(RunDir.open(run_dir), candidate, component, fmt)
        if output is None:
            typer.echo(text)
        else:
            write_output(output, text if text.endswith("\n") else text + "\n")


def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write to FILE (default: RUN_DIR/report.html)."),
    ] = None,
) -> None:
    """Write a self-contained HTML report of a run (works offline) and print its path."""
    from gepa_cli.report import REPORT_FILE, write_report
    from gepa_cli.rundir.outputs import OutputPathError, check_output_path

    with error_boundary():
        if output is not None:
            check_output_path(output, allowed=frozenset({REPORT_FILE}), creates_parent=True)
        try:
            written = write_report(run_dir, output)
        except OSError as exc:
            raise OutputPathError(f"cannot write the report ({exc.strerror or exc})") from None
    typer.echo(str(written))


def eval_command(
    target: Annotated[Path, typer.Argument(help="A run directory, or a config (its seed).")],
    split: Annotated[str, typer.Option(help="train | val | test | select")] = "test",
    candidate: Annotated[
        str, typer.Option(help="seed, best, or a candidate id (or prefix) of the run.")
    ] = "best",
    set_: SetOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Score one candidate on a split, outside any budget.

    Prints JSON; try another model with --set models.task.model=... (a run dir keeps evals/).
    """
    import json

    from gepa_cli.run.eval_candidate import resolve_target, run_eval

    with error_boundary():
        resolved = resolve_target(target, candidate, set_ or [])
        result = run_eval(resolved, split, use_cache=resolved.cfg.runtime.cache and not no_cache)
    errors = f", {result['errors']} failed" if result["errors"] else ""
    line = (
        f"eval: candidate {result['candidate']} on {split} with {result['model']}: "
        f"mean {result['mean']:.3f} over {result['n']} examples{errors}"
    )
    typer.echo(one_line(line), err=True)
    typer.echo(json.dumps(result, indent=2))
