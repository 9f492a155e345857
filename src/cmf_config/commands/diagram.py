"""diagram vehicle|catalog|rules|sharing: Graphviz diagrams, written as DOT or rendered by dot.

The output file's extension picks the format: .dot/.gv is the DOT source (no Graphviz
program needed), .svg/.png/.pdf are rendered by the real `dot` through the graphviz
package's `pipe()`, then written atomically. Without -o the DOT goes to standard output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import graphviz

from cmf_config import (
    BomLine,
    BuiltVehicle,
    ProductBom,
    Vehicle,
    VehicleConfig,
    Workspace,
    api,
    report,
)
from cmf_config.commands.common import add_common, emit, note_sources, stamp
from cmf_config.diagram import (
    Reference,
    catalog_diagram,
    provenance_caption,
    rules_diagram,
    sharing_diagram,
    timeline_diagram,
    vehicle_diagram,
)
from cmf_config.errors import ExitCode
from cmf_config.files import write_atomic

FORMATS: dict[str, str | None] = {
    ".dot": None,
    ".gv": None,
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
}
"""Output extensions and the Graphviz format each is rendered to (None: the DOT source)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `diagram` and its kinds."""
    p = sub.add_parser(
        "diagram",
        help="draw Graphviz diagrams of a vehicle, the catalog, the rules or the sharing",
        description="Draw a Graphviz diagram. The extension of -o picks the format: .dot (source), .svg, .png, .pdf (rendered by Graphviz's dot).",
    )
    dsub = p.add_subparsers(
        dest="diagram_kind", metavar="vehicle|catalog|rules|sharing|timeline", required=True
    )

    vp = dsub.add_parser(
        "vehicle",
        help="a vehicle: brand, platform, big modules, parts, broken rules",
        description="Draw a vehicle configuration: its brand, platform, five big modules with their key attributes and parts, and the rules it breaks (in red).",
    )
    vp.add_argument("file", type=Path, metavar="FILE")
    vp.add_argument(
        "--against",
        default=None,
        metavar="VEHICLE",
        help="mark the parts shared with VEHICLE (a configuration file or a catalog vehicle id)",
    )
    _add_output(vp)
    vp.set_defaults(run=run_vehicle)

    cp = dsub.add_parser(
        "catalog",
        help="which platform admits which module variant; brands, vehicles, platforms",
        description="Draw the catalog: brand -> vehicles -> platform -> the module variants each platform admits, clustered by module kind.",
    )
    _add_output(cp)
    cp.set_defaults(run=run_catalog)

    rp = dsub.add_parser(
        "rules",
        help="which rule reads which module kinds, attributes and options",
        description="Draw the dependency graph of the rules: each rule and the slots and attributes it reads. With --config, violated and satisfied rules are coloured.",
    )
    rp.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="colour the rules by how they fare on this configuration",
    )
    _add_output(rp)
    rp.set_defaults(run=run_rules)

    sp = dsub.add_parser(
        "sharing",
        help="catalog vehicles clustered by platform, linked by their sharing ratio",
        description="Draw the catalog vehicles clustered by platform, with an edge labelled with the sharing ratio (Dice over part numbers) wherever it reaches the threshold.",
    )
    sp.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        metavar="RATIO",
        help="draw an edge when the sharing ratio is at least RATIO, 0..1 (default: 0.5)",
    )
    _add_output(sp)
    sp.set_defaults(run=run_sharing)

    tp = dsub.add_parser(
        "timeline",
        help="platforms and vehicles over the years, with the consolidation story",
        description="Draw the platforms from their launch years and the vehicles in the year their production started (with their years), on a year axis counting the platforms launched by then, with the sourced Alliance platform events (2013 first wave, 2020 halving to four, 2022 five EV platforms, 2023 AmpR names).",
    )
    _add_output(tp)
    tp.set_defaults(run=run_timeline)


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="OUT",
        help="write to OUT: .dot, .svg, .png or .pdf (default: DOT on standard output)",
    )
    add_common(parser, formats=False)


def write_diagram(graph: graphviz.Digraph, path: Path | None) -> None:
    """Write DOT (to stdout when `path` is None) or render with dot by the extension.

    Raises UsageError for an unknown extension, or when dot is needed but not installed.
    """
    if path is None:
        sys.stdout.write(graph.source)
        return
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise report.usage_error("diagram-format", path=path, suffix=path.suffix)
    fmt = FORMATS[suffix]
    if fmt is None:
        write_atomic(path, graph.source)
        return
    try:
        data: bytes = graph.pipe(format=fmt, engine="dot")
    except graphviz.ExecutableNotFound:
        raise report.usage_error("no-dot", path=path) from None
    write_atomic(path, data)


def _write(args: argparse.Namespace, graph: graphviz.Digraph) -> None:
    """Write a diagram, then say what was drawn from (stdout, or stderr when DOT went there)."""
    write_diagram(graph, args.output)
    if args.output is None:
        note_sources(args)
    else:
        emit(stamp(args, report.wrote_text(str(args.output))))


# ------------------------------------------------------------------ vehicle


def _reference(
    workspace: Workspace, config: VehicleConfig, own: Sequence[BomLine] | None, other: Vehicle
) -> Reference:
    lines = api.bill_of_materials(workspace, other.config)
    if lines is None:
        raise report.usage_error("reference-unbuildable", name=other.config.name)
    ratio = None
    if own is not None:
        ratio = api.compare_products(
            api.bom_product(config.name, own), api.bom_product(other.config.name, lines)
        ).ratio
    return Reference(
        name=other.config.name, parts=frozenset(line.part for line in lines), ratio=ratio
    )


def run_vehicle(args: argparse.Namespace) -> int:
    """diagram vehicle FILE [--against VEHICLE] [-o OUT]."""
    ref: str | None = args.against
    extra = [Path(ref)] if ref and Path(ref).suffix in (".yaml", ".yml") else []
    workspace = api.open_workspace(args.catalog, args.rules, [args.file, *extra])
    vehicles = list(workspace.loaded)
    vehicle = vehicles[0]
    verdict = api.validate(workspace, vehicle.config)
    built = api.build(workspace, vehicle.config) if verdict.is_valid else None
    reference = None
    if ref:
        loaded = {str(p): v for p, v in zip(extra, vehicles[1:], strict=True)}
        other = api.resolve_vehicle(workspace, ref, loaded)
        own = (
            list(built.bom)
            if built is not None
            else api.bill_of_materials(workspace, vehicle.config, build_open=False)
        )
        reference = _reference(workspace, vehicle.config, own, other)
    graph = vehicle_diagram(
        workspace.catalog,
        vehicle.config,
        built=built,
        violated=api.broken_rules(workspace, verdict),
        reference=reference,
    )
    _write(args, provenance_caption(graph, workspace.catalog.provenance))
    return ExitCode.OK


def draw_built_vehicle(
    workspace: Workspace, vehicle: Vehicle, built: BuiltVehicle, path: Path
) -> None:
    """The vehicle diagram of what `build` resolved (its broken warnings in red), to `path`.

    Raises UsageError for an unknown extension or when dot is needed but missing.
    """
    verdict = api.validate(workspace, vehicle.config)
    graph = vehicle_diagram(
        workspace.catalog,
        vehicle.config,
        built=built,
        violated=api.broken_rules(workspace, verdict),
    )
    write_diagram(provenance_caption(graph, workspace.catalog.provenance), path)


# ------------------------------------------------------------------ catalog, rules, sharing


def run_catalog(args: argparse.Namespace) -> int:
    """diagram catalog [-o OUT]."""
    workspace = api.open_workspace(args.catalog, args.rules)
    _write(
        args, provenance_caption(catalog_diagram(workspace.catalog), workspace.catalog.provenance)
    )
    return ExitCode.OK


def run_rules(args: argparse.Namespace) -> int:
    """diagram rules [--config FILE] [-o OUT]."""
    paths = [args.config] if args.config is not None else []
    workspace = api.open_workspace(args.catalog, args.rules, paths)
    vehicles = list(workspace.loaded)
    status = api.rule_states(workspace, vehicles[0].config) if vehicles else None
    _write(args, rules_diagram(workspace.rules, workspace.problem, status, workspace.catalog))
    return ExitCode.OK


def run_sharing(args: argparse.Namespace) -> int:
    """diagram sharing [--threshold RATIO] [-o OUT]."""
    threshold: float = args.threshold
    if not 0.0 <= threshold <= 1.0:
        raise report.usage_error("threshold", threshold=threshold)
    workspace = api.open_workspace(args.catalog, args.rules)
    products: list[ProductBom] = []
    platforms: dict[str, str | None] = {}
    captions: dict[str, str] = {}
    for vehicle in sorted(workspace.catalog.vehicles.values(), key=lambda v: v.id):
        lines = api.bill_of_materials(workspace, vehicle.config)
        if lines is None:
            sys.stderr.write(report.left_out_note(vehicle.id))
            continue
        products.append(api.bom_product(vehicle.id, lines))
        platforms[vehicle.id] = vehicle.config.platform
        captions[vehicle.id] = vehicle.config.name
    if products:
        matrix = api.similarity_matrix(products, "ratio")
        names, values = matrix.names, matrix.values
    else:
        names, values = (), ()
    _write(
        args,
        provenance_caption(
            sharing_diagram(names, platforms, values, threshold=threshold, captions=captions),
            workspace.catalog.provenance,
        ),
    )
    return ExitCode.OK


def run_timeline(args: argparse.Namespace) -> int:
    """diagram timeline [-o OUT]."""
    catalog = api.open_catalog(args.catalog)
    _write(args, timeline_diagram(catalog))
    return ExitCode.OK
