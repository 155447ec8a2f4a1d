"""Issue 13, continued: credentials outside api_key_env, data that drives the terminal,
and unbounded input (an alias bomb, /dev/zero, a pipe, an oversized data file)."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest
import yaml
from fault_server import FaultServer, gepa, write_ideas_experiment
from hardening_harness import assert_refused, cli, finish_a_run

from gepa_cli.display.guard import GuardedDisplay
from gepa_cli.display.plain import PlainDisplay, RunInfo
from gepa_cli.engine import events as ev
from gepa_cli.tasks import data as data_module

DEAD_URL = "http://127.0.0.1:9/v1"  # refused before any request
PASSWORD = "hunter2-s3cret"
ESC = "\x1b"
HOSTILE_ID = f"{ESC}[2J{ESC}]0;pwned{ESC}\\[bold red]boom[/]\r\u202e"


def _everything_under(root: Path) -> str:
    return "".join(
        p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file()
    )


# --- 5. credentials outside api_key_env ------------------------------------------------------


@pytest.mark.parametrize(
    "override",
    [
        {"models__task__base_url": f"http://user:{PASSWORD}@127.0.0.1:9/v1"},
        {"models__reflection__base_url": [DEAD_URL, f"http://u:{PASSWORD}@127.0.0.1:8/v1"]},
        {"models__task__extra": {"extra_headers": {"Authorization": f"Bearer {PASSWORD}"}}},
        {"models__task__extra": {"headers": {"X-Api-Key": PASSWORD}}},
        {"models__task__extra": {"note": f"Basic {PASSWORD}"}},
    ],
    ids=["password-in-url", "password-in-replica", "authorization", "x-api-key", "basic"],
)
def test_a_credential_in_the_config_is_refused_and_never_shown(tmp_path, override):
    config = write_ideas_experiment(tmp_path, DEAD_URL, **override)
    for args in (
        ("run", str(config)),
        ("validate", str(config)),
        ("run", str(config), "--dry-run"),
    ):
        result = cli(*args)
        line = assert_refused(result, "api_key_env")
        assert PASSWORD not in result.output and PASSWORD not in line
    assert not (tmp_path / "runs").exists()


def test_a_password_given_by_set_or_in_a_run_directory_is_refused_unseen(tmp_path):
    with FaultServer() as server:
        run_dir = finish_a_run(tmp_path, server)
        url = server.base_url.replace("http://", f"http://me:{PASSWORD}@")
        for args in (("resume", str(run_dir)), ("eval", str(run_dir))):
            result = cli(*args, "--set", f"models.task.base_url={url}")
            assert_refused(result, "holds a user name or password (http://***@127.0.0.1")
            assert PASSWORD not in result.output
        config = run_dir / "config.yaml"
        config.write_text(config.read_text().replace(server.base_url, url))
        assert PASSWORD not in assert_refused(cli("resume", str(run_dir)), "api_key_env")
    config.write_text(config.read_text().replace(url, server.base_url))
    assert PASSWORD not in _everything_under(tmp_path / "runs")


# --- 6. data does not drive the terminal ------------------------------------------------------


def test_show_frontier_writes_no_escape_byte_and_no_markup_from_example_ids(tmp_path):
    with FaultServer() as server:
        config = write_ideas_experiment(tmp_path, server.base_url)
        val = tmp_path / "data" / "val.jsonl"
        rows = [json.loads(line) for line in val.read_text().splitlines()]
        rows[0]["id"] = HOSTILE_ID
        val.write_text("".join(json.dumps(row) + "\n" for row in rows))
        result = gepa("run", str(config), "--display", "plain", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    shown = cli("show-frontier", str(run_dir), env={"COLUMNS": "300"})  # ids not wrapped
    assert shown.exit_code == 0, shown.stderr
    assert ESC not in shown.output and "\r" not in shown.output and "\u202e" not in shown.output
    assert "[bold red]boom[/]" in shown.output and "\\x1b[2J" in shown.output
    assert ESC not in result.stderr
    machine = cli("show-frontier", str(run_dir), "--json")
    examples = json.loads(machine.output)["examples"]
    assert ESC not in machine.output and HOSTILE_ID in [ex["example_id"] for ex in examples]


def test_the_run_displays_show_model_and_data_text_as_text():
    stream = io.StringIO()
    display = GuardedDisplay(PlainDisplay(stream), stream)
    info = RunInfo(f"runs/x{ESC}[31m", f"name{ESC}]0;t{ESC}\\", "m", "m", 10, 1, 1, None)
    display.start(info)
    display.handle(ev.ExampleFailed("c" * 12, HOSTILE_ID, f"HTTP 500 ({ESC}[2J server says)"))
    display.warning(f"a warning {ESC}[5m")
    assert ESC not in stream.getvalue() and "\\x1b[2J" in stream.getvalue()
    assert display.failure is None


# --- 7. unbounded input -----------------------------------------------------------------------


def _alias_bomb(depth: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, depth + 1):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_a_depth_9_alias_bomb_is_refused_within_seconds(tmp_path):
    config = write_ideas_experiment(tmp_path, DEAD_URL)
    raw = yaml.safe_load(config.read_text())
    config.write_text(_alias_bomb(9) + yaml.safe_dump({**raw, "name": "bomb"}))
    started = time.monotonic()
    for command in ("validate", "run"):
        assert_refused(cli(command, str(config)), "aliases expand to more than 100000 nodes")
    assert time.monotonic() - started < 5
    recursive = tmp_path / "recursive.yaml"
    recursive.write_text("name: &x [*x]\n")
    assert_refused(cli("validate", str(recursive)), "malformed YAML")


def test_a_bomb_in_a_run_directory_config_is_refused(tmp_path):
    with FaultServer() as server:
        run_dir = finish_a_run(tmp_path, server)
    config = run_dir / "config.yaml"
    config.write_text(_alias_bomb(9) + config.read_text())
    started = time.monotonic()
    assert_refused(cli("resume", str(run_dir)), "aliases expand")
    assert time.monotonic() - started < 5


def test_data_that_is_not_a_regular_file_or_too_large_is_refused(tmp_path, monkeypatch):
    config = write_ideas_experiment(tmp_path, DEAD_URL)
    started = time.monotonic()
    for device in ("/dev/zero", "/dev/urandom"):
        line = assert_refused(cli("validate", str(config), "--set", f"task.data.val={device}"))
        assert "not a regular file (a character device)" in line
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)
    line = assert_refused(cli("validate", str(config), "--set", f"task.data.val={pipe}"))
    assert "not a regular file (a named pipe)" in line
    prompt = cli("validate", str(config), "--set", "task.prompts.label={file: /dev/zero}")
    assert_refused(prompt, "not a regular file")
    assert_refused(cli("validate", "/dev/zero"), "not a regular file")
    assert time.monotonic() - started < 10
    monkeypatch.setattr(data_module, "MAX_DATA_BYTES", 100)
    assert_refused(cli("validate", str(config)), "larger than the limit of")
