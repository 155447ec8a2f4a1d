"""The report of a real (scripted) run, opened in headless Chromium: hostile prompt text
shows as text and never runs, the plots are there, the console stays silent, and the
page renders to a real screenshot. Also `gepa report` itself.

The browser tests are skipped when Chromium is absent; `.ci/run` installs Debian's
`chromium` package. Chromium is driven by plain command-line flags (--dump-dom,
--screenshot), its console read from `--enable-logging=stderr`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli_harness import IDEA, gepa, gold, is_task_request, write_experiment
from openai_stub_server import StubServer
from typer.testing import CliRunner

from gepa_cli.cli.app import app
from gepa_cli.config import load_config
from gepa_cli.run import loop as run_loop
from gepa_cli.run.runner import start_run

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = f"Label the item as alpha or beta. {IDEA}\n{SCRIPT}\n{IMG}"

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)"
)
BROWSER_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
    "--enable-logging=stderr", "--v=0",
)  # fmt: skip


def hostile_responder(body: dict[str, Any]) -> str:
    """Reflection: an instruction carrying the idea and markup meant to run in a browser.
    Task: the right label iff the instruction has the idea (so the child is accepted)."""
    messages = body["messages"]
    if not is_task_request(body):
        return f"```\n{HOSTILE}\n```"
    n = int(messages[-1]["content"].split()[-1])
    right = gold(n)
    return right if IDEA in messages[0]["content"] else ("beta" if right == "alpha" else "alpha")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    with StubServer(hostile_responder) as server:
        config = write_experiment(root, server.base_url)
        result = gepa("run", str(config), "--display", "none", cwd=root)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def chromium(page: Path, profile: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={profile}", *flags, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def console_messages(stderr: str) -> list[str]:
    """What the page logged to its console (errors, CSP violations, uncaught exceptions)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def dump_dom(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM after the page ran for 2 s of virtual time, and its console messages."""
    done = chromium(page, profile, "--virtual-time-budget=2000", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, console_messages(done.stderr)


# --- without a browser -----------------------------------------------------------------------


def test_every_run_ends_with_report_html_and_gepa_report_writes_it_again(
    hostile_run: Path, tmp_path: Path
) -> None:
    written = (hostile_run / "report.html").read_text(encoding="utf-8")
    assert written.startswith("<!DOCTYPE html>") and HOSTILE.splitlines()[0] in written
    assert HOSTILE in (hostile_run / "best" / "label.txt").read_text()  # carried by the best
    elsewhere = tmp_path / "out" / "r.html"
    again = gepa("report", str(hostile_run), "-o", str(elsewhere), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == str(elsewhere)
    assert elsewhere.read_text(encoding="utf-8") == written
    default = gepa("report", str(hostile_run), cwd=tmp_path)
    assert default.stdout.strip() == str(hostile_run / "report.html")


def test_gepa_report_refuses_what_is_not_a_run_directory(tmp_path: Path) -> None:
    result = CliRunner(env={"GEPA_DEBUG": None}).invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "not a run directory" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_failing_report_is_a_warning_not_a_failed_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(run_dir: Path, out: Path | None = None) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(run_loop, "write_report", broken)
    monkeypatch.setenv("E2E_KEY", "sk-test")
    with StubServer(hostile_responder) as server:
        config = write_experiment(tmp_path, server.base_url)
        result = start_run(load_config(config), tmp_path, None, "plain")
    assert result.summary["stopped_because"] == "perfect_val" and not result.interrupted
    assert "warning: report.html not written (OSError: disk full)" in capsys.readouterr().err
    assert (result.run_dir / "summary.json").is_file()
    assert not (result.run_dir / "report.html").exists()


# --- in Chromium -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def opened_report(hostile_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The report's DOM in Chromium and what its console said."""
    return dump_dom(hostile_run / "report.html", tmp_path_factory.mktemp("profile"))


@needs_chromium
def test_hostile_prompt_shows_as_text_and_nothing_runs(opened_report: Any) -> None:
    dom, console = opened_report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # the text is on the page, as text
    assert '"&gt;&lt;img src=x onerror=alert(1)&gt;' in dom
    assert "<script" not in dom.lower()  # no element was injected
    assert "<img" not in dom.lower() and "onerror=" not in dom.replace("&lt;img src=x onerror=", "")
    assert console == []  # no errors, no blocked inline script or handler, no blocked load


@needs_chromium
def test_the_plots_are_present(opened_report: Any) -> None:
    dom, _ = opened_report
    assert dom.count("<svg") >= 4  # score curve, frontier size, lineage, heatmap
    for title in (
        "val score vs metric calls",
        "frontier size",
        "Candidate lineage",
        "Score matrix",
    ):
        assert title in dom
    assert "<polyline" in dom or "<path" in dom


@needs_chromium
def test_the_console_check_does_catch_errors(tmp_path: Path) -> None:
    """The control: a page whose script throws and one whose script CSP blocks."""
    throws = tmp_path / "throws.html"
    throws.write_text("<!DOCTYPE html><p>x</p><script>undefinedFunction()</script>")
    blocked = tmp_path / "blocked.html"
    blocked.write_text(
        "<!DOCTYPE html><meta http-equiv='Content-Security-Policy' content=\"default-src "
        f"'none'\"><p>{SCRIPT}</p>{SCRIPT}"
    )
    _, thrown = dump_dom(throws, tmp_path / "p1")
    assert any("Uncaught ReferenceError" in line for line in thrown)
    _, refused = dump_dom(blocked, tmp_path / "p2")
    assert any("Content Security Policy" in line for line in refused)


@needs_chromium
def test_the_report_renders_to_a_real_screenshot(hostile_run: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = chromium(
        hostile_run / "report.html", tmp_path / "profile", "--window-size=1280,2400",
        f"--screenshot={shot}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
