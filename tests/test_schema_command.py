"""`gepa schema` from outside: its JSON Schema accepts the quickstart config and rejects a
misspelt key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gepa_cli.cli.app import app

jsonschema = pytest.importorskip("jsonschema")
ROOT = Path(__file__).resolve().parent.parent


def printed_schema() -> dict:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_gepa_schema_validates_the_quickstart_and_rejects_a_misspelt_key() -> None:
    schema = printed_schema()
    config = yaml.safe_load((ROOT / "configs" / "quickstart.yaml").read_text())
    jsonschema.validate(config, schema)
    config["search"]["minibach_size"] = 3
    with pytest.raises(jsonschema.ValidationError, match="minibach_size"):
        jsonschema.validate(config, schema)
