"""Tests for the config declaration: the resolved dict it serializes, its JSON Schema,
the schema committed beside the shipped configs, and the key reference."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gepa_cli.config import (
    ConfigError,
    ExperimentConfig,
    SearchSpec,
    config_json_schema,
    config_to_dict,
    key_help,
    load_config_dict,
    reference_markdown,
)
from gepa_cli.config.declaration import keys_of

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
SCHEMA_FILE = ROOT / "configs" / "gepa-config.schema.json"
HEADER = "# yaml-language-server: $schema=./gepa-config.schema.json"

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
        "stream_cut": None,
        "price": {"input_per_mtok": 0.4, "output_per_mtok": 2.0},
    }
    return {
        "name": "golden",
        "seed": 4,
        "task": {
            "type": "qa",
            "data": {
                "train": f"{base}/t.jsonl",
                "val": {"path": f"{base}/v.jsonl", "offset": 0, "limit": 5, "stride": 1},
                "test": None,
                "select": None,
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
            "rollouts_per_example": 1,
            "skip_perfect": True,
            "perfect_score": 1.0,
            "merge": {"enabled": False, "max_invocations": 5},
            "reflection_prompt": None,
            "parallel_proposals": 2,
            "reflection_retries": 2,
            "val_policy": "full",
            "val_stage_size": None,
        },
        "runtime": {
            "max_concurrency": 8,
            "cache": False,
            "request_timeout": 120.0,
            "max_retries": 6,
            "executor": "threads",
            "ray": {"address": "auto", "num_cpus_per_rollout": 1.0},
        },  # fmt: skip
        "output": {"runs_dir": "/tmp/gold-runs"},
        "tracking": {"mlflow": None},
    }


def test_resolved_config_keeps_its_exact_shape_and_order(tmp_path: Path) -> None:
    plain = config_to_dict(load_config_dict(GOLDEN_RAW, tmp_path, "golden.yaml"))
    expected = golden_dict(str(tmp_path.resolve()))
    assert plain == expected
    assert repr(plain) == repr(expected)  # the same key order, section by section


# --- the JSON Schema ---------------------------------------------------------------------------


def test_committed_schema_is_the_generated_one() -> None:
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == config_json_schema(), (
        "configs/gepa-config.schema.json is stale: regenerate it with "
        "`gepa schema > configs/gepa-config.schema.json`"
    )


@pytest.mark.parametrize("config", CONFIGS, ids=[path.stem for path in CONFIGS])
def test_every_shipped_config_names_the_schema_first(config: Path) -> None:
    assert config.read_text(encoding="utf-8").splitlines()[0] == HEADER


def test_schema_is_closed_and_documented() -> None:
    schema = config_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    search = schema["$defs"]["SearchSpec"]
    assert search["additionalProperties"] is False
    minibatch = search["properties"]["minibatch_size"]
    assert minibatch == {
        "default": 3,
        "description": "Train examples per reflection minibatch.",
        "minimum": 1,
        "type": "integer",
    }
    assert schema["required"] == ["name", "task", "models"]
    assert schema["$defs"]["ModelsSpec"]["required"] == ["task"]
    assert "replicas" not in schema["$defs"]["ModelSpec"]["properties"]
    assert "max_time" in schema["$defs"]["BudgetSpec"]["properties"]


def test_every_declared_key_has_help() -> None:
    entries = key_help()
    assert all(entry.help for entry in entries.values()), [
        path for path, entry in entries.items() if not entry.help
    ]
    batch = entries["search.minibatch_size"]
    assert (batch.type, batch.default, batch.bounds) == ("integer", 3, ">= 1")
    assert entries["budget.max_time"].type == "number or string or null"
    assert entries["search.candidate_selection"].type == "pareto | current_best | epsilon_greedy"
    assert entries["models.reflection"].required is False
    assert entries["task.prompts"].required is True
    assert "| `search.parallel_proposals` | integer (>= 1) | `1` |" in reference_markdown()


def test_defaults_in_the_declaration_are_the_loaded_defaults(tmp_path: Path) -> None:
    raw = {"name": "d", "task": {"type": "qa", "data": {"train": "t", "val": "v"},
                                 "prompts": {"m": "x"}},
           "models": {"task": {"model": "openai/m"}}}  # fmt: skip
    cfg = load_config_dict(raw, tmp_path, "d.yaml")
    assert cfg.search == SearchSpec()
    for section in ("budget", "search", "runtime"):
        value = getattr(cfg, section)
        for key in keys_of(type(value)):
            if key.kind not in ("section", "other") and key.attr != "max_time_s":
                assert getattr(value, key.attr) == key.default, f"{section}.{key.name}"


@pytest.fixture(scope="module")
def validator() -> Any:
    """A draft 2020-12 validator of the schema (needs the dev extra `jsonschema`)."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = config_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("config", CONFIGS, ids=[path.stem for path in CONFIGS])
def test_every_shipped_config_validates_against_the_schema(config: Path, validator: Any) -> None:
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    errors = [error.message for error in validator.iter_errors(raw)]
    assert errors == []


def test_schema_rejects_an_unknown_key_the_loader_rejects(validator: Any) -> None:
    raw = yaml.safe_load((ROOT / "configs" / "quickstart.yaml").read_text(encoding="utf-8"))
    raw["search"]["minibach_size"] = 3
    errors = list(validator.iter_errors(raw))
    assert [list(error.absolute_path) for error in errors] == [["search"]]
    assert "minibach_size" in errors[0].message
    with pytest.raises(ConfigError, match=r"\[search.minibach_size\] unknown key"):
        load_config_dict(raw, ROOT / "configs", "quickstart.yaml")


GOOD = {"name": "x", "task": {"type": "qa", "data": {"train": "t", "val": "v"},
                              "prompts": {"m": "x"}},
        "models": {"task": {"model": "openai/m"}}}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "valid"),
    [
        (("search", "minibatch_size"), 0, False),
        (("search", "minibatch_size"), "3", False),  # the loader wants an integer, too
        (("search", "candidate_selection"), "paretto", False),
        (("search", "candidate_selection"), "${SELECTION:-pareto}", True),
        (("models", "task", "model"), "gpt-4", False),
        (("models", "task", "model"), "${TASK_MODEL}", True),
        (("models", "task", "base_url"), ["http://a/v1", "http://b/v1"], True),
        (("models", "task", "base_url"), "localhost:8000", False),
        (("models", "task", "top_p"), 1.5, False),
        (("budget", "max_time"), "1h30m", True),
        (("budget", "max_time"), "soon", False),
        (("budget", "max_time"), 90, True),
        (("task", "data", "val"), {"path": "v", "offset": 10, "limit": 5}, True),
        (("task", "data", "val"), {"path": "v", "limti": 5}, False),
        (("task", "prompts"), {"m": {"file": "p.txt"}}, True),
        (("task", "prompts"), {}, False),
        (("task", "options"), {"anything": {"goes": True}}, True),
        (("search",), None, True),
        (("models", "reflection"), None, True),
        (("models", "task", "api_key"), "sk-x", False),
    ],
)
def test_schema_agrees_with_the_loader(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    validator: Any,
    path: tuple[str, ...],
    value: Any,
    valid: bool,
) -> None:
    monkeypatch.setenv("TASK_MODEL", "openai/m")
    raw = json.loads(json.dumps(GOOD))
    node = raw
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    (tmp_path / "p.txt").write_text("Prompt.", encoding="utf-8")
    assert validator.is_valid(raw) is valid
    try:
        load_config_dict(raw, tmp_path, "c.yaml")
    except ConfigError:
        loads = False
    else:
        loads = True
    assert loads is valid


def test_schema_keys_match_the_value_classes() -> None:
    names = {field.name for field in dataclasses.fields(ExperimentConfig)}
    assert set(config_json_schema()["properties"]) == names
