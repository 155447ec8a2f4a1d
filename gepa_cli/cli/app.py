"""The `gepa` command line: parse arguments, call the runner, render results.

This is the only module that prints errors or exits. Known failures become one
line on stderr and an exit code (2 bad input, 1 runtime failure, 130
interrupted); `GEPA_DEBUG=1` shows the traceback instead.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from gepa_cli import __version__

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Optimize the prompts of LLM programs with GEPA (reflective prompt evolution).",
)


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


def _bad_input_errors() -> tuple[type[BaseException], ...]:
    from gepa_cli.config import ConfigError
    from gepa_cli.engine.state import CheckpointError
    from gepa_cli.lm.embedded_models import EmbeddedModelError
    from gepa_cli.run.models import ModelSetupError
    from gepa_cli.rundir.directory import RunDirError
    from gepa_cli.tasks.base import TaskConfigError
    from gepa_cli.tasks.data import DataError

    return (
        ConfigError, DataError, TaskConfigError, RunDirError, CheckpointError,
        ModelSetupError, EmbeddedModelError,
    )  # fmt: skip


def _interrupt_errors() -> tuple[type[BaseException], ...]:
    from gepa_cli.run.runner import RunInterrupted

    return (RunInterrupted,)


def _runtime_errors() -> tuple[type[BaseException], ...]:
    from gepa_cli.lm.base import LMError
    from gepa_cli.run.runner import RunFailure

    return (RunFailure, LMError, OSError)


def one_line(message: str) -> str:
    """`message` on one printable line: line breaks and other control characters (which
    may come from a path or value the user gave) are shown escaped."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in message)


def _fail(code: int, message: str) -> typer.Exit:
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
    except _bad_input_errors() as exc:
        raise _fail(2, str(exc)) from None
    except _interrupt_errors() as exc:
        raise _fail(130, str(exc)) from None
    except _runtime_errors() as exc:
        raise _fail(1, str(exc) or type(exc).__name__) from None
    except KeyboardInterrupt:
        raise _fail(130, "interrupted") from None


def _display_kind(value: str | None) -> str:
    if value is None:
        return "rich" if sys.stderr.isatty() else "plain"
    if value not in ("rich", "plain", "none"):
        raise typer.BadParameter("expected rich, plain or none", param_hint="--display")
    return value


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


@app.command("run")
def run_command(
    config: Annotated[Path, typer.Argument(help="Experiment YAML file.")],
    set_: SetOption = None,
    run_dir: Annotated[
        Path | None, typer.Option("--run-dir", help="Run directory to create.")
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

    kind = _display_kind(display)
    overrides = [*(set_ or []), *([NO_CACHE_OVERRIDE] if no_cache else [])]
    with error_boundary():
        cfg = load_config(config, overrides)
        if dry_run:
            from gepa_cli.run.plan import describe_plan

            typer.echo(describe_plan(cfg, config.parent))
            return
        result = start_run(cfg, config.resolve().parent, run_dir, kind)
    _report(result)


@app.command("resume")
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

    kind = _display_kind(display)
    overrides = [*(set_ or []), *([NO_CACHE_OVERRIDE] if no_cache else [])]
    with error_boundary():
        result = resume_run(run_dir, overrides, kind, force=force)
    _report(result)


@app.command("validate")
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
        raise _fail(1, f"unreachable model endpoint ({names}): {down[0].detail}")


@app.command("show-frontier")
def show_frontier_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Show which candidates hold the per-example Pareto frontier."""
    import json

    from rich.console import Console

    from gepa_cli.rundir.frontier import frontier_json, frontier_table
    from gepa_cli.rundir.directory import RunDir

    with error_boundary():
        rundir = RunDir.open(run_dir)
        if as_json:
            typer.echo(json.dumps(frontier_json(rundir), indent=2))
        else:
            Console().print(frontier_table(rundir))


@app.command("export-prompt")
def export_prompt_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    candidate: Annotated[str, typer.Option(help="Candidate id (or prefix), or 'best'.")] = "best",
    component: Annotated[str | None, typer.Option(help="Only this module's prompt.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text | json | yaml")] = "text",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to FILE.")] = None,
) -> None:
    """Print (or write) a candidate's prompts."""
    from gepa_cli.rundir.frontier import export_prompts
    from gepa_cli.rundir.directory import RunDir

    if fmt not in ("text", "json", "yaml"):
        raise typer.BadParameter("expected text, json or yaml", param_hint="--format")
    with error_boundary():
        text = export_prompts(RunDir.open(run_dir), candidate, component, fmt)
        if output is None:
            typer.echo(text)
        else:
            output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


@app.command("report")
def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write to FILE (default: RUN_DIR/report.html)."),
    ] = None,
) -> None:
    """Write a self-contained HTML report of a run (works offline) and print its path."""
    from gepa_cli.report import write_report

    with error_boundary():
        written = write_report(run_dir, output)
    typer.echo(str(written))


@app.command("eval")
def eval_command(
    target: Annotated[Path, typer.Argument(help="A run directory, or a config (its seed).")],
    split: Annotated[str, typer.Option(help="train | val | test")] = "test",
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
    typer.echo(
        f"eval: candidate {result['candidate']} on {split} with {result['model']}: "
        f"mean {result['mean']:.3f} over {result['n']} examples{errors}",
        err=True,
    )
    typer.echo(json.dumps(result, indent=2))


@app.command("serve")
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
