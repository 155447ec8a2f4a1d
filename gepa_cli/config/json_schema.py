"""`config_json_schema`: the experiment config's JSON Schema (draft 2020-12).

pydantic renders the declared value classes (`schema`) with their YAML names, types,
bounds, patterns, defaults and help texts; this module then makes the result describe
the YAML file rather than the values: every section refuses unknown keys, `required`
follows the YAML (`YamlRequired`), and a string with a fixed form (a choice, a
pattern) also accepts a `${VAR}` reference, since the loader expands variables before
checking values. Numbers and booleans do not: an expanded variable is a string, which
the loader refuses there as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import TypeAdapter

from gepa_cli.config.declaration import keys_of
from gepa_cli.config.schema import ExperimentConfig

DIALECT = "https://json-schema.org/draft/2020-12/schema"
TITLE = "gepa-cli experiment config"
ENV_REFERENCE = {
    "type": "string",
    "pattern": r"\$\{",
    "description": "A ${VAR} or ${VAR:-default} reference, checked after expansion.",
}
_ENV_REF = {"$ref": "#/$defs/EnvReference"}

Schema = dict[str, Any]
_SCHEMA_MAPS = ("properties", "$defs", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "propertyNames", "not")


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema of an experiment config file, as a fresh plain dict."""
    generated = TypeAdapter(ExperimentConfig).json_schema(mode="validation")
    sections = {cls.__name__: cls for cls in _sections(ExperimentConfig)}
    _close_section(generated, ExperimentConfig)
    for name, definition in generated.get("$defs", {}).items():
        _close_section(definition, sections[name])
    schema = _map_schema(_map_schema(generated, _drop_title), _allow_env_reference)
    schema["$defs"]["EnvReference"] = ENV_REFERENCE
    header = {"$schema": DIALECT, "title": TITLE, "description": ExperimentConfig.__doc__}
    return {**header, **{k: v for k, v in schema.items() if k not in header}}


def _sections(cls: type) -> Iterator[type]:
    """`cls` and every value class nested in it."""
    yield cls
    for key in keys_of(cls):
        if key.section is not None:
            yield from _sections(key.section)


def _close_section(definition: Schema, cls: type) -> None:
    """No keys beyond the declared ones; `required` as in YAML; null where YAML allows
    it though the value does not (`Key.accepts_null`)."""
    definition["additionalProperties"] = False
    properties = definition["properties"]
    for key in keys_of(cls):
        if key.accepts_null and not key.nullable:
            properties[key.name] = _or_null(properties[key.name])
    required = [key.name for key in keys_of(cls) if key.required and not key.hidden]
    definition.pop("required", None)
    if required:
        definition["required"] = required


def _or_null(node: Schema) -> Schema:
    outer: Schema = {k: node.pop(k) for k in ("description", "default") if k in node}
    return {**outer, "anyOf": [node, {"type": "null"}]}


def _map_schema(node: Schema, change: Callable[[Schema], Schema]) -> Schema:
    """A copy of `node` with `change` applied to every subschema, innermost first."""
    copy = dict(node)
    for name in _SCHEMA_MAPS:
        if isinstance(copy.get(name), dict):
            copy[name] = {key: _map_schema(child, change) for key, child in copy[name].items()}
    for name in _SCHEMA_LISTS:
        if isinstance(copy.get(name), list):
            copy[name] = [_map_schema(child, change) for child in copy[name]]
    for name in _SCHEMA_ONE:
        if isinstance(copy.get(name), dict):
            copy[name] = _map_schema(copy[name], change)
    return change(copy)


def _accepts_reference(node: Schema) -> bool:
    """Whether a string schema already lets `${VAR}` through."""
    if "enum" in node:
        return False
    return "pattern" not in node or re.search(node["pattern"], "${VAR}") is not None


def _drop_title(node: Schema) -> Schema:
    """pydantic's titles only repeat the key names."""
    node.pop("title", None)
    return node


def _allow_env_reference(node: Schema) -> Schema:
    """A constrained string also accepts `${VAR}`; nested `anyOf`s are flattened."""
    if node.get("type") == "string" and not _accepts_reference(node):
        outer: Schema = {k: node.pop(k) for k in ("description", "default") if k in node}
        return {**outer, "anyOf": [node, _ENV_REF]}
    if "anyOf" in node:
        branches: list[Schema] = []
        for branch in node["anyOf"]:
            inner = branch["anyOf"] if set(branch) == {"anyOf"} else [branch]
            branches += [each for each in inner if each not in branches]
        node["anyOf"] = branches
    return node
