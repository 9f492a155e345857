"""validate, build, explain, fix, complete, options: questions about configuration files."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from cmf_config import (
    BuiltVehicle,
    Diagnostic,
    InputError,
    Vehicle,
    Workspace,
    api,
    report,
)
from cmf_config.commands.common import (
    SCANNING,
    add_common,
    add_year,
    emit,
    note_sources,
    scanning_out,
    stamp,
)
from cmf_config.errors import ExitCode
from cmf_config.files import write_atomic


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the configuration commands."""
    p = sub.add_parser(
        "validate",
        help="check configuration files against the catalog and the rules",
        description="Check configuration files: names, types, and every rule. Exit 0 all valid, 1 some configuration breaks the rules, 2 unusable input.",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add_common(p, extra=SCANNING)
    p.set_defaults(run=run_validate)

    p = sub.add_parser(
        "build",
        help="resolve a configuration into modules and a bill of materials",
        description="Resolve a configuration (completing open slots at least cost) into its module variants and bill of materials.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="OUT",
        help="write the result to OUT (atomically)",
    )
    p.add_argument(
        "--diagram",
        type=Path,
        default=None,
        metavar="OUT",
        help="also draw the vehicle diagram (.dot, .svg, .png, .pdf)",
    )
    add_common(p, extra=("csv", "xlsx"))
    p.set_defaults(run=run_build)

    p = sub.add_parser(
        "explain",
        help="explain why a configuration cannot be valid",
        description="For an infeasible configuration, show a minimal set of choices and rules that cannot hold together.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    add_year(p)
    add_common(p)
    p.set_defaults(run=run_explain)

    p = sub.add_parser(
        "fix",
        help="propose the nearest valid configuration",
        description="Change the fewest choices (ties broken by module cost) to make the configuration valid.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    _add_write(p, "corrected")
    add_common(p)
    p.set_defaults(run=run_fix)

    p = sub.add_parser(
        "complete",
        help="fill the open slots of a partial configuration optimally",
        description="Fill the open slots with the valid choices of least module cost or mass, or of most parts shared with a vehicle.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    goal = p.add_mutually_exclusive_group()
    goal.add_argument(
        "--minimize",
        choices=("cost", "mass"),
        default="cost",
        help="what to minimise (default: cost)",
    )
    goal.add_argument(
        "--maximize-sharing-with",
        default=None,
        metavar="VEHICLE",
        help="a configuration file or catalog vehicle id to share the most parts with",
    )
    _add_write(p, "completed")
    add_year(p)
    add_common(p)
    p.set_defaults(run=run_complete)

    p = sub.add_parser(
        "options",
        help="show what each open slot may still take",
        description="For each open slot, the values that have a valid completion and, for each excluded one, the rules that exclude it.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    add_year(p)
    add_common(p)
    p.set_defaults(run=run_options)


def _add_write(p: argparse.ArgumentParser, what: str) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="OUT",
        help=f"write the {what} configuration file to OUT (atomically); only the changed values differ from FILE",
    )
    where.add_argument(
        "-i",
        "--in-place",
        action="store_true",
        help=f"rewrite FILE with the {what} values (atomically), keeping its comments and layout",
    )


def _target(args: argparse.Namespace) -> Path | None:
    return Path(args.file) if args.in_place else args.output


def _open_one(
    args: argparse.Namespace, extra: list[Path] | None = None
) -> tuple[Workspace, Vehicle]:
    workspace = api.open_workspace(
        args.catalog,
        args.rules,
        [args.file, *(extra or [])],
        year=getattr(args, "year", None),
    )
    return workspace, workspace.loaded[0]


def run_validate(args: argparse.Namespace) -> int:
    """validate FILE..."""
    try:
        found = api.validate_files(args.files, args.catalog, args.rules)
    except InputError as exc:
        return _unusable(args, exc.diagnostics)
    results = [(r.path, r.valid, list(r.diagnostics)) for r in found]
    if scanning_out(args, [d for r in found for d in r.diagnostics], [r.path for r in found]):
        return _validate_code(found)
    emit(
        stamp(
            args,
            report.validate_json(results)
            if args.format == "json"
            else report.validate_text(results, {r.path for r in found if not r.usable}),
        )
    )
    return _validate_code(found)


def _validate_code(found: Sequence[api.FileResult]) -> int:
    if not all(r.usable for r in found):
        return ExitCode.USAGE
    return ExitCode.OK if all(r.valid for r in found) else ExitCode.INVALID


def _unusable(args: argparse.Namespace, diags: tuple[Diagnostic, ...] | list[Diagnostic]) -> int:
    if scanning_out(args, list(diags)):
        return ExitCode.USAGE
    if getattr(args, "format", "text") == "json":
        emit(stamp(args, report.unusable_json(diags)))
    else:
        emit(stamp(args, report.render_diagnostics(list(diags))))
    return ExitCode.USAGE


def _invalid_config(args: argparse.Namespace, workspace: Workspace, vehicle: Vehicle) -> int:
    """Print why a configuration is invalid (as validate would) and return exit code 1."""
    diags = api.diagnostics(workspace, api.validate(workspace, vehicle.config))
    if not diags:  # complete and every rule holds, yet inconsistent: cannot happen, but say so
        diags = [report.no_match_diagnostic(vehicle.config.span)]
    results = [(vehicle.config.span.path, False, diags)]
    emit(
        stamp(
            args,
            report.validate_json(results)
            if args.format == "json"
            else report.validate_text(results),
        )
    )
    return ExitCode.INVALID


def run_build(args: argparse.Namespace) -> int:
    """build FILE [-o OUT] [--diagram OUT]."""
    workspace, vehicle = _open_one(args)
    verdict = api.validate(workspace, vehicle.config)
    if not verdict.is_valid:
        return _invalid_config(args, workspace, vehicle)
    built = api.build(workspace, vehicle.config)
    if built is None:
        return _invalid_config(args, workspace, vehicle)
    if args.diagram is not None:
        from cmf_config.commands.diagram import draw_built_vehicle

        draw_built_vehicle(workspace, vehicle, built, args.diagram)
    if args.format in ("csv", "xlsx"):
        return _spreadsheet(args, built)
    text = (
        report.build_json(built, workspace.catalog.provenance)
        if args.format == "json"
        else report.build_text(built, workspace.catalog)
    )
    emit(stamp(args, text), args.output)
    return ExitCode.OK


def _spreadsheet(args: argparse.Namespace, built: BuiltVehicle) -> int:
    """build --format csv|xlsx: the BOM as a table; the report line says what was written."""
    from cmf_config.bomexport import bom_csv, bom_xlsx

    if args.format == "csv":
        if args.output is None:
            note_sources(args)
            emit(bom_csv(built))
            return ExitCode.OK
        write_atomic(args.output, bom_csv(built))
    else:
        if args.output is None:
            raise report.usage_error("xlsx-to-stdout")
        write_atomic(args.output, bom_xlsx(built))
    emit(stamp(args, report.bom_table_written_text(str(args.output), len(built.bom), args.format)))
    return ExitCode.OK


def run_explain(args: argparse.Namespace) -> int:
    """explain FILE [--year Y]."""
    workspace, vehicle = _open_one(args)
    found = api.explain(workspace, vehicle.config)
    if args.format == "json":
        text = report.explain_json(
            None if found is None else found.conflict,
            None if found is None else found.derivation,
            workspace.problem,
            api.rule_index(workspace),
            vehicle.config,
            workspace.assignment(vehicle.config),
        )
    elif found is None:
        text = report.consistent_text(vehicle.config.span.path)
    else:
        text = found.text
    emit(stamp(args, text))
    return ExitCode.OK if found is None else ExitCode.INVALID


def run_fix(args: argparse.Namespace) -> int:
    """fix FILE [-o OUT]."""
    workspace, vehicle = _open_one(args)
    found = api.fix(workspace, vehicle.config)
    if found is None:
        raise report.usage_error("no-vehicle-at-all")
    changes = list(found.changes)
    written = None
    target = _target(args)
    if target is not None:
        emit(api.edit_config_file(vehicle, found.config), target)
        written = str(target)
    emit(
        stamp(
            args,
            report.changes_json(changes, written)
            if args.format == "json"
            else report.changes_text(changes, workspace.problem)
            + (report.wrote_text(written) if written else ""),
        )
    )
    return ExitCode.OK


def run_complete(args: argparse.Namespace) -> int:
    """complete FILE [--minimize cost|mass] [--maximize-sharing-with VEHICLE]."""
    ref = args.maximize_sharing_with
    extra = [Path(ref)] if ref and Path(ref).suffix in (".yaml", ".yml") else []
    workspace = api.open_workspace(args.catalog, args.rules, [args.file, *extra], year=args.year)
    vehicle = workspace.loaded[0]
    share_with = None
    if ref:
        loaded = {str(p): v for p, v in zip(extra, workspace.loaded[1:], strict=True)}
        reference = api.resolve_vehicle(workspace, ref, loaded)
        _check_reference(workspace, reference, ref)
        share_with = reference.config
    config = api.complete(workspace, vehicle.config, args.minimize, share_with)
    if config is None:
        return _invalid_config(args, workspace, vehicle)
    text = api.edit_config_file(vehicle, config)
    target = _target(args)
    if target is not None:
        emit(text, target)
    filled = api.filled_values(workspace, vehicle.config, config)
    if args.format == "json":
        emit(
            stamp(
                args,
                report.to_json(
                    {
                        "filled": filled,
                        "objective": "sharing" if ref else args.minimize,
                        "written": str(target) if target else None,
                    }
                ),
            )
        )
    elif target is None:
        note_sources(args)
        emit(text)
    else:
        emit(stamp(args, report.filled_text(len(filled), str(target))))
    return ExitCode.OK


def _check_reference(workspace: Workspace, reference: Vehicle, ref: str) -> None:
    """The vehicle to share with must be complete and valid: its parts are the target."""
    open_slots = api.open_slots(workspace, reference.config)
    if open_slots:
        shown = ", ".join(open_slots[:6]) + (", ..." if len(open_slots) > 6 else "")
        raise report.usage_error("share-partial", ref=ref, shown=shown)
    if not api.has_completion(workspace, reference.config):
        raise report.usage_error("share-invalid", ref=ref)


def run_options(args: argparse.Namespace) -> int:
    """options FILE [--year Y]."""
    workspace, vehicle = _open_one(args)
    consistent = api.has_completion(workspace, vehicle.config)
    options = api.options(workspace, vehicle.config)
    if args.format == "json":
        emit(stamp(args, report.options_json(options, consistent)))
    else:
        head = "" if consistent else report.options_contradiction_text()
        emit(stamp(args, head + report.options_text(options, workspace.problem)))
    return ExitCode.OK if consistent else ExitCode.INVALID
