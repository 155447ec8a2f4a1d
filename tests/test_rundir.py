"""The run directory: files and their content, atomic writes, append-only
candidates, naming, checkpoint errors; and the frontier/export views read from it."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from gepa_cli.display.frontier_table import frontier_table
from gepa_cli.engine import events as ev
from gepa_cli.engine.state import Candidate, EngineState, candidate_id
from gepa_cli.engine.types import Rollout
from gepa_cli.rundir.directory import RunDir, RunDirError, write_atomic
from gepa_cli.rundir.frontier import export_prompts, frontier_json, resolve_candidate

VAL_IDS = ["v1", "v2", "v3", "v4"]
SEED_PROMPTS = {"solve": "Solve it.", "check": "Check it."}
B_PROMPTS = {"solve": "Solve it step by step.\nEnd with 'Answer: N'.", "check": "Check it."}
C_PROMPTS = {"solve": B_PROMPTS["solve"], "check": "Check units and signs."}
A_ID, B_ID, C_ID = (candidate_id(p) for p in (SEED_PROMPTS, B_PROMPTS, C_PROMPTS))
# Fronts: v1 {A,B}  v2 {B,C}  v3 {C}  v4 {A,C} (best 0.5). Means A .375, B .5, C .625.
# Pruning drops A (its fronts all keep B or C); B wins 2 examples, C wins 3; C is best.
SCORES = {
    A_ID: {"v1": 1.0, "v2": 0.0, "v3": 0.0, "v4": 0.5},
    B_ID: {"v1": 1.0, "v2": 1.0, "v3": 0.0, "v4": 0.0},
    C_ID: {"v1": 0.0, "v2": 1.0, "v3": 1.0, "v4": 0.5},
}


def build_state(n: int = 3) -> EngineState:
    """The three-candidate run above, truncated to its first `n` candidates."""
    cands = [
        Candidate(A_ID, SEED_PROMPTS, (), "seed", 0, 0),
        Candidate(B_ID, B_PROMPTS, (A_ID,), "mutation", 1, 10),
        Candidate(C_ID, C_PROMPTS, (B_ID,), "mutation", 3, 22),
    ]
    state = EngineState()
    for cand in cands[:n]:
        state.add_candidate(cand, SCORES[cand.id])
    state.train_rollouts[A_ID] = {"t1": Rollout("t1", 0.0, "Wrong: 41, expected 42.")}
    state.iteration, state.metric_calls = 3, 26
    return state


@pytest.fixture
def rundir(tmp_path: Path) -> RunDir:
    return RunDir.create(tmp_path / "runs", "demo", None)


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# --- views -------------------------------------------------------------------------------


def test_save_views_writes_the_score_matrix(rundir: RunDir) -> None:
    rundir.save_views(build_state(), VAL_IDS)
    rows = list(csv.reader(io.StringIO((rundir.path / "score_matrix.csv").read_text())))
    assert rows[0] == ["candidate", "v1", "v2", "v3", "v4"]
    assert rows[1] == [A_ID, "1.0", "0.0", "0.0", "0.5"]
    assert rows[2] == [B_ID, "1.0", "1.0", "0.0", "0.0"]
    assert rows[3] == [C_ID, "0.0", "1.0", "1.0", "0.5"]
    assert len(rows) == 4


def test_save_views_writes_the_frontier(rundir: RunDir) -> None:
    rundir.save_views(build_state(), VAL_IDS)
    frontier = json.loads((rundir.path / "frontier.json").read_text())
    assert frontier["examples"] == [
        {"example_id": "v1", "best_score": 1.0, "candidates": [A_ID, B_ID]},
        {"example_id": "v2", "best_score": 1.0, "candidates": [B_ID, C_ID]},
        {"example_id": "v3", "best_score": 1.0, "candidates": [C_ID]},
        {"example_id": "v4", "best_score": 0.5, "candidates": [A_ID, C_ID]},
    ]
    assert frontier["non_dominated"] == [
        {"id": B_ID, "wins": 2, "mean_val_score": 0.5},
        {"id": C_ID, "wins": 3, "mean_val_score": 0.625},
    ]
    assert frontier["best_candidate"] == C_ID


def test_save_views_writes_best_prompts_and_removes_stale_ones(rundir: RunDir) -> None:
    (rundir.path / "best").mkdir()
    (rundir.path / "best" / "retired.txt").write_text("old module")
    rundir.save_views(build_state(), VAL_IDS)
    best = rundir.path / "best"
    assert sorted(p.name for p in best.iterdir()) == ["check.txt", "solve.txt"]
    assert (best / "solve.txt").read_text() == C_PROMPTS["solve"]
    assert (best / "check.txt").read_text() == "Check units and signs."


def test_candidates_jsonl_has_exactly_the_contract_fields(rundir: RunDir) -> None:
    rundir.save_views(build_state(), VAL_IDS)
    lines = read_lines(rundir.path / "candidates.jsonl")
    assert [line["id"] for line in lines] == [A_ID, B_ID, C_ID]
    assert lines[2] == {
        "id": C_ID,
        "parents": [B_ID],
        "origin": "mutation",
        "iteration": 3,
        "prompts": C_PROMPTS,
        "val_score": 0.625,
        "metric_calls_at_discovery": 22,
    }
    assert lines[0]["parents"] == [] and lines[0]["origin"] == "seed"
    assert rundir.load_candidates() == lines


def test_candidates_jsonl_is_appended_across_saves(rundir: RunDir) -> None:
    path = rundir.path / "candidates.jsonl"
    rundir.save_views(build_state(2), VAL_IDS)
    before, inode = path.read_text(), os.stat(path).st_ino
    rundir.save_views(build_state(3), VAL_IDS)
    after = path.read_text()
    assert after.startswith(before) and after.count("\n") == 3
    assert os.stat(path).st_ino == inode  # appended in place, not replaced
    rundir.save_views(build_state(3), VAL_IDS)
    assert path.read_text() == after  # nothing new: nothing written


def test_a_reopened_run_dir_appends_after_matching_lines(rundir: RunDir) -> None:
    path = rundir.path / "candidates.jsonl"
    rundir.save_views(build_state(2), VAL_IDS)
    inode = os.stat(path).st_ino
    RunDir(rundir.path).save_views(build_state(3), VAL_IDS)
    assert [line["id"] for line in read_lines(path)] == [A_ID, B_ID, C_ID]
    assert os.stat(path).st_ino == inode


def test_candidates_jsonl_is_repaired_when_longer_than_the_state(rundir: RunDir) -> None:
    path = rundir.path / "candidates.jsonl"
    rundir.save_views(build_state(3), VAL_IDS)
    RunDir(rundir.path).save_views(build_state(2), VAL_IDS)  # resumed from an older checkpoint
    assert [line["id"] for line in read_lines(path)] == [A_ID, B_ID]
    rundir.save_views(build_state(1), VAL_IDS)  # the same object, state shrank
    assert [line["id"] for line in read_lines(path)] == [A_ID]


def test_a_torn_last_line_is_repaired(rundir: RunDir) -> None:
    path = rundir.path / "candidates.jsonl"
    rundir.save_views(build_state(2), VAL_IDS)
    path.write_text(path.read_text() + '{"id": "tor')
    RunDir(rundir.path).save_views(build_state(3), VAL_IDS)
    assert [line["id"] for line in read_lines(path)] == [A_ID, B_ID, C_ID]


# --- atomic writes -------------------------------------------------------------------------


def test_writes_leave_no_temp_files(rundir: RunDir) -> None:
    state = build_state()
    rundir.write_config({"name": "demo"})
    rundir.save_checkpoint(state, {"elapsed_s": 1.0})
    rundir.save_views(state, VAL_IDS)
    rundir.save_views(state, VAL_IDS)
    rundir.write_summary({"best_candidate": C_ID})
    names = sorted(p.name for p in rundir.path.rglob("*"))
    assert names == sorted(
        [
            "config.yaml", "checkpoint.json", "candidates.jsonl", "score_matrix.csv",
            "frontier.json", "summary.json", "best", "check.txt", "solve.txt",
        ]
    )  # fmt: skip


def test_a_failed_atomic_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "checkpoint.json"
    target.write_text("old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.json"]


# --- checkpoint ------------------------------------------------------------------------------


def test_checkpoint_round_trips_state_and_extra(rundir: RunDir) -> None:
    state = build_state()
    extra = {"usage": {"task": {"calls": 7}}, "elapsed_s": 12.5}
    rundir.save_checkpoint(state, extra)
    raw = json.loads((rundir.path / "checkpoint.json").read_text())
    assert list(raw)[:2] == ["schema_version", "engine"] and raw["elapsed_s"] == 12.5
    loaded, loaded_extra = rundir.load_checkpoint()
    assert loaded.to_json() == state.to_json()
    assert loaded_extra == extra


def test_checkpoint_extra_cannot_shadow_the_engine(rundir: RunDir) -> None:
    with pytest.raises(ValueError, match="engine"):
        rundir.save_checkpoint(build_state(), {"engine": {}})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"schema_version": 1, "engine": {', "invalid JSON at line 1"),
        ("[1, 2]", "not a gepa checkpoint"),
        ('{"schema_version": 99, "engine": {}}', "schema_version 99 is not supported"),
        ('{"schema_version": 1, "engine": {"schema_version": 1}}', "checkpoint is corrupt"),
    ],
)
def test_a_bad_checkpoint_gives_one_clear_line(rundir: RunDir, content: str, message: str) -> None:
    (rundir.path / "checkpoint.json").write_text(content)
    with pytest.raises(RunDirError) as info:
        rundir.load_checkpoint()
    text = str(info.value)
    assert message in text and "checkpoint.json" in text and "\n" not in text


def test_a_missing_checkpoint_is_named(rundir: RunDir) -> None:
    with pytest.raises(RunDirError, match="checkpoint.json: missing"):
        rundir.load_checkpoint()


# --- creating and opening --------------------------------------------------------------------


def test_create_names_the_directory_by_time_and_sanitized_name(tmp_path: Path) -> None:
    now = datetime(2024, 1, 2, 3, 4, 5)
    first = RunDir.create(tmp_path / "runs", "my run/v1!", None, now=now)
    second = RunDir.create(tmp_path / "runs", "my run/v1!", None, now=now)
    assert first.path == tmp_path / "runs" / "20240102-030405_my-run-v1"
    assert second.path == tmp_path / "runs" / "20240102-030405_my-run-v1-2"
    assert first.path.is_dir() and second.path.is_dir()
    assert RunDir.create(tmp_path / "runs", "../..", None, now=now).path.name.endswith("_run")


def test_create_with_an_explicit_dir_creates_it_and_refuses_a_used_one(tmp_path: Path) -> None:
    explicit = tmp_path / "deep" / "mine"
    rundir = RunDir.create(tmp_path / "runs", "demo", explicit)
    assert rundir.path == explicit and explicit.is_dir()
    assert not (tmp_path / "runs").exists()
    rundir.save_checkpoint(build_state(), {})
    with pytest.raises(RunDirError, match="already holds a run"):
        RunDir.create(tmp_path / "runs", "demo", explicit)


def test_open_rejects_what_is_not_a_run_dir(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="no such run directory"):
        RunDir.open(tmp_path / "absent")
    with pytest.raises(RunDirError, match=f"{tmp_path}: not a run directory"):
        RunDir.open(tmp_path)
    (tmp_path / "config.yaml").write_text("name: x\n")
    assert RunDir.open(tmp_path).path == tmp_path


def test_config_keeps_key_order(rundir: RunDir) -> None:
    config = {"name": "demo", "seed": 0, "task": {"type": "qa", "prompts": {"b": "x", "a": "y"}}}
    rundir.write_config(config)
    assert rundir.read_config() == config
    assert list(rundir.read_config()["task"]["prompts"]) == ["b", "a"]
    assert (rundir.path / "config.yaml").read_text().startswith("name: demo\nseed: 0\n")


def test_a_broken_config_is_reported(rundir: RunDir) -> None:
    (rundir.path / "config.yaml").write_text("name: [unclosed\n")
    with pytest.raises(RunDirError, match="config.yaml: not valid YAML"):
        rundir.read_config()


def test_events_are_appended_one_json_line_each_with_utc_time(rundir: RunDir) -> None:
    rundir.append_event(ev.SeedEvaluated(A_ID, 0.375, 4))
    rundir.append_event(ev.IterationStarted(1, A_ID, ("solve",), ("t1", "t2"), 4))
    lines = read_lines(rundir.path / "events.jsonl")
    assert [line["event"] for line in lines] == ["SeedEvaluated", "IterationStarted"]
    assert lines[1]["minibatch"] == ["t1", "t2"] and lines[0]["val_score"] == 0.375
    stamp = datetime.fromisoformat(lines[0]["time"])
    assert stamp.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60


def test_summary_round_trips(rundir: RunDir) -> None:
    summary = {"best_candidate": C_ID, "best_val_score": 0.625, "test": None}
    rundir.write_summary(summary)
    assert rundir.read_summary() == summary


def test_loading_views_that_are_missing_or_broken(rundir: RunDir) -> None:
    with pytest.raises(RunDirError, match="frontier.json: missing"):
        rundir.read_frontier()
    with pytest.raises(RunDirError, match="candidates.jsonl: missing"):
        rundir.load_candidates()
    (rundir.path / "candidates.jsonl").write_text('{"id": "a"}\nnot json\n')
    with pytest.raises(RunDirError, match=r"candidates.jsonl:2: invalid JSON"):
        rundir.load_candidates()


# --- show-frontier and export-prompt ----------------------------------------------------------


@pytest.fixture
def saved(rundir: RunDir) -> RunDir:
    rundir.save_views(build_state(), VAL_IDS)
    return rundir


def test_frontier_json_describes_the_non_dominated_candidates(saved: RunDir) -> None:
    data = json.loads(json.dumps(frontier_json(saved)))
    assert data["best_candidate"] == C_ID and data["best_val_score"] == 0.625
    assert data["candidates"] == 3
    b, c = data["non_dominated"]
    assert (b["id"], b["wins"], b["origin"], b["parents"], b["best"]) == (
        B_ID, 2, "mutation", [A_ID], False,
    )  # fmt: skip
    assert (c["id"], c["wins"], c["best"]) == (C_ID, 3, True)
    assert data["examples"][2] == {"example_id": "v3", "best_score": 1.0, "candidates": [C_ID]}


def render(table: object) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(table)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_frontier_table_lists_candidates_and_groups_winners(saved: RunDir) -> None:
    text = render(frontier_table(saved))
    assert B_ID in text and C_ID in text
    candidate_rows = text.split("Winners per val example")[0].splitlines()
    first_cells = [line.split("│")[1].strip() for line in candidate_rows if line.startswith("│")]
    assert first_cells == [B_ID, C_ID]  # A is dominated: it shows only as B's parent
    winners = text.split("Winners per val example")[1]
    row = next(line for line in winners.splitlines() if line.count(C_ID) and "v3" in line)
    assert B_ID not in row and A_ID not in row  # v3 is C's alone
    assert "0.625" in text and "best" in text


def test_frontier_table_stays_compact_for_many_examples(rundir: RunDir) -> None:
    state = EngineState()
    many = [f"ex{i:03d}" for i in range(60)]
    state.add_candidate(Candidate(A_ID, SEED_PROMPTS, (), "seed", 0, 0), dict.fromkeys(many, 1.0))
    rundir.save_views(state, many)
    text = render(frontier_table(rundir))
    assert "... (+54)" in text and "ex059" not in text
    assert len(text.splitlines()) < 25


def test_the_best_candidate_is_shown_even_off_the_frontier(rundir: RunDir) -> None:
    state = EngineState()
    prompts = [{"solve": "a"}, {"solve": "b"}, {"solve": "c"}]
    ids = [candidate_id(p) for p in prompts]
    rows = [{"v1": 1.0, "v2": 0.0}, {"v1": 0.0, "v2": 1.0}, {"v1": 0.9, "v2": 0.9}]
    for i, (p, row) in enumerate(zip(prompts, rows, strict=True)):
        state.add_candidate(Candidate(ids[i], p, (), "seed" if i == 0 else "mutation", i, 0), row)
    rundir.save_views(state, ["v1", "v2"])
    assert [m["id"] for m in frontier_json(rundir)["non_dominated"]] == ids[:2]
    assert "(not on the frontier)" in render(frontier_table(rundir))


def test_export_text_of_one_component_and_of_all(saved: RunDir) -> None:
    assert export_prompts(saved, "best", "check", "text") == "Check units and signs."
    text = export_prompts(saved)
    assert text == f"## solve\n\n{C_PROMPTS['solve']}\n\n## check\n\nCheck units and signs."


def test_export_json_and_yaml_parse_back(saved: RunDir) -> None:
    assert json.loads(export_prompts(saved, "best", None, "json")) == C_PROMPTS
    as_yaml = export_prompts(saved, B_ID, None, "yaml")
    assert yaml.safe_load(as_yaml) == B_PROMPTS
    assert as_yaml.startswith("solve: |")  # multi-line prompts as readable blocks
    assert yaml.safe_load(export_prompts(saved, A_ID, "solve", "yaml")) == {"solve": "Solve it."}
    assert json.loads(export_prompts(saved, A_ID, "check", "json")) == {"check": "Check it."}


def test_export_accepts_unique_prefixes(saved: RunDir) -> None:
    assert export_prompts(saved, A_ID[:5], "solve") == "Solve it."
    assert export_prompts(saved, f"{A_ID[:6]}..", "solve") == "Solve it."


def test_export_names_unknown_components_and_candidates(saved: RunDir) -> None:
    with pytest.raises(RunDirError) as info:
        export_prompts(saved, "best", "answer")
    assert "'answer'" in str(info.value) and "solve, check" in str(info.value)
    with pytest.raises(RunDirError) as info:
        export_prompts(saved, "zzzz")
    assert "'zzzz'" in str(info.value) and A_ID in str(info.value)
    with pytest.raises(RunDirError, match="unknown format"):
        export_prompts(saved, fmt="toml")


def test_an_ambiguous_prefix_lists_the_matches() -> None:
    records = [{"id": "abc111"}, {"id": "abc222"}, {"id": "def333"}]
    with pytest.raises(RunDirError) as info:
        resolve_candidate(records, "abc")
    assert "ambiguous" in str(info.value) and "abc111, abc222" in str(info.value)
    assert "def333" not in str(info.value)
    assert resolve_candidate(records, "abc2")["id"] == "abc222"
