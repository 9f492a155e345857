"""catalog list|show, schema: what the catalog holds."""

from __future__ import annotations

import argparse
from pathlib import Path

from cmf_config import api, report
from cmf_config.commands.common import add_common, add_year, emit, note_sources, stamp
from cmf_config.errors import ExitCode


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
        choices=("vehicle", *api.schema_kinds()),
        help="which files: vehicle (default), kinds, modules, platforms, brands, options, rules",
    )
    p.add_argument(
        "-o", "--output", type=Path, default=None, metavar="OUT", help="write to OUT (atomically)"
    )
    add_common(p, formats=False)
    p.set_defaults(run=run_schema)


def run_list(args: argparse.Namespace) -> int:
    """catalog list [--year Y]."""
    catalog = api.open_catalog(args.catalog, year=args.year)
    if args.format == "json":
        emit(stamp(args, report.to_json(report.catalog_list_doc(catalog, args.year)), rules=False))
        return ExitCode.OK
    emit(stamp(args, report.catalog_list_text(catalog, args.year), rules=False))
    return ExitCode.OK


def run_show(args: argparse.Namespace) -> int:
    """catalog show ID."""
    doc = report.catalog_entry_doc(api.open_catalog(args.catalog), args.id)
    if args.format == "json":
        emit(stamp(args, report.to_json(doc), rules=False))
    else:
        emit(stamp(args, report.catalog_entry_text(doc), rules=False))
    return ExitCode.OK


def run_schema(args: argparse.Namespace) -> int:
    """schema."""
    if args.kind == "vehicle":
        document = api.json_schema("vehicle", api.open_catalog(args.catalog))
        note_sources(args, rules=False)
    else:
        document = api.json_schema(args.kind)
    emit(report.to_json(document), args.output)
    return ExitCode.OK
