"""The `task:` section's values and key declarations: type, data splits, fields, prompts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from gepa_cli.config.declaration import YamlRequired, also_accepts

MODULE_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
PROMPT_FILE_KEY = "file"
_PATH = {"type": "string", "description": "the path alone (offset 0, no limit)"}
_PROMPTS = {
    "type": "object",
    "minProperties": 1,
    "propertyNames": {"pattern": f"^{MODULE_NAME}$"},
    "additionalProperties": {
        "anyOf": [
            {"type": "string"},
            {
                "type": "object",
                "properties": {PROMPT_FILE_KEY: {"type": "string", "pattern": r"\S"}},
                "required": [PROMPT_FILE_KEY],
                "additionalProperties": False,
            },
        ]
    },
}


@dataclass(frozen=True)
class SplitSpec:
    """One dataset split: a JSONL file and the slice of its rows to use."""

    path: Annotated[
        Path,
        Field(description="The JSONL file; relative paths are taken from the config's folder."),
    ]
    offset: Annotated[int, Field(ge=0, description="Rows skipped at the start of the file.")] = 0
    limit: Annotated[
        int | None, Field(ge=1, description="At most this many rows after offset; null: the rest.")
    ] = None
    stride: Annotated[
        int,
        Field(
            ge=1,
            description="Every stride-th row from offset on (1: every row), so that a split "
            "spreads over a file sorted by label; limit counts the rows taken.",
        ),
    ] = 1


@dataclass(frozen=True)
class DataSpec:
    """The splits: `train` feeds minibatches, `val` is the Pareto set, `test` is held out,
    `select` (optional) chooses the final candidate among the frontier."""

    train: Annotated[
        SplitSpec,
        Field(
            description="Minibatches for reflection come from here.",
            json_schema_extra=also_accepts(_PATH),
        ),
    ]
    val: Annotated[
        SplitSpec,
        Field(
            description="The Pareto set: every accepted candidate is scored on all of it.",
            json_schema_extra=also_accepts(_PATH),
        ),
    ]
    test: Annotated[
        SplitSpec | None,
        Field(
            description="Optional; the seed and the best candidate are scored on it at the "
            "end, outside the budget.",
            json_schema_extra=also_accepts(_PATH),
        ),
    ] = None
    select: Annotated[
        SplitSpec | None,
        Field(
            description="Optional; at the end every frontier candidate is scored on it "
            "(outside the budget) and the best mean here is the final candidate, not the "
            "best on val.",
            json_schema_extra=also_accepts(_PATH),
        ),
    ] = None


@dataclass(frozen=True)
class TaskSpec:
    """The program being optimized, its data and its seed prompts."""

    type: Annotated[
        str,
        Field(
            pattern=r"\S",
            description="qa | math | classify | multihop | judge | pupa | ifeval, or "
            "python:path/to/file.py:ClassName (stored with an absolute path).",
        ),
    ]
    data: Annotated[DataSpec, Field(description="The dataset splits (JSONL files).")]
    fields: Annotated[
        Mapping[str, str],
        Field(
            description="Task field -> dataset field, e.g. {input: question} (default: same name)."
        ),
    ] = field(default_factory=dict)
    prompts: Annotated[
        Mapping[str, str],
        Field(
            description="The seed candidate: module -> instruction, or {file: path}.",
            json_schema_extra=lambda schema: schema.update(_PROMPTS),
        ),
        YamlRequired(True),
    ] = field(default_factory=dict)
    options: Annotated[
        Mapping[str, Any],
        Field(
            description="Task-specific settings, checked by the task; string values of keys "
            "ending in _file are paths (relative to the config's folder)."
        ),
    ] = field(default_factory=dict)
