"""What an adversarial probe broke (issue 13), each attack replayed from outside against
simulated servers: a cache that answered for another endpoint, `-o` overwriting the
run's own files, tracebacks on undecodable files and a garbled cache, spend lost across
kill -9 and outages, and odd arguments. (Credentials, terminal injection and unbounded
input: test_hardening_input.py.)"""

from __future__ import annotations

import json
import os
import signal

import pytest
from fault_server import FaultServer, Gepa, gepa, write_ideas_experiment
from hardening_harness import assert_refused, cli, finish_a_run, private_copy

from gepa_cli.lm.openai_client import OpenAIChatLM
from gepa_cli.lm.replicas import ReplicaLM
from gepa_cli.lm.usage import UsageMeter

DELAY_S = 0.003
TEST_SIZE = 3  # the ideas experiment's test split


@pytest.fixture(scope="module")
def finished_once(tmp_path_factory):
    root = tmp_path_factory.mktemp("finished")
    with FaultServer(delay_s=DELAY_S) as server:
        yield root, finish_a_run(root, server), server


@pytest.fixture
def finished(finished_once, tmp_path):
    """A private copy of the finished run, and the (shared, running) server."""
    root, run_dir, server = finished_once
    return private_copy(root, run_dir, tmp_path), server


# --- 1. the response cache is keyed on the endpoint --------------------------------------


def test_eval_against_another_base_url_sends_that_server_its_requests(finished):
    run_dir, first = finished
    with FaultServer() as other:
        moved = cli("eval", str(run_dir), "--set", f"models.task.base_url={other.base_url}")
        sent_elsewhere = other.arrivals
    before = first.arrivals
    same = cli("eval", str(run_dir))  # the run's own endpoint: answered from the cache
    assert moved.exit_code == 0 and same.exit_code == 0, moved.stderr + same.stderr
    assert sent_elsewhere == TEST_SIZE and first.arrivals == before
    assert json.loads(moved.stdout)["usage"]["task"]["calls"] == TEST_SIZE
    assert json.loads(same.stdout)["usage"]["task"]["cached_calls"] == TEST_SIZE


def test_the_cache_key_of_replicas_is_their_set_and_of_an_embedded_model_its_name():
    def lm(url: str, endpoint: str | None = None) -> OpenAIChatLM:
        return OpenAIChatLM("m", url, "k", "task", UsageMeter(), cache_endpoint=endpoint)

    a, b = "http://10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1"
    pair = ReplicaLM([lm(a), lm(b)]).cache_identity()
    assert pair == ReplicaLM([lm(b), lm(a + "/")]).cache_identity()
    assert pair["endpoint"] == f"replicas:{a} {b}"
    assert pair != ReplicaLM([lm(a)]).cache_identity() != lm(b).cache_identity()
    embedded = [lm(f"http://127.0.0.1:{port}/v1", "embedded/smollm2-135m") for port in (1, 2)]
    assert embedded[0].cache_identity() == embedded[1].cache_identity()  # port changes


# --- 2. -o never overwrites a run's own files ---------------------------------------------


@pytest.mark.parametrize("name", ["checkpoint.json", "candidates.jsonl"])
def test_o_onto_a_managed_file_is_refused_and_the_run_still_resumes(finished, name):
    run_dir, _ = finished
    target = run_dir / name
    before = target.read_bytes()
    for command in ("export-prompt", "report"):
        assert_refused(cli(command, str(run_dir), "-o", str(target)), "refusing to overwrite")
    sneaky = run_dir / "best" / ".." / name
    assert_refused(cli("export-prompt", str(run_dir), "-o", str(sneaky)), "refusing")
    link = run_dir.parent / "innocent.txt"
    link.symlink_to(target)
    assert_refused(cli("export-prompt", str(run_dir), "-o", str(link)), "refusing")
    assert target.read_bytes() == before
    resumed = gepa("resume", str(run_dir), "--display", "none", cwd=run_dir.parent)
    assert resumed.returncode == 0, resumed.stderr


def test_o_to_a_directory_or_a_missing_parent_is_one_line(finished, tmp_path):
    run_dir, _ = finished
    for command in ("export-prompt", "report"):
        assert_refused(cli(command, str(run_dir), "-o", str(tmp_path)), "is a directory")
    missing = tmp_path / "nowhere" / "x.txt"
    assert_refused(cli("export-prompt", str(run_dir), "-o", str(missing)), "does not exist")
    assert cli("report", str(run_dir), "-o", str(missing)).exit_code == 0  # report makes it
    blocked = tmp_path / "p.txt" / "x.html"  # the parent is a file: no raw errno either
    (tmp_path / "p.txt").write_text("")
    assert_refused(cli("report", str(run_dir), "-o", str(blocked)), "cannot write the report")
    assert cli("report", str(run_dir), "-o", str(run_dir / "report.html")).exit_code == 0
    assert cli("export-prompt", str(run_dir), "-o", str(tmp_path / "p.txt")).exit_code == 0
    assert (tmp_path / "p.txt").read_text().startswith("Label the item")


# --- 3. undecodable run files and a garbled cache -----------------------------------------

NOT_UTF8 = b"\xff\xfe\x00garbage\xc3\x28" * 5


@pytest.mark.parametrize(
    "name, command",
    [
        ("checkpoint.json", ("resume", "--display", "none")),
        ("candidates.jsonl", ("export-prompt",)),
        ("candidates.jsonl", ("show-frontier",)),
        ("frontier.json", ("show-frontier",)),
        ("config.yaml", ("eval",)),
    ],
)
def test_non_utf8_bytes_in_a_run_file_give_one_line_and_exit_2(finished, name, command):
    run_dir, _ = finished
    (run_dir / name).write_bytes(NOT_UTF8)
    line = assert_refused(cli(command[0], str(run_dir), *command[1:]), name)
    assert "not UTF-8" in line


@pytest.mark.parametrize("damage", ["garbled", "truncated"])
def test_a_damaged_cache_gives_one_line_naming_the_way_out(finished, damage):
    run_dir, _ = finished
    cache = run_dir / "cache.sqlite"
    data = cache.read_bytes()
    cache.write_bytes(os.urandom(4096) if damage == "garbled" else data[: len(data) // 2])
    for command in (("eval",), ("resume", "--display", "none")):
        line = assert_refused(cli(command[0], str(run_dir), *command[1:]), "cache.sqlite")
        assert "--no-cache" in line and "delete" in line
    assert cli("eval", str(run_dir), "--no-cache").exit_code == 0


# --- 4. spend is counted across kill -9 and outages ----------------------------------------


def test_after_kill_9_and_resume_lm_calls_count_every_answer_paid_for(tmp_path):
    with FaultServer(delay_s=DELAY_S, hold_at=14) as server:  # 14: iteration 1's val scoring
        config = write_ideas_experiment(tmp_path, server.base_url)
        run_dir = tmp_path / "run"
        run = Gepa(["run", str(config), "--display", "none", "--run-dir", str(run_dir)], tmp_path)
        assert server.held.wait(30), run.wait().stderr
        assert run.kill_hard().returncode == -signal.SIGKILL
        server.release()
        resumed = gepa("resume", str(run_dir), "--display", "none", cwd=tmp_path)
        sent = server.arrivals
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    # every request but the held one (and at most the other one in flight) was answered
    assert sent - 2 <= summary["lm_calls"] <= sent - 1


def test_lm_errors_survive_an_outage_and_the_resume(tmp_path):
    with FaultServer(delay_s=DELAY_S, outage_from=12) as server:
        config = write_ideas_experiment(tmp_path, server.base_url)
        run_dir = tmp_path / "run"
        args = ("run", str(config), "--display", "none", "--run-dir", str(run_dir))
        failed = gepa(*args, cwd=tmp_path, backoff_s=0.01)
        errors = json.loads((run_dir / "summary.json").read_text())["lm_errors"]["task"]
        calls = json.loads((run_dir / "summary.json").read_text())["lm_calls"]
        server.outage_from = None
        resumed = gepa("resume", str(run_dir), "--display", "none", cwd=tmp_path)
    assert failed.returncode == 1 and resumed.returncode == 0, resumed.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert errors > 0 and summary["lm_errors"]["task"] == errors
    assert summary["lm_calls"] > calls


# --- 8. odd arguments ----------------------------------------------------------------------


def test_serve_with_zero_slots_is_refused():
    assert_refused(cli("serve", "--slots", "0"), "--slots must be between 1 and")
    assert_refused(cli("serve", "--port", "70000"), "--port must be between 1 and 65535")


def test_an_empty_run_dir_is_refused_and_nothing_is_written(tmp_path, monkeypatch):
    config = write_ideas_experiment(tmp_path, "http://127.0.0.1:9/v1")
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_refused(cli("run", str(config), "--run-dir", ""), "--run-dir is empty")
    assert_refused(cli("run", str(config), "--run-dir", "."), "not a run directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("metric_calls", -1000, "metric_calls is -1000"),
        ("iteration", -1, "iteration is -1"),
        ("errors", 10**6, "exceed metric_calls"),
        ("metric_calls", 1, "after the run's 1"),
    ],
)
def test_an_implausible_checkpoint_is_refused(finished, field, value, fragment):
    run_dir, _ = finished
    path = run_dir / "checkpoint.json"
    checkpoint = json.loads(path.read_text())
    checkpoint["engine"][field] = value
    path.write_text(json.dumps(checkpoint))
    assert_refused(cli("resume", str(run_dir), "--display", "none"), fragment)
