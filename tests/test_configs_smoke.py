"""Every config in configs/ validates and runs end to end with a tiny budget on the
embedded SmolLM2 over real HTTP (plumbing only: SmolLM2 cannot improve prompts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ifbench_data import write_ifbench_rows

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
DATA = Path(os.environ.get("GEPA_DATA", ROOT.parent / "shared" / "data"))
TINY = [
    "models.task.model=embedded/smollm2-135m",
    "models.reflection.model=embedded/smollm2-135m",
    "models.task.max_tokens=24",
    "models.reflection.max_tokens=64",
    "task.data.train.limit=2",
    "task.data.val.limit=2",
    "task.data.test.limit=1",
    "search.minibatch_size=1",
    "search.skip_perfect=false",
    "budget.max_metric_calls=8",
    "runtime.max_concurrency=2",
]


def data_root(config: Path, tmp_path: Path) -> Path:
    """The shared data, plus (IFBench is not shipped) IFBench-format rows of our own."""
    if config.stem != "ifbench" or (DATA / "ifbench").is_dir():
        return DATA
    root = tmp_path / "data"
    write_ifbench_rows(root / "ifbench" / "ifbench_test.jsonl", 260)
    return root


def gepa(*args: str, cwd: Path, data: Path = DATA) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GEPA_DATA": str(data)}
    return subprocess.run(
        [sys.executable, "-m", "gepa_cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_there_are_benchmark_configs():
    names = {path.stem for path in CONFIGS}
    assert {"quickstart", "gsm8k", "hotpotqa", "ifeval", "ifbench", "pupa", "banking77"} <= names


@pytest.mark.parametrize("config", CONFIGS, ids=[path.stem for path in CONFIGS])
def test_config_validates(config: Path, tmp_path: Path) -> None:
    if not DATA.is_dir() and config.stem != "quickstart":
        pytest.skip(f"shared data not found at {DATA}")
    result = gepa("validate", str(config), cwd=tmp_path, data=data_root(config, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "ok: config, task and data are valid" in result.stdout


@pytest.mark.model
@pytest.mark.parametrize("config", CONFIGS, ids=[path.stem for path in CONFIGS])
def test_config_runs_end_to_end_on_smollm2(config: Path, tmp_path: Path) -> None:
    if not DATA.is_dir() and config.stem != "quickstart":
        pytest.skip(f"shared data not found at {DATA}")
    overrides = [arg for item in TINY for arg in ("--set", item)]
    data = data_root(config, tmp_path)
    result = gepa("run", str(config), "--display", "none", *overrides, cwd=tmp_path, data=data)
    assert result.returncode == 0, result.stderr[-2000:]
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert 2 <= summary["metric_calls"] <= 8
    assert summary["test"]["n"] == 1
    assert summary["tokens"]["task"]["calls"] > 0
