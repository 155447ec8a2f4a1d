"""The one slow quality test: GEPA with the embedded Qwen 1.5B (task and reflection
model) improves the quickstart prompt on val. Minutes of CPU; run with `make test-slow`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_qwen_improves_the_quickstart_prompt(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable, "-m", "gepa_cli", "run", str(ROOT / "configs" / "quickstart.yaml"),
            "--display", "plain", "--run-dir", str(tmp_path / "run"),
            "--set", "budget.max_metric_calls=150",
        ],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["best_val_score"] > summary["seed_val_score"], summary
    assert summary["metric_calls"] <= 150
