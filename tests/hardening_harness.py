"""Helpers for the hardening and run-directory fuzz tests (a helper module, not a test
file): one finished run of the ideas experiment per module, private copies of it to
damage, and the CLI run in-process with the checks every refusal must pass."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fault_server import SECRET, FaultServer, gepa, run_dir_of, write_ideas_experiment
from typer.testing import CliRunner

from gepa_cli.cli.app import app

RUNNER = CliRunner()


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    """`gepa ARGS` in this process (Typer's runner): exit_code, stdout, stderr."""
    return RUNNER.invoke(
        app, list(args), env={"GEPA_DEBUG": "", "FAULT_KEY": SECRET, **(env or {})}
    )


def assert_refused(result: Any, fragment: str = "") -> str:
    """Exit 2 with exactly one `error:` line on stderr that mentions `fragment`."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.exception)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    assert fragment in lines[0], lines[0]
    return str(lines[0])


def finish_a_run(root: Path, server: FaultServer, **overrides: Any) -> Path:
    """Run the ideas experiment to its end under `root`; its run directory."""
    config = write_ideas_experiment(root, server.base_url, **overrides)
    result = gepa("run", str(config), "--display", "none", cwd=root)
    assert result.returncode == 0, result.stderr
    return run_dir_of(result)


def private_copy(root: Path, run_dir: Path, into: Path) -> Path:
    """A copy of `root` (data and run) under `into`; the copied run directory, its
    config pointing at the copied data."""
    shutil.copytree(root, into, dirs_exist_ok=True)
    copy = into / run_dir.relative_to(root)
    config = copy / "config.yaml"
    config.write_text(config.read_text().replace(str(root), str(into)))
    return copy
