"""JSON Schemas of every file cmf-config reads: vehicle configurations (with the catalog's ids
as enums, their names as descriptions), the catalog files and the rules files.

Editors (yaml-language-server, through the `# yaml-language-server: $schema=` modeline) and CI
tools (check-jsonschema) use them. They mean what the command line means: the catalog and
rules schemas are derived from the very attrs classes the loader structures files into, and
tests check that the schema and the CLI accept and reject the same documents (YAML 1.2 core
scalars on both sides, `yaml12.py`).
"""

from __future__ import annotations

import hashlib
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin

import attrs

from cmf_config import __version__
from cmf_config.load import _BrandsFile, _KindsFile, _ModulesFile, _PlatformsFile
from cmf_config.model import KINDS, AttrValue, Catalog, OptionDomains, PartLine
from cmf_config.rules import _RulesFile

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "urn:cmf-config:schema"
_SKIP = ("span", "field_spans")

# The kinds of catalog and rules files, each with the class its YAML is structured into.
FILE_KINDS: dict[str, tuple[type, str]] = {
    "kinds": (_KindsFile, "catalog/kinds.yaml: the five big-module kinds and their attributes"),
    "modules": (_ModulesFile, "catalog/modules*.yaml: module variants with their parts"),
    "platforms": (_PlatformsFile, "catalog/platforms.yaml: platforms and what they admit"),
    "brands": (_BrandsFile, "catalog/brands.yaml: brands and their own parts"),
    "options": (OptionDomains, "catalog/options.yaml: the option domains"),
    "rules": (_RulesFile, "rules/*.yaml: compatibility rules"),
}


def _choices(pairs: list[tuple[str, str]], what: str) -> dict[str, object]:
    """A string that must be one of the ids, each described by its name (editors show it)."""
    return {
        "description": what,
        "oneOf": [{"const": ident, "description": name or ident} for ident, name in sorted(pairs)],
    }


def _open(schema: dict[str, object]) -> dict[str, object]:
    """A slot that may also be written `null` (or left empty): an open slot, as the CLI reads it."""
    return {"anyOf": [schema, {"type": "null"}]}


def _content_id(kind: str, document: Mapping[str, object]) -> str:
    """A stable, content-derived `$id`: a schema for another catalog gets another id."""
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]
    return f"{ID_BASE}:{kind}:{__version__}:{digest}"


def config_schema(catalog: Catalog) -> dict[str, object]:
    """The JSON Schema (draft 2020-12) of a configuration file for this catalog."""
    opts = catalog.options
    modules = {
        kind: _open(_choices([(m.id, m.name) for m in catalog.modules_of(kind)], f"{kind} variant"))
        for kind in KINDS
    }
    options = {
        "battery_kwh": _open({"type": "number", "minimum": 0, "description": "battery, kWh"}),
        "wheelbase_mm": _open({"type": "integer", "minimum": 0, "description": "wheelbase, mm"}),
        "drive": _open(_choices([(d, d) for d in opts.drives], "drive")),
        "steering": _open(_choices([(s, s) for s in opts.steering], "steering side")),
        "market": _open(_choices([(m.id, m.name) for m in opts.markets], "market")),
        "features": _open(
            {
                "type": "array",
                "uniqueItems": True,
                "items": _choices([(f.id, f.name) for f in opts.features], "feature"),
            }
        ),
    }
    body: dict[str, object] = {
        "title": "cmf-config vehicle configuration",
        "description": "A vehicle configuration; every key but name may be left out or null (an open slot). See docs/formats.md.",
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "description": "what the vehicle is called"},
            "id": {
                "type": "string",
                "description": "catalog vehicles only: the id used on the command line",
            },
            "brand": _open(_choices([(b.id, b.name) for b in catalog.brands.values()], "brand")),
            "platform": _open(
                _choices([(p.id, p.name) for p in catalog.platforms.values()], "platform")
            ),
            "segment": _open(_choices([(s, s) for s in opts.segments], "segment")),
            "body": _open(_choices([(b, b) for b in opts.bodies], "body type")),
            "powertrain": _open(_choices([(p.id, p.name) for p in opts.powertrains], "powertrain")),
            "modules": {"type": "object", "additionalProperties": False, "properties": modules},
            "options": {"type": "object", "additionalProperties": False, "properties": options},
            "extra_parts": {"type": "array", "items": _part_schema()},
            "sources": {"type": "array", "items": {"type": "string"}},
            "status": {"type": "string"},
            "notes": {"type": "string"},
            "production": {
                "type": "object",
                "additionalProperties": False,
                "required": ["start"],
                "properties": {
                    "start": {"type": "integer"},
                    "end": {"type": ["integer", "null"]},
                },
                "description": "catalog vehicles: start and last year of production (no end: still built)",
            },
            "generation": {"type": ["string", "null"]},
            "plants": {"type": "array", "items": {"type": "string"}},
            "markets": {
                "type": "array",
                "uniqueItems": True,
                "items": _choices([(m.id, m.name) for m in opts.markets], "market"),
                "description": "catalog vehicles: every market the vehicle is sold in",
            },
            "provenance": {"type": "string"},
        },
    }
    return {"$schema": DRAFT, "$id": _content_id("vehicle-config", body), **body}


def _part_schema() -> dict[str, object]:
    schema = _type_schema(PartLine)
    props = typing.cast(dict[str, dict[str, object]], schema["properties"])
    props["quantity"] = {**props["quantity"], "minimum": 1}
    props["unit_cost"] = {**props["unit_cost"], "minimum": 0}
    props["unit_mass_kg"] = {**props["unit_mass_kg"], "minimum": 0}
    return schema


def file_schema(kind: str) -> dict[str, object]:
    """The JSON Schema of one kind of catalog or rules file (see FILE_KINDS)."""
    cls, description = FILE_KINDS[kind]
    root = _type_schema(cls)
    if kind == "rules":  # the loader accepts these two severities only (E203)
        entry = typing.cast(dict[str, Any], root["properties"])["rules"]["items"]
        entry["properties"]["severity"] = {"enum": ["error", "warning"]}
    body: dict[str, object] = {
        "title": f"cmf-config {kind} file",
        "description": description + " (docs/formats.md, docs/rules.md)",
        **root,
    }
    return {"$schema": DRAFT, "$id": _content_id(kind, body), **body}


def _type_schema(tp: Any) -> dict[str, object]:
    """The schema of a Python type as the loader's cattrs converter reads it."""
    if tp is AttrValue:
        return {
            "anyOf": [
                {"type": ["integer", "number", "string", "boolean"]},
                {"type": "array", "items": {"type": "string"}},
            ]
        }
    if getattr(tp, "__supertype__", None) is not None:  # NewType
        return _type_schema(tp.__supertype__)
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if tp in simple:
        return {"type": simple[tp]}
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        schema: dict[str, object] = (
            _type_schema(inner[0])
            if len(inner) == 1
            else {"anyOf": [_type_schema(a) for a in inner]}
        )
        return _open(schema) if type(None) in args else schema
    if origin is Literal:
        return {"enum": list(args)}
    if origin is tuple:
        return {"type": "array", "items": _type_schema(args[0])}
    if origin in (Mapping, dict) or (origin is not None and issubclass(origin, Mapping)):
        return {"type": "object", "additionalProperties": _type_schema(args[1])}
    if attrs.has(tp):
        return _attrs_schema(tp)
    raise TypeError(f"no schema for {tp!r}")


def _attrs_schema(cls: type) -> dict[str, object]:
    hints = typing.get_type_hints(cls)
    fields = [f for f in attrs.fields(cls) if f.name not in _SKIP]
    properties = {f.name: _type_schema(hints[f.name]) for f in fields}
    required = [f.name for f in fields if f.default is attrs.NOTHING]
    schema: dict[str, object] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    if required:
        schema["required"] = required
    if cls.__doc__ and not cls.__name__.startswith("_"):
        schema["description"] = " ".join(cls.__doc__.split())
    return schema
