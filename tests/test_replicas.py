"""base_url as a list: requests spread over replicas of one model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_harness import gepa, idea_responder, write_experiment
from openai_stub_server import StubServer

from gepa_cli.config import ConfigError, config_to_dict, load_config_dict


def test_run_spreads_requests_over_replicas_and_still_learns(tmp_path: Path) -> None:
    with StubServer(idea_responder, delay_s=0.02) as one, StubServer(idea_responder) as two:
        urls = [one.base_url, two.base_url]
        config = write_experiment(
            tmp_path, one.base_url, models__task__base_url=urls, models__reflection__base_url=urls
        )
        result = gepa("run", str(config), "--display", "none", cwd=tmp_path)
        counts = (len(one.requests), len(two.requests))
    assert result.returncode == 0, result.stderr
    assert min(counts) > 0, counts  # both replicas served requests
    summary = json.loads(Path(result.stdout.strip().splitlines()[-1], "summary.json").read_text())
    assert summary["best_val_score"] == 1.0


def test_replica_list_round_trips_and_is_validated(tmp_path: Path) -> None:
    raw = {
        "name": "r",
        "task": {"type": "qa", "data": {"train": "t.jsonl", "val": "v.jsonl"},
                 "prompts": {"a": "Answer."}},
        "models": {"task": {"model": "openai/m", "base_url": ["http://a/v1", "http://b/v1"]}},
    }  # fmt: skip
    cfg = load_config_dict(raw, tmp_path, "x.yaml")
    assert cfg.models.task.replicas == ("http://a/v1", "http://b/v1")
    assert cfg.models.task.base_url == "http://a/v1"
    again = load_config_dict(config_to_dict(cfg), tmp_path, "x.yaml")
    assert again == cfg
    raw["models"]["task"]["base_url"] = ["http://a/v1", "ftp://b"]
    with pytest.raises(ConfigError, match=r"\[models\.task\.base_url\]"):
        load_config_dict(raw, tmp_path, "x.yaml")
