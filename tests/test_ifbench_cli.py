"""From outside: `gepa validate` on configs/ifbench.yaml over IFBench-format data accepts the
58 ids and refuses a made-up one with exit 2, one line naming the id, the file and the line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ifbench_data import write_ifbench_rows

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "ifbench.yaml"


def validate(data_root: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GEPA_DATA": str(data_root)}
    env.pop("GEPA_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "gepa_cli", "validate", str(CONFIG)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_ifbench_config_validates_over_all_58_ids(tmp_path: Path) -> None:
    write_ifbench_rows(tmp_path / "data" / "ifbench" / "ifbench_test.jsonl", 260)
    result = validate(tmp_path / "data", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ok: config, task and data are valid" in result.stdout


def test_a_made_up_id_exits_2_naming_the_id_file_and_line(tmp_path: Path) -> None:
    data = write_ifbench_rows(
        tmp_path / "data" / "ifbench" / "ifbench_test.jsonl", 260, bad_id="count:made_up"
    )
    # move the bad row into the test slice (offset 200, limit 50): line 211
    lines = data.read_text().splitlines()
    lines[210], lines[-1] = lines[-1], lines[210]
    data.write_text("\n".join(lines) + "\n")
    result = validate(tmp_path / "data", tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()
    assert len(error) == 1
    assert f"{data}:211:" in error[0] and "'count:made_up'" in error[0]


def test_kwargs_that_do_not_fit_exit_2(tmp_path: Path) -> None:
    data = write_ifbench_rows(tmp_path / "data" / "ifbench" / "ifbench_test.jsonl", 260)
    lines = data.read_text().splitlines()
    lines[5] = (
        lines[5]
        .replace('"kwargs": [', '"kwargs": [{"no_such_kwarg": 1}, ')
        .replace('"instruction_id_list": [', '"instruction_id_list": ["count:keywords_multiple", ')
    )
    data.write_text("\n".join(lines) + "\n")
    result = validate(tmp_path / "data", tmp_path)
    assert result.returncode == 2, result.stdout
    assert f"{data}:6:" in result.stderr and "count:keywords_multiple" in result.stderr
