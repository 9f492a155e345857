"""JSON Schema of the vehicle configuration file, with the catalog's ids as enums.

Editors (yaml-language-server) and CI tools (check-jsonschema) use it to validate and
complete configuration files.
"""

from __future__ import annotations

from cmf_config.model import KINDS, Catalog

SCHEMA_ID = "https://cmf-config.example/schema/vehicle-config.json"


def _enum(values: list[str], description: str) -> dict[str, object]:
    return {"type": "string", "enum": sorted(values), "description": description}


def config_schema(catalog: Catalog) -> dict[str, object]:
    """The JSON Schema (draft 2020-12) of a configuration file for this catalog."""
    part = {
        "type": "object",
        "additionalProperties": False,
        "required": ["part", "name", "quantity", "unit_cost", "unit_mass_kg"],
        "properties": {
            "part": {"type": "string", "description": "part number"},
            "name": {"type": "string"},
            "quantity": {"type": "integer", "minimum": 1},
            "unit_cost": {"type": "number", "minimum": 0},
            "unit_mass_kg": {"type": "number", "minimum": 0},
        },
    }
    opts = catalog.options
    modules = {
        kind: {
            "anyOf": [
                _enum([m.id for m in catalog.modules_of(kind)], f"{kind} variant"),
                {"type": "null"},
            ]
        }
        for kind in KINDS
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "cmf-config vehicle configuration",
        "description": "A vehicle configuration; every key but name may be left out (an open slot). See docs/formats.md.",
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "id": {
                "type": "string",
                "description": "catalog vehicles only: the id used on the command line",
            },
            "brand": _enum(list(catalog.brands), "brand id"),
            "platform": _enum(list(catalog.platforms), "platform id"),
            "segment": _enum(list(opts.segments), "segment"),
            "body": _enum(list(opts.bodies), "body type"),
            "powertrain": _enum([p.id for p in opts.powertrains], "powertrain"),
            "modules": {"type": "object", "additionalProperties": False, "properties": modules},
            "options": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "battery_kwh": {"type": "number", "minimum": 0},
                    "wheelbase_mm": {"type": "integer", "minimum": 0},
                    "drive": _enum(list(opts.drives), "drive"),
                    "steering": _enum(list(opts.steering), "steering side"),
                    "market": _enum([m.id for m in opts.markets], "market"),
                    "features": {
                        "type": "array",
                        "uniqueItems": True,
                        "items": _enum([f.id for f in opts.features], "feature"),
                    },
                },
            },
            "extra_parts": {"type": "array", "items": part},
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
                "items": _enum([m.id for m in opts.markets], "market"),
                "description": "catalog vehicles: every market the vehicle is sold in",
            },
            "provenance": {"type": "string"},
        },
    }
