"""Test helpers for resume, stopping and fault tests (a helper module, not a test file).

`FaultServer` is an OpenAI-compatible server on 127.0.0.1 whose answers are a pure
function of the request (a responder), with optional faults: a fixed-seed mix of
429 with Retry-After, 500, 503, hangs past the client's timeout and malformed or
empty bodies. Whether an attempt fails is a pure function of (seed, request body,
attempt number), so runs are reproducible under any concurrency, and at most
`max_faults_in_a_row` attempts of one request fail, so enough retries always
get through. It can also hold the n-th request until released (to kill or
signal a client at a precise point), fail every request (`outage`), or fail
only reflection requests.

Fault kinds: 429 with Retry-After, 500, 503 with Retry-After: 0, a hang past the
client's timeout, an HTML page with status 200, a reply with empty content, a
body without choices, and (only on request) a cut-off JSON body.

`ideas_responder` simulates a model that learns several independent rules, one
per reflection, so runs have several accepted children; `write_ideas_experiment`
writes a matching classify experiment.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from cli_harness import write_config, write_splits
from openai_stub_server import chat_completion

import gepa_cli.cli.app  # noqa: F401 - imported before forking, so children start at once
import gepa_cli.run.runner  # noqa: F401
from gepa_cli.engine.reflection import SYSTEM_PROMPT
from gepa_cli.lm import openai_client

SECRET = "sk-test-fault-0000"
IDEAS = (
    "Rule 0: items whose number leaves remainder 0 follow the table.",
    "Rule 1: items whose number leaves remainder 1 follow the table.",
    "Rule 2: items whose number leaves remainder 2 follow the table.",
)
DECOY = "Be careful."
FAULT_KINDS = ("429", "500", "503", "hang", "html", "empty", "no_choices")
"""The fault mix; "bad_json" (a cut-off JSON body) is available but not in the default mix."""
Responder = Callable[[dict[str, Any]], str]


# --- the simulated model ---------------------------------------------------------------


def gold(n: int) -> str:
    return "alpha" if (n // 3) % 2 == 0 else "beta"


def is_reflection(body: dict[str, Any]) -> bool:
    return bool(body["messages"]) and body["messages"][0]["content"] == SYSTEM_PROMPT


def _current_instruction(text: str) -> str:
    match = re.search(r"```\n(.*?)\n```", text, re.DOTALL)
    return match.group(1) if match else ""


def ideas_responder(body: dict[str, Any]) -> str:
    """Task calls: right iff the instruction holds the rule of the item's class (n % 3).
    Reflection calls: the instruction plus the rule of the first wrong example's class,
    or a useless edit when that example's number is odd. Anything else: "ok"."""
    messages = body["messages"]
    if is_reflection(body):
        text = messages[-1]["content"]
        instruction = _current_instruction(text)
        wrong = re.findall(r"Input:\nitem (\d+)\n\nOutput:\n[^\n]*\n\nFeedback:\nWrong", text)
        if wrong and int(wrong[0]) % 2 == 1 and DECOY not in instruction:
            return f"```\n{instruction} {DECOY}\n```"  # a useless edit: rejected, then known
        for n in wrong:
            idea = IDEAS[int(n) % 3]
            if idea not in instruction:
                return f"```\n{instruction} {idea}\n```"
        return f"```\n{instruction} {DECOY}\n```"
    match = re.fullmatch(r"item (\d+)", messages[-1]["content"])
    if match is None:
        return "ok"  # e.g. `gepa validate --ping`
    n = int(match.group(1))
    right = gold(n)
    if IDEAS[n % 3] in messages[0]["content"]:
        return right
    return "beta" if right == "alpha" else "alpha"


def write_ideas_experiment(root: Path, base_url: str, **overrides: Any) -> Path:
    """Data and config of a 2-label classify task the ideas responder can learn."""
    splits = {"train": range(0, 9), "val": range(10, 16), "test": range(20, 23)}
    write_splits(root, splits, label=gold)
    model = {"model": "openai/stub-model", "base_url": base_url, "api_key_env": "FAULT_KEY"}
    config: dict[str, Any] = {
        "name": "ideas",
        "task": {
            "type": "classify",
            "data": {
                "train": "data/train.jsonl",
                "val": "data/val.jsonl",
                "test": "data/test.jsonl",
            },
            "prompts": {"label": "Label the item as alpha or beta."},
            "options": {"labels": ["alpha", "beta"]},
        },
        "models": {"task": dict(model), "reflection": dict(model)},
        "budget": {"max_metric_calls": 80},
        "search": {"minibatch_size": 2},
        "runtime": {"max_concurrency": 2, "max_retries": 2, "request_timeout": 60},
        "output": {"runs_dir": str(root / "runs")},
    }
    return write_config(root, config, overrides)


# --- running the real CLI ----------------------------------------------------------------
#
# `gepa` runs in a forked child of the test process: the same code path as the console
# command (the Typer app, its error boundary and exit codes), without paying several
# seconds of interpreter start-up and imports per run on a busy machine.
# `gepa_subprocess` runs `python -m gepa_cli` for the few tests that want a fresh process.


@dataclass(frozen=True)
class Finished:
    """A finished `gepa` process: exit code (-N when killed by signal N) and its output."""

    returncode: int
    stdout: str
    stderr: str


class Gepa:
    """A `gepa` command running in a forked child; signal it, kill it, wait for it."""

    def __init__(self, args: Sequence[str], cwd: Path, backoff_s: float | None = None) -> None:
        """`backoff_s` replaces the client's first retry backoff (0.5 s) to keep tests fast."""
        self._out, self._err = _temp_path(".out"), _temp_path(".err")
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:  # the child never returns from here
            _child_main(list(args), cwd, self._out, self._err, backoff_s)
        self.result: Finished | None = None

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def wait(self, timeout: float = 120) -> Finished:
        if self.result is None:
            deadline = time.monotonic() + timeout
            while True:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    raise TimeoutError(f"gepa did not finish in {timeout} s")
                time.sleep(0.01)
            self.result = Finished(
                os.waitstatus_to_exitcode(status), self._out.read_text(), self._err.read_text()
            )
            self._out.unlink()
            self._err.unlink()
        return self.result

    def kill_hard(self) -> Finished:
        self.send_signal(signal.SIGKILL)
        return self.wait()


def _temp_path(suffix: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix, prefix="gepa-test-")
    os.close(fd)
    return Path(name)


def _child_main(args: list[str], cwd: Path, out: Path, err: Path, backoff_s: float | None) -> None:
    code = 1
    try:
        os.chdir(cwd)
        if backoff_s is not None:
            openai_client.BACKOFF_BASE_S = backoff_s
        sys.stdout = out.open("w")  # noqa: SIM115 - flushed below, closed by os._exit
        sys.stderr = err.open("w")  # noqa: SIM115
        os.environ.update({"FAULT_KEY": SECRET})
        os.environ.pop("GEPA_DEBUG", None)
        from gepa_cli.cli.app import app

        app(args=args, prog_name="gepa")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def gepa(*args: str, cwd: Path, timeout: float = 120, backoff_s: float | None = None) -> Finished:
    """Run `gepa ARGS` to completion (in a forked child)."""
    return Gepa(args, cwd, backoff_s).wait(timeout)


def gepa_subprocess(*args: str, cwd: Path, timeout: float = 120) -> subprocess.Popen[str]:
    """Start `python -m gepa_cli ARGS` in a fresh interpreter."""
    env = {**os.environ, "FAULT_KEY": SECRET}
    env.pop("GEPA_DEBUG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "gepa_cli", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def run_dir_of(result: Finished) -> Path:
    return Path(result.stdout.strip().splitlines()[-1])


def assert_same_outcome(run_dir: Path, expected: dict[str, Any]) -> None:
    """`outcome(run_dir) == expected`, part by part, with a readable first difference."""
    got = outcome(run_dir)
    for part in ("summary", "candidates", "engine"):
        assert got[part] == expected[part], part
    for index, (mine, theirs) in enumerate(zip(got["events"], expected["events"], strict=False)):
        assert mine == theirs, f"event {index} differs"
    assert len(got["events"]) == len(expected["events"]), "event count differs"


WALL_TIME_FIELDS = ("time", "seconds")
"""Event fields that measure wall time, which no two runs share."""


def outcome(run_dir: Path) -> dict[str, Any]:
    """What must match between two runs: the engine state, the candidates, the summary's
    result fields and the events without their timestamps."""
    checkpoint = json.loads((run_dir / "checkpoint.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text())
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    keys = ("best_candidate", "best_val_score", "metric_calls", "candidates", "iterations", "test")
    return {
        "engine": checkpoint["engine"],
        "candidates": (run_dir / "candidates.jsonl").read_text(),
        "summary": {k: summary[k] for k in keys},
        "events": [{k: v for k, v in e.items() if k not in WALL_TIME_FIELDS} for e in events],
    }


_REFERENCE: dict[str, Any] = {}


def reference_run() -> tuple[dict[str, Any], int]:
    """The uninterrupted, fault-free run of the ideas experiment: its `outcome` and how many
    requests it sent. Made once per test session (every test module compares with it)."""
    if not _REFERENCE:
        root = Path(tempfile.mkdtemp(prefix="gepa-reference-"))
        with FaultServer(delay_s=0.003) as server:
            result = gepa("run", str(write_ideas_experiment(root, server.base_url)), cwd=root)
            sent = server.arrivals
        assert result.returncode == 0, result.stderr
        _REFERENCE.update(outcome=outcome(run_dir_of(result)), sent=sent)
        shutil.rmtree(root)
    return _REFERENCE["outcome"], _REFERENCE["sent"]


# --- the server --------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: FaultServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        status, headers, data = self.server.owner.respond(body)
        if status == 0:
            return  # a hang: the client has given up; close without answering
        try:
            self.send_response(status)
            for name, value in {"Content-Length": str(len(data)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client went away (killed, or timed out)


class FaultServer:
    """See the module docstring. Use as a context manager."""

    def __init__(
        self,
        responder: Responder = ideas_responder,
        fault_rate: float = 0.0,
        seed: int = 0,
        delay_s: float = 0.0,
        hang_s: float = 1.5,
        max_faults_in_a_row: int = 3,
        hold_at: int | None = None,
        outage_from: int | None = None,
        kinds: Sequence[str] = FAULT_KINDS,
    ) -> None:
        self.responder = responder
        self.fault_rate = fault_rate
        self.seed = seed
        self.delay_s = delay_s
        self.hang_s = hang_s
        self.max_faults_in_a_row = max_faults_in_a_row
        self.hold_at = hold_at
        self.outage_from = outage_from
        self.kinds = tuple(kinds)
        self.outage = False
        self.reflection_outage = False
        self.held = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._attempts: dict[str, int] = {}
        self.arrivals = 0
        self.faults: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def release(self) -> None:
        """Let a held request go on."""
        self._release.set()

    def respond(self, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            self.arrivals += 1
            number = self.arrivals
            attempt = self._attempts.get(digest, 0)
            self._attempts[digest] = attempt + 1
            self.bodies.append(body)
        if number == self.hold_at:
            self.held.set()
            self._release.wait(timeout=60)
        if self.delay_s:
            time.sleep(self.delay_s)
        kind = self._fault(digest, attempt, body, number)
        if kind is not None:
            with self._lock:
                self.faults.append(kind)
            return self._faulty(kind)
        payload = chat_completion(self.responder(body), model=str(body.get("model")))
        return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()

    def _fault(self, digest: str, attempt: int, body: dict[str, Any], number: int) -> str | None:
        if self.outage or (self.reflection_outage and is_reflection(body)):
            return "500"
        if self.outage_from is not None and number >= self.outage_from:
            return "500"
        if not self.fault_rate or attempt >= self.max_faults_in_a_row:
            return None
        draw = hashlib.sha256(f"{self.seed}:{digest}:{attempt}".encode()).digest()
        if int.from_bytes(draw[:8], "big") / 2**64 >= self.fault_rate:
            return None
        return self.kinds[draw[8] % len(self.kinds)]

    def _faulty(self, kind: str) -> tuple[int, dict[str, str], bytes]:
        error = json.dumps({"error": {"message": f"injected {kind}"}}).encode()
        json_type = {"Content-Type": "application/json"}
        if kind == "429":
            return 429, {**json_type, "Retry-After": "0.05"}, error
        if kind == "503":
            return 503, {**json_type, "Retry-After": "0"}, error
        if kind == "hang":
            time.sleep(self.hang_s)
            return 0, {}, b""
        if kind == "bad_json":
            return 200, json_type, b'{"id": "chatcmpl-1", "choices": [{"index": 0, "mess'
        if kind == "html":
            return 200, {"Content-Type": "text/html"}, b"<html><body>Bad gateway</body></html>"
        if kind == "empty":
            return 200, json_type, json.dumps(chat_completion("")).encode()
        if kind == "no_choices":
            return 200, json_type, b"{}"
        return 500, json_type, error

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
        self._httpd.shutdown()
        self._thread.join(timeout=5)
        self._httpd.server_close()
