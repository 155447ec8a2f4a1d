"""The vocabulary of the config declaration, and reading keys through it.

Every key is declared once, as a field of its value class in `schema`: its type is
the annotation, its default the dataclass default, and its YAML name, bounds,
pattern and help text a pydantic `Field` inside `Annotated`. `keys_of(cls)` turns
those fields into `Key` records; `read_keys` reads a YAML section through them (with
the `Section` getters, so every error message stays the same), `serialize` writes
them back, `json_schema` publishes them and `reference` documents them.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

from pydantic.fields import FieldInfo
from pydantic.json_schema import SkipJsonSchema

from gepa_cli.config.reader import REQUIRED, Section

T = TypeVar("T")
Reader = Callable[[Section, Mapping[str, Any]], Any]
"""Reads one key from its section, given the values of the keys read before it."""


@dataclasses.dataclass(frozen=True)
class YamlRequired:
    """`Annotated` marker: the key is (or is not) required in YAML although its value
    class says otherwise (e.g. `models.reflection` defaults to the task model)."""

    required: bool


class also_accepts:  # noqa: N801 - used like a function in declarations
    """A `json_schema_extra` that widens a key's schema with YAML-only forms, such as a
    split given as a plain path instead of `{path, offset, limit}`."""

    def __init__(self, *alternatives: dict[str, Any]) -> None:
        self.alternatives = alternatives

    def __call__(self, schema: dict[Any, Any]) -> None:
        outer = {k: schema.pop(k) for k in ("description", "default") if k in schema}
        branches = schema.pop("anyOf", None) or [dict(schema)]
        schema.clear()
        schema.update(outer, anyOf=[*self.alternatives, *branches])


@dataclasses.dataclass(frozen=True)
class Key:
    """One declared key, as read off its value class."""

    attr: str
    """The attribute of the value class."""
    name: str
    """The YAML key (the `Field` alias, else the attribute name)."""
    kind: str
    """integer | number | boolean | choice | string | path | section | mapping | other."""
    nullable: bool
    required: bool
    default: Any
    """The default as YAML would write it (`REQUIRED` when there is none)."""
    help: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    choices: tuple[str, ...] = ()
    section: type | None = None
    """The value class of a nested section."""
    value_type: Any = None
    """The value annotation of a mapping."""
    hidden: bool = False
    """Derived from another key; not written in YAML."""
    also: tuple[dict[str, Any], ...] = ()
    """JSON Schemas of the YAML-only forms the key also accepts (see `also_accepts`)."""

    @property
    def accepts_null(self) -> bool:
        """Whether YAML may write null here: a nullable value, or an optional section or
        mapping (null reads as empty, like `search:` with nothing under it)."""
        return self.nullable or (self.kind in ("section", "mapping") and not self.required)


@functools.cache
def keys_of(cls: type) -> tuple[Key, ...]:
    """The declared keys of a value class, in declaration (and YAML) order."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return tuple(_key(field, hints[field.name]) for field in dataclasses.fields(cls))


def yaml_names(cls: type) -> tuple[str, ...]:
    """The keys a YAML section of `cls` may hold."""
    return tuple(key.name for key in keys_of(cls) if not key.hidden)


def _key(field: dataclasses.Field[Any], hint: Any) -> Key:
    metadata = getattr(hint, "__metadata__", ())
    info = next((m for m in metadata if isinstance(m, FieldInfo)), FieldInfo())
    marker = next((m for m in metadata if isinstance(m, YamlRequired)), None)
    core, nullable = _strip_none(typing.get_args(hint)[0] if metadata else hint)
    extra = info.json_schema_extra
    default = _default(field, extra)
    bounds = {name: getattr(m, name) for m in info.metadata for name in ("ge", "le", "gt")
              if hasattr(m, name)}  # fmt: skip
    return Key(
        attr=field.name,
        name=info.alias or field.name,
        nullable=nullable,
        required=default is REQUIRED if marker is None else marker.required,
        default=default,
        help=info.description or "",
        minimum=bounds.get("ge"),
        maximum=bounds.get("le"),
        exclusive_minimum=bounds.get("gt"),
        hidden=any(isinstance(m, SkipJsonSchema) for m in metadata),  # type: ignore[misc]
        also=extra.alternatives if isinstance(extra, also_accepts) else (),
        **_kind(core),
    )


def _strip_none(hint: Any) -> tuple[Any, bool]:
    """(the type without None, whether None is allowed)."""
    if typing.get_origin(hint) not in (Union, types.UnionType):
        return hint, False
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    core = args[0] if len(args) == 1 else Union[tuple(args)]  # noqa: UP007
    return core, len(args) < len(typing.get_args(hint))


def _kind(core: Any) -> dict[str, Any]:
    origin = typing.get_origin(core)
    if origin is Literal:
        return {"kind": "choice", "choices": typing.get_args(core)}
    if origin in (Mapping, dict):
        return {"kind": "mapping", "value_type": typing.get_args(core)[1]}
    if dataclasses.is_dataclass(core) and isinstance(core, type):
        return {"kind": "section", "section": core}
    simple = {bool: "boolean", int: "integer", float: "number", str: "string", Path: "path"}
    return {"kind": simple.get(core, "other")}


def _default(field: dataclasses.Field[Any], extra: Any) -> Any:
    if isinstance(extra, dict) and "default" in extra:
        return extra["default"]  # the YAML form of a default computed at load time
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return REQUIRED


def read_keys(
    section: Section, cls: type, readers: Mapping[str, Reader] | None = None
) -> dict[str, Any]:
    """Keyword arguments for `cls` from `section`: unknown keys are refused, then each
    declared key is read in order, by its reader in `readers` (by attribute) if any."""
    section.check_keys(yaml_names(cls))
    values: dict[str, Any] = {}
    for key in keys_of(cls):
        reader = (readers or {}).get(key.attr)
        if reader is not None:
            values[key.attr] = reader(section, values)
        elif not key.hidden:
            values[key.attr] = read_key(section, key)
    return values


def build_section(section: Section, cls: type[T], readers: Mapping[str, Reader] | None = None) -> T:
    """`cls` built from `section` (see `read_keys`)."""
    return cls(**read_keys(section, cls, readers))


def read_key(section: Section, key: Key) -> Any:
    """One key's value, checked against its declared type and bounds."""
    name, default = key.name, key.default
    if key.kind == "integer":
        minimum = None if key.minimum is None else int(key.minimum)
        if key.nullable:
            return section.optional_integer(name, default, minimum=minimum)
        return section.integer(name, default, minimum=minimum)
    if key.kind == "number":
        return _read_number(section, key)
    if key.kind == "boolean":
        if key.nullable and section.value(name, default) is None:
            return None
        return section.boolean(name, default)
    if key.kind == "choice":
        return section.choice(name, default, key.choices)
    if key.kind == "string":
        return section.optional_string(name) if key.nullable else section.string(name, default)
    if key.kind == "section" and key.section is not None:
        if key.nullable and not section.has(name):
            return None
        return build_section(section.section(name), key.section)
    if key.kind == "mapping":
        return section.string_map(name) if key.value_type is str else section.free_mapping(name)
    raise TypeError(f"the {key.kind} key {section.key(name)} needs its own reader")


def _read_number(section: Section, key: Key) -> float | None:
    if key.exclusive_minimum not in (None, 0):
        raise TypeError(f"{section.key(key.name)}: only gt=0 is supported")
    bounds = {"minimum": key.minimum, "maximum": key.maximum}
    positive = key.exclusive_minimum == 0
    if key.nullable:
        return section.optional_number(key.name, key.default, **bounds, positive=positive)
    return section.number(key.name, key.default, **bounds, positive=positive)
