"""share: parts sharing between vehicles, across a fleet, or in any product/part table."""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Sequence
from pathlib import Path

from cmf_config import (
    FamilyIndices,
    ProductBom,
    SimilarityMatrix,
    Vehicle,
    Workspace,
    api,
    report,
)
from cmf_config.commands.common import add_common, emit, stamp
from cmf_config.errors import ExitCode
from cmf_config.files import write_atomic

MEASURES = ("ratio", "dice", "jaccard", "overlap", "share_of_a_in_b", "share_of_b_in_a")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add share."""
    p = sub.add_parser(
        "share",
        help="parts sharing between two vehicles, across a fleet, or in a BOM table",
        description=(
            "share A B: pairwise sharing of two vehicles (configuration files or catalog vehicle ids). "
            "share --fleet A B C ... | --all [--by platform|brand]: the vehicle x vehicle matrix and the family "
            "commonality indices (DCI, TCCI, CI, %%C, PCI). share --bom-table FILE.csv: the same for a plain "
            "product,part,quantity table. Definitions: docs/sharing.md."
        ),
    )
    p.add_argument(
        "vehicles",
        nargs="*",
        metavar="VEHICLE",
        help="two configuration files or catalog vehicle ids",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--fleet",
        nargs="+",
        default=None,
        metavar="VEHICLE",
        help="a fleet of vehicles (files or ids)",
    )
    mode.add_argument("--all", action="store_true", help="every reference vehicle of the catalog")
    mode.add_argument(
        "--bom-table",
        type=Path,
        default=None,
        metavar="FILE",
        help="a product,part,quantity CSV table",
    )
    p.add_argument(
        "--by",
        choices=("platform", "brand"),
        default=None,
        help="also give the family indices per platform or brand",
    )
    p.add_argument(
        "--measure",
        choices=MEASURES,
        default="ratio",
        help="the measure of the matrix (default: ratio)",
    )
    p.add_argument(
        "--common",
        choices=("all", "at-least-two"),
        default="all",
        help="what %%C counts as common for more than two products (default: all)",
    )
    p.add_argument("--csv", type=Path, default=None, metavar="OUT", help="write the matrix as CSV")
    p.add_argument(
        "--heatmap",
        type=Path,
        default=None,
        metavar="OUT",
        help="draw the matrix as a heatmap (.png or .svg)",
    )
    add_common(p)
    p.set_defaults(run=run_share)


def _load_vehicles(
    args: argparse.Namespace, refs: Sequence[str]
) -> tuple[Workspace, list[Vehicle]]:
    files = [Path(r) for r in refs if r.endswith((".yaml", ".yml"))]
    workspace = api.open_workspace(args.catalog, args.rules, files)
    loaded = workspace.loaded
    by_path = {str(path): vehicle for path, vehicle in zip(files, loaded, strict=True)}
    vehicles = [api.resolve_vehicle(workspace, ref, by_path) for ref in refs]
    seen: set[str] = set()
    for vehicle in vehicles:
        if vehicle.id in seen:
            raise report.usage_error("given-twice", vehicle=vehicle.id)
        seen.add(vehicle.id)
    return workspace, vehicles


def run_share(args: argparse.Namespace) -> int:
    """share A B | --fleet ... | --all | --bom-table FILE."""
    if args.bom_table is not None:
        if args.vehicles:
            raise report.usage_error("vehicles-and-table")
        return _fleet(args, api.read_bom_table(args.bom_table), {}, "bom-table")
    if args.fleet is not None or args.all:
        if args.vehicles:
            raise report.usage_error("vehicles-before-fleet")
        workspace, vehicles = _load_vehicles(args, args.fleet or [])
        if args.all:
            vehicles = sorted(workspace.catalog.vehicles.values(), key=lambda v: v.id)
        groups = _groups(workspace, vehicles, args.by)
        return _fleet(
            args, [workspace.product(v) for v in vehicles], groups, workspace.catalog.provenance
        )
    if len(args.vehicles) != 2:
        raise report.usage_error("share-two", count=len(args.vehicles))
    workspace, vehicles = _load_vehicles(args, args.vehicles)
    pair = api.share(workspace, vehicles[0], vehicles[1])
    provenance = workspace.catalog.provenance
    emit(
        stamp(
            args,
            report.to_json({"provenance": provenance, **report.pair_json(pair)})
            if args.format == "json"
            else report.pair_text(pair, provenance),
        )
    )
    return ExitCode.OK


def _groups(
    workspace: Workspace, vehicles: Sequence[Vehicle], by: str | None
) -> dict[str, list[str]]:
    if by is None:
        return {}
    groups: dict[str, list[str]] = {}
    for vehicle in vehicles:
        key = (vehicle.config.platform if by == "platform" else vehicle.config.brand) or "(open)"
        groups.setdefault(key, []).append(vehicle.id)
    return dict(sorted(groups.items()))


def _fleet(
    args: argparse.Namespace,
    products: list[ProductBom],
    groups: dict[str, list[str]],
    provenance: str,
) -> int:
    if len(products) < 2:
        if args.bom_table is not None:
            raise report.usage_error("table-one-product", path=args.bom_table, count=len(products))
        raise report.usage_error("fleet-of-one")
    fleet = api.share_fleet(products, args.measure, args.common, groups)
    matrix, indices, group_indices = fleet.matrix, fleet.indices, fleet.groups
    if args.csv is not None:
        write_atomic(args.csv, _matrix_csv(matrix))
    if args.heatmap is not None:
        try:
            from cmf_config.heatmap import render_heatmap
        except ModuleNotFoundError as exc:
            raise report.usage_error("heatmap-missing", module=exc.name) from None
        render_heatmap(
            matrix, args.heatmap, report.heatmap_title(args.measure, len(products), provenance)
        )
    pairs = fleet.pairs
    if args.format == "json":
        text = report.to_json(
            {
                "provenance": provenance,
                "products": [p.name for p in products],
                "indices": _indices_json(indices),
                "groups": {
                    key: {"products": groups[key], "indices": _indices_json(value)}
                    for key, value in group_indices.items()
                },
                "matrix": {
                    "measure": matrix.measure,
                    "names": list(matrix.names),
                    "values": [list(row) for row in matrix.values],
                    "order": list(fleet.order),
                },
                "pairs": [report.pair_json(p, short=True) for p in pairs],
                "csv": str(args.csv) if args.csv else None,
                "heatmap": str(args.heatmap) if args.heatmap else None,
            }
        )
    else:
        text = report.fleet_text(matrix, indices, group_indices, list(fleet.order), provenance)
        text += report.fleet_files_text(
            len(products),
            None if args.csv is None else str(args.csv),
            None if args.heatmap is None else str(args.heatmap),
        )
    emit(stamp(args, text) if args.bom_table is None else text)
    return ExitCode.OK


def _matrix_csv(matrix: SimilarityMatrix) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["product", *matrix.names])
    for name, row in zip(matrix.names, matrix.values, strict=True):
        writer.writerow([name, *("" if v is None else f"{v:.6f}" for v in row)])
    return buffer.getvalue()


def _indices_json(indices: FamilyIndices) -> dict[str, object]:
    return {
        "dci": indices.dci,
        "tcci": indices.tcci,
        "ci": indices.ci,
        "percent_c": indices.percent_c,
        "percent_c_rule": indices.common,
        "percent_c_other": indices.percent_c_other,
        "pci": indices.pci,
        "pci_components": indices.pci_components,
        "products": indices.product_count,
        "distinct_parts": indices.distinct_part_count,
        "part_uses": indices.part_use_count,
    }
