"""catalog list|show, schema: what the catalog holds."""

from __future__ import annotations

import argparse
from pathlib import Path

import attrs

from cmf_config import report
from cmf_config.commands.common import add_common, add_year, emit, note_sources, stamp
from cmf_config.errors import ExitCode, UsageError
from cmf_config.load import load_catalog
from cmf_config.model import KINDS, Catalog, PartLine, YearSpan
from cmf_config.schema import FILE_KINDS, config_schema, file_schema
from cmf_config.suggest import did_you_mean


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add catalog and schema."""
    p = sub.add_parser(
        "catalog",
        help="list or show what the catalog holds",
        description="List the catalog's modules, platforms, brands and vehicles, or show one of them.",
    )
    csub = p.add_subparsers(dest="catalog_command", metavar="list|show", required=True)
    lp = csub.add_parser(
        "list",
        help="list modules, platforms, brands and vehicles",
        description="List modules, platforms, brands and vehicles.",
    )
    add_year(lp)
    add_common(lp)
    lp.set_defaults(run=run_list)
    sp = csub.add_parser(
        "show",
        help="show one module, platform, brand or vehicle",
        description="Show one module variant, platform, brand or vehicle by id.",
    )
    sp.add_argument("id", metavar="ID")
    add_common(sp)
    sp.set_defaults(run=run_show)

    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of configuration, catalog or rules files",
        description=(
            "Print the JSON Schema (draft 2020-12) of vehicle configuration files, with the "
            "catalog's ids as choices described by their names (the default), or of one kind of "
            "catalog or rules file. Point the editor at it with a first line "
            "`# yaml-language-server: $schema=PATH`."
        ),
    )
    p.add_argument(
        "kind",
        nargs="?",
        default="vehicle",
        choices=("vehicle", *FILE_KINDS),
        help="which files: vehicle (default), kinds, modules, platforms, brands, options, rules",
    )
    p.add_argument(
        "-o", "--output", type=Path, default=None, metavar="OUT", help="write to OUT (atomically)"
    )
    add_common(p, formats=False)
    p.set_defaults(run=run_schema)


def _parts(lines: tuple[PartLine, ...]) -> list[dict[str, object]]:
    return [
        {
            "part": p.part,
            "name": p.name,
            "quantity": p.quantity,
            "unit_cost": p.unit_cost,
            "unit_mass_kg": p.unit_mass_kg,
        }
        for p in lines
    ]


def _years(span: YearSpan | None) -> dict[str, int | None] | None:
    return None if span is None else {"start": span.start, "end": span.end}


def _module_doc(catalog: Catalog, mid: str) -> dict[str, object]:
    m = catalog.modules[mid]
    attributes = {
        k: sorted(v) if isinstance(v, frozenset) else v for k, v in sorted(m.attributes.items())
    }
    platforms = sorted(p.id for p in catalog.platforms.values() if mid in p.modules)
    return {
        "id": m.id,
        "kind": m.kind,
        "name": m.name,
        "provenance": m.provenance,
        "attributes": attributes,
        "platforms": platforms,
        "era": _years(m.era),
        "cost": m.cost,
        "mass_kg": m.mass_kg,
        "parts": _parts(m.parts),
    }


def _platform_doc(catalog: Catalog, pid: str) -> dict[str, object]:
    p = catalog.platforms[pid]
    return {
        "id": p.id,
        "name": p.name,
        "aliases": list(p.aliases),
        "segments": list(p.segments),
        "powertrains": list(p.powertrains),
        "drives": list(p.drives),
        "battery_kwh": [p.battery_kwh.min, p.battery_kwh.max] if p.battery_kwh else None,
        "wheelbase_mm": [p.wheelbase_mm.min, p.wheelbase_mm.max] if p.wheelbase_mm else None,
        "max_mass_kg": p.max_mass_kg,
        "modules": list(p.modules),
        "launch_year": p.launch_year,
        "sources": list(p.sources),
        "notes": p.notes,
    }


def _brand_doc(catalog: Catalog, bid: str) -> dict[str, object]:
    b = catalog.brands[bid]
    return {
        "id": b.id,
        "name": b.name,
        "group": b.group,
        "sources": list(b.sources),
        "parts": _parts(b.parts),
    }


def _vehicle_doc(catalog: Catalog, vid: str) -> dict[str, object]:
    v = catalog.vehicles[vid]
    c = v.config
    return {
        "id": v.id,
        "name": c.name,
        "brand": c.brand,
        "platform": c.platform,
        "segment": c.segment,
        "body": c.body,
        "powertrain": c.powertrain,
        "modules": {k: c.modules.get(k) for k in KINDS},
        "market": c.options.market,
        "markets": list(v.markets),
        "production": _years(v.production),
        "generation": v.generation,
        "plants": list(v.plants),
        "status": v.status,
        "provenance": v.provenance,
        "sources": list(v.sources),
        "file": c.span.path,
    }


def _in_year(catalog: Catalog, year: int | None) -> Catalog:
    """The catalog as of `year`: launched platforms, E/E generations then built, vehicles then built."""
    if year is None:
        return catalog
    return attrs.evolve(
        catalog,
        platforms={
            k: p
            for k, p in catalog.platforms.items()
            if p.launch_year is not None and p.launch_year <= year
        },
        modules={
            k: m
            for k, m in catalog.modules.items()
            if m.kind != "ee_architecture" or (m.era is not None and m.era.contains(year))
        },
        vehicles={k: v for k, v in catalog.vehicles.items() if v.built_in(year)},
    )


def run_list(args: argparse.Namespace) -> int:
    """catalog list [--year Y]."""
    catalog = _in_year(load_catalog(args.catalog), args.year)
    doc = {
        "year": args.year,
        "modules": [
            _module_doc(catalog, m)
            for m in sorted(
                catalog.modules, key=lambda i: (KINDS.index(catalog.modules[i].kind), i)
            )
        ],
        "platforms": [_platform_doc(catalog, p) for p in sorted(catalog.platforms)],
        "brands": [_brand_doc(catalog, b) for b in sorted(catalog.brands)],
        "vehicles": [_vehicle_doc(catalog, v) for v in sorted(catalog.vehicles)],
    }
    if args.format == "json":
        emit(stamp(args, report.to_json(doc), rules=False))
        return ExitCode.OK
    emit(stamp(args, report.catalog_list_text(catalog, args.year), rules=False))
    return ExitCode.OK


def run_show(args: argparse.Namespace) -> int:
    """catalog show ID."""
    catalog = load_catalog(args.catalog)
    ident = args.id
    if ident in catalog.modules:
        doc = _module_doc(catalog, ident)
    elif ident in catalog.platforms:
        doc = _platform_doc(catalog, ident)
    elif ident in catalog.brands:
        doc = _brand_doc(catalog, ident)
    elif ident in catalog.vehicles:
        doc = _vehicle_doc(catalog, ident)
    else:
        pool = [*catalog.modules, *catalog.platforms, *catalog.brands, *catalog.vehicles]
        raise UsageError(
            f"no module, platform, brand or vehicle has the id '{ident}'{did_you_mean(ident, pool)}",
            "see `cmf-config catalog list`",
        )
    if args.format == "json":
        emit(stamp(args, report.to_json(doc), rules=False))
    else:
        emit(stamp(args, report.catalog_entry_text(doc), rules=False))
    return ExitCode.OK


def run_schema(args: argparse.Namespace) -> int:
    """schema."""
    if args.kind == "vehicle":
        document = config_schema(load_catalog(args.catalog))
        note_sources(args, rules=False)
    else:
        document = file_schema(args.kind)
    emit(report.to_json(document), args.output)
    return ExitCode.OK
