"""`search.val_policy: staged` from the config to the run directory: validation of the keys,
the settings the runner builds, summary.json, candidates.jsonl, frontier.json,
score_matrix.csv and the plain display's line for a child stopped early."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from cli_harness import IDEA, SYSTEM_PROMPT, idea_responder, write_experiment
from openai_stub_server import StubServer

from gepa_cli.config import ConfigError, load_config
from gepa_cli.display.plain import PlainDisplay
from gepa_cli.display.run_info import RunInfo
from gepa_cli.engine import events as ev
from gepa_cli.run.engine_config import engine_settings
from gepa_cli.run.runner import start_run

TRAIN_ONLY = "Label the item as alpha or beta. Rule: remember the training items."


def test_the_config_keys_are_validated_and_reach_the_engine(tmp_path: Path) -> None:
    config = write_experiment(tmp_path, "http://127.0.0.1:9/v1")
    default = engine_settings(load_config(config, []))
    assert (default.val_policy, default.val_stage_size) == ("full", None)
    staged = engine_settings(
        load_config(config, ["search.val_policy=staged", "search.val_stage_size=7"])
    )
    assert (staged.val_policy, staged.val_stage_size) == ("staged", 7)
    with pytest.raises(ConfigError, match=r"\[search\.val_stage_size\] must be >= 1, got 0"):
        load_config(config, ["search.val_stage_size=0"])
    with pytest.raises(ConfigError, match=r"\[search\.val_policy\] unknown value 'half'"):
        load_config(config, ["search.val_policy=half"])


def responder(replies: list[str]):
    """Reflections: first an instruction that only knows the training items (it passes
    the minibatch, fails all of val), then the idea. Task calls: as `idea_responder`,
    except that the train-only instruction is right exactly on train items (< 20)."""

    def respond(body: dict[str, Any]) -> str:
        messages = body["messages"]
        if messages[0]["content"] == SYSTEM_PROMPT:
            reply = replies.pop(0) if replies else f"Label the item as alpha or beta. {IDEA}"
            return f"```\n{reply}\n```"
        if messages[0]["content"] == TRAIN_ONLY:
            n = int(messages[-1]["content"].split()[-1])
            right = "alpha" if n % 2 == 0 else "beta"
            wrong = "beta" if right == "alpha" else "alpha"
            return right if n < 20 else wrong
        return idea_responder(body)

    return respond


def test_a_staged_run_keeps_the_stopped_child_partial_in_the_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("E2E_KEY", "sk-test")
    with StubServer(responder([TRAIN_ONLY])) as server:
        config = write_experiment(tmp_path, server.base_url)
        overrides = ["search.val_policy=staged", "search.val_stage_size=2"]
        result = start_run(load_config(config, overrides), tmp_path, None, "none")
    summary, run_dir = result.summary, result.run_dir
    assert summary["best_val_score"] == 1.0
    assert summary["staged_validation"] == {
        "stage_size": 2, "stopped_early": 1, "metric_calls_saved": 3,
    }  # fmt: skip
    records = [json.loads(line) for line in (run_dir / "candidates.jsonl").read_text().splitlines()]
    [partial] = [r for r in records if r.get("partial")]
    assert partial["prompts"]["label"] == TRAIN_ONLY
    assert partial["val_scored"] == 2 and partial["val_score"] == 0.0
    assert summary["best_candidate"] != partial["id"]
    frontier = json.loads((run_dir / "frontier.json").read_text())
    assert partial["id"] not in {m["id"] for m in frontier["non_dominated"]}
    rows = {
        r[0]: r[1:] for r in csv.reader(io.StringIO((run_dir / "score_matrix.csv").read_text()))
    }
    assert rows[partial["id"]].count("") == 3  # the val examples it was never scored on
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    assert [e["reason"] for e in events if e["event"] == "ValidationStaged"][:1] == ["stopped"]
    checkpoint = json.loads((run_dir / "checkpoint.json").read_text())
    assert checkpoint["engine"]["partial"] == [partial["id"]]


def test_the_plain_line_of_a_child_stopped_early_says_so() -> None:
    stream = io.StringIO()
    display = PlainDisplay(stream)
    display.start(RunInfo("runs/x", "demo", "m", "m", 100, 10, 6))
    a, b = "a" * 12, "b" * 12
    for event in [
        ev.SeedEvaluated(a, 0.5, 6),
        ev.IterationStarted(1, a, ("solve",), ("t0",), 6),
        ev.ProposalEvaluated(1, a, b, ("solve",), {"solve": "x"}, 1.0, 2.0, True, 8),
        ev.ValidationStaged(1, a, b, ("v0", "v3"), 1.0, 1.0, False, "stopped", 10),
        ev.PartialCandidateAdded(1, b, (a,), "mutation", 0.5, 2, 6, 10),
    ]:
        display.handle(event)
    display.finish({"staged_validation": {"stopped_early": 1, "metric_calls_saved": 4}})
    lines = stream.getvalue().splitlines()
    assert (
        "iter 1 parent aaaaaa.. module solve: 1.0 -> 2.0 accepted "
        "(bbbbbb.. stopped early: val 0.500 on 2/6) | best 0.500 (seed 0.500)" in lines[-3]
    )
    assert "staged validation 1 child stopped early, 4 metric calls saved" in lines[-2]
