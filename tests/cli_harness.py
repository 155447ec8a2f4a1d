"""Helpers for end-to-end CLI tests: a tiny classify experiment on disk and a
simulated OpenAI-compatible model that answers right only when the instruction
carries a certain idea."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from gepa_cli.engine.reflection import SYSTEM_PROMPT

IDEA = "Rule: even numbers are alpha."
SECRET = "sk-test-DO-NOT-LEAK-4242"


def gold(n: int) -> str:
    return "alpha" if n % 2 == 0 else "beta"


def write_splits(root: Path, splits: dict[str, range], label: Callable[[int], str] = gold) -> None:
    """root/data/<split>.jsonl with rows `item N` labelled by `label(N)`."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    for name, numbers in splits.items():
        rows = [{"id": f"{name}{n}", "input": f"item {n}", "answer": label(n)} for n in numbers]
        (data / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def write_experiment(root: Path, base_url: str, **overrides: Any) -> Path:
    """Data splits and a config for a 2-label classify task; returns the config path."""
    write_splits(root, {"train": range(0, 12), "val": range(20, 25), "test": range(30, 34)})
    config: dict[str, Any] = {
        "name": "e2e",
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
        "models": {
            "task": {"model": "openai/stub-model", "base_url": base_url, "api_key_env": "E2E_KEY"},
            "reflection": {
                "model": "openai/stub-model",
                "base_url": base_url,
                "api_key_env": "E2E_KEY",
            },
        },
        "budget": {"max_metric_calls": 60},
        "runtime": {"max_concurrency": 4, "max_retries": 1, "request_timeout": 10},
        "output": {"runs_dir": str(root / "runs")},
    }
    return write_config(root, config, overrides)


def write_config(root: Path, config: dict[str, Any], overrides: dict[str, Any]) -> Path:
    """Write `config` as root/exp.yaml after applying `a__b__c=value` overrides."""
    for dotted, value in overrides.items():
        node = config
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    path = root / "exp.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def idea_responder(body: dict[str, Any]) -> str:
    """Task calls: right label iff the instruction has IDEA, else the wrong one.
    Reflection calls: the old instruction plus IDEA in a fenced block."""
    messages = body["messages"]
    if messages[0]["content"] == SYSTEM_PROMPT:
        return f"```\nLabel the item as alpha or beta. {IDEA}\n```"
    n = int(messages[-1]["content"].split()[-1])
    right = gold(n)
    if IDEA in messages[0]["content"]:
        return right
    return "beta" if right == "alpha" else "alpha"


def is_task_request(body: dict[str, Any]) -> bool:
    return body["messages"][0]["content"] != SYSTEM_PROMPT


def gepa(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real `gepa` command in a subprocess."""
    full_env = {**os.environ, "E2E_KEY": SECRET, **(env or {})}
    full_env.pop("GEPA_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "gepa_cli", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
