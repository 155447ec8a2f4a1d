"""The `gepa` Typer application: registers every command and runs it.

The commands live one group per module beside this one (`run_commands`, `config_commands`,
`rundir_commands`, `serve_command`); `cli/errors.py` turns failures into one line and an
exit code. `cli/` is the only layer that prints errors or exits.
"""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from gepa_cli import __version__
from gepa_cli.cli import config_commands, run_commands, rundir_commands, serve_command

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Optimize the prompts of LLM programs with GEPA (reflective prompt evolution).",
)
app.command("run")(run_commands.run_command)
app.command("resume")(run_commands.resume_command)
app.command("validate")(config_commands.validate_command)
app.command("schema")(config_commands.schema_command)
app.command("show-frontier")(rundir_commands.show_frontier_command)
app.command("export-prompt")(rundir_commands.export_prompt_command)
app.command("report")(rundir_commands.report_command)
app.command("eval")(rundir_commands.eval_command)
app.command("serve")(serve_command.serve_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gepa-cli {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """gepa: reflective prompt evolution for LLM programs."""


def main() -> None:
    try:
        app()
    finally:
        # The command is over; a late Ctrl-C must not interrupt the shutdown of the
        # embedded model server (atexit) with a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
