"""`gepa eval`: score a finished run's candidate on a split with another task model
(the transfer experiment), or a config's seed prompts, outside any budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_harness import IDEA, gepa, idea_responder, is_task_request, write_experiment
from openai_stub_server import StubServer
from typer.testing import CliRunner

from gepa_cli.cli.app import app


@pytest.fixture(scope="module")
def served_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A finished run (seed 0.0 -> best 1.0) and the stub server, still serving."""
    root = tmp_path_factory.mktemp("eval")
    with StubServer(idea_responder, models=("stub-model", "other-model")) as server:
        config = write_experiment(root, server.base_url)
        result = gepa("run", str(config), "--display", "none", cwd=root)
        assert result.returncode == 0, result.stderr
        run_dir = Path(result.stdout.strip().splitlines()[-1])
        yield root, config, run_dir, server


def task_models_since(server: StubServer, start: int) -> list[str]:
    return [r.body["model"] for r in server.requests[start:] if is_task_request(r.body)]


def test_best_candidate_on_test_with_another_model(served_run: Any) -> None:
    root, _, run_dir, server = served_run
    best = json.loads((run_dir / "summary.json").read_text())["best_candidate"]
    before = len(server.requests)
    result = gepa(
        "eval", str(run_dir), "--split", "test", "--candidate", "best",
        "--set", "models.task.model=openai/other-model", cwd=root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert task_models_since(server, before) == ["other-model"] * 4  # not served from the cache
    printed = json.loads(result.stdout)
    assert printed["candidate"] == best and printed["model"] == "openai/other-model"
    assert (printed["split"], printed["mean"], printed["n"], printed["errors"]) == (
        "test",
        1.0,
        4,
        0,
    )
    assert set(printed["scores"]) == {"test30", "test31", "test32", "test33"}
    stored = run_dir / "evals" / f"test_{best}_openai-other-model.json"
    assert json.loads(stored.read_text()) == printed
    assert result.stderr.strip() == (
        f"eval: candidate {best} on test with openai/other-model: mean 1.000 over 4 examples"
    )
    assert "other-model" not in (run_dir / "config.yaml").read_text()  # the run is unchanged


def test_seed_by_name_and_a_candidate_by_id_prefix(served_run: Any) -> None:
    root, _, run_dir, _ = served_run
    seed = gepa("eval", str(run_dir), "--candidate", "seed", "--split", "val", cwd=root)
    assert seed.returncode == 0, seed.stderr
    assert json.loads(seed.stdout)["mean"] == 0.0
    records = [json.loads(line) for line in (run_dir / "candidates.jsonl").read_text().splitlines()]
    best = next(r for r in records if IDEA in r["prompts"]["label"])
    by_prefix = gepa("eval", str(run_dir), "--candidate", best["id"][:6], cwd=root)
    assert by_prefix.returncode == 0, by_prefix.stderr
    assert json.loads(by_prefix.stdout)["candidate"] == best["id"]
    assert (run_dir / "evals" / f"val_{records[0]['id']}_openai-stub-model.json").is_file()


def test_a_config_evaluates_its_seed_and_writes_nothing(served_run: Any) -> None:
    root, config, _, _ = served_run
    result = gepa("eval", str(config), "--split", "train", cwd=root)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert (printed["candidate"], printed["n"], printed["mean"]) == ("seed", 12, 0.0)
    assert not (root / "evals").exists()


def run_in_process(*args: str) -> Any:
    """The CLI in this process (no interpreter start-up): for the quick refusals."""
    return CliRunner(env={"GEPA_DEBUG": None}).invoke(app, list(args))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--split", "dev"], "--split must be one of train, val, test"),
        (["--candidate", "zzzz"], "zzzz"),
    ],
)
def test_bad_input_exits_2_with_one_line(served_run: Any, args: list[str], message: str) -> None:
    _, _, run_dir, _ = served_run
    result = run_in_process("eval", str(run_dir), *args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_a_config_accepts_no_candidate_id_and_a_missing_target_is_an_error(
    served_run: Any,
) -> None:
    root, config, _, _ = served_run
    by_id = run_in_process("eval", str(config), "--candidate", "abc123")
    assert by_id.exit_code == 2 and "only --candidate seed applies" in by_id.stderr
    missing = run_in_process("eval", str(root / "nowhere"))
    assert missing.exit_code == 2 and "nowhere" in missing.stderr
