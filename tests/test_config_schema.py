"""Tests for the config declaration: the resolved dict it serializes, its JSON Schema,
the schema committed beside the shipped configs, and the key reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gepa_cli.config import config_to_dict, load_config_dict

GOLDEN_RAW: dict[str, Any] = {
    "name": "golden",
    "seed": 4,
    "task": {
        "type": "qa",
        "data": {"train": "t.jsonl", "val": {"path": "v.jsonl", "limit": 5}},
        "fields": {"input": "q"},
        "prompts": {"answer": "Answer ${X:-it}."},
        "options": {"k": 2},
    },
    "models": {
        "task": {
            "model": "openai/m",
            "base_url": ["http://a:1/v1", "http://b:2/v1"],
            "price": {"input_per_mtok": 0.4, "output_per_mtok": 2},
        }
    },
    "budget": {"max_time": "2h", "max_cost_usd": 1},
    "search": {"parallel_proposals": 2},
    "runtime": {"cache": False},
    "output": {"runs_dir": "/tmp/gold-runs"},
}


def golden_dict(base: str) -> dict[str, Any]:
    model = {
        "model": "openai/m",
        "base_url": ["http://a:1/v1", "http://b:2/v1"],
        "api_key_env": None,
        "temperature": 0.0,
        "max_tokens": None,
        "top_p": None,
        "seed": None,
        "extra": {},
        "price": {"input_per_mtok": 0.4, "output_per_mtok": 2.0},
    }
    return {
        "name": "golden",
        "seed": 4,
        "task": {
            "type": "qa",
            "data": {
                "train": f"{base}/t.jsonl",
                "val": {"path": f"{base}/v.jsonl", "offset": 0, "limit": 5},
                "test": None,
            },
            "fields": {"input": "q"},
            "prompts": {"answer": "Answer it."},
            "options": {"k": 2},
        },
        "models": {"task": model, "reflection": {**model, "temperature": 1.0}},
        "budget": {"max_metric_calls": 300, "max_cost_usd": 1.0, "max_time": 7200.0},
        "search": {
            "candidate_selection": "pareto",
            "epsilon": 0.1,
            "module_selection": "round_robin",
            "minibatch_size": 3,
            "skip_perfect": True,
            "perfect_score": 1.0,
            "merge": {"enabled": False, "max_invocations": 5},
            "reflection_prompt": None,
            "parallel_proposals": 2,
        },
        "runtime": {"max_concurrency": 8, "cache": False, "request_timeout": 120.0,
                    "max_retries": 6},  # fmt: skip
        "output": {"runs_dir": "/tmp/gold-runs"},
    }


def test_resolved_config_keeps_its_exact_shape_and_order(tmp_path: Path) -> None:
    plain = config_to_dict(load_config_dict(GOLDEN_RAW, tmp_path, "golden.yaml"))
    expected = golden_dict(str(tmp_path.resolve()))
    assert plain == expected
    assert repr(plain) == repr(expected)  # the same key order, section by section
