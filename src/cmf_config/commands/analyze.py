"""count, enumerate, lint: questions about the whole catalog."""

from __future__ import annotations

import argparse
from pathlib import Path

from cmf_config import Workspace, api, report
from cmf_config.commands.common import (
    SCANNING,
    add_common,
    add_year,
    emit,
    scanning_out,
    sources_of,
    stamp,
)
from cmf_config.errors import ExitCode


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the catalog-wide analyses."""
    p = sub.add_parser(
        "count",
        help="count the valid configurations exactly",
        description="The exact number of valid complete configurations (d4 model counter), optionally for one platform and/or brand.",
    )
    p.add_argument("--platform", default=None, metavar="P")
    p.add_argument("--brand", default=None, metavar="B")
    add_year(p)
    add_common(p)
    p.set_defaults(run=run_count)

    p = sub.add_parser(
        "enumerate",
        help="list valid configurations",
        description="List up to N valid complete configurations (extending FILE's choices if given).",
    )
    p.add_argument("file", nargs="?", type=Path, default=None, metavar="FILE")
    p.add_argument("--limit", type=int, default=10, metavar="N")
    p.add_argument("--platform", default=None, metavar="P")
    p.add_argument("--brand", default=None, metavar="B")
    add_year(p)
    add_common(p)
    p.set_defaults(run=run_enumerate)

    p = sub.add_parser(
        "lint",
        help="find dead variants, vacuous, contradictory or redundant rules, broken reference vehicles",
        description="Check the catalog and rules for dead module variants, platforms or brands with no valid vehicle, rules that can never be violated or satisfied, redundant rules, and reference vehicles that break rules. Exit 1 when anything is found.",
    )
    add_common(p, extra=SCANNING)
    p.set_defaults(run=run_lint)


def _fixed(workspace: Workspace, args: argparse.Namespace) -> dict[str, int]:
    values = {slot: getattr(args, slot) for slot in ("platform", "brand")}
    return api.assignment_of(workspace, {k: v for k, v in values.items() if v is not None})


def run_count(args: argparse.Namespace) -> int:
    """count [--platform P] [--brand B]."""
    workspace = api.open_workspace(args.catalog, args.rules, year=args.year)
    fixed = {slot: getattr(args, slot) for slot in ("platform", "brand")}
    total = api.count_vehicles(workspace, {k: v for k, v in fixed.items() if v is not None})
    if args.format == "json":
        emit(
            stamp(
                args,
                report.to_json(
                    {
                        "count": total,
                        "platform": args.platform,
                        "brand": args.brand,
                        "year": args.year,
                        "counter": "d4",
                    }
                ),
            )
        )
    else:
        emit(stamp(args, report.count_text(total)))
    return ExitCode.OK


def run_enumerate(args: argparse.Namespace) -> int:
    """enumerate [FILE] --limit N."""
    if args.limit < 0:
        raise report.usage_error("limit")
    workspace = api.open_workspace(
        args.catalog, args.rules, [args.file] if args.file else [], year=args.year
    )
    vehicles = workspace.loaded
    fixed = workspace.assignment(vehicles[0].config) if vehicles else {}
    fixed.update(_fixed(workspace, args))
    rows = api.enumerate_vehicles(workspace, args.limit, fixed)
    if args.format == "json":
        emit(
            stamp(
                args,
                report.to_json({"configurations": rows, "limit": args.limit, "year": args.year}),
            )
        )
    else:
        emit(stamp(args, report.rows_text(rows, args.limit)))
    return ExitCode.INVALID if not rows and args.limit > 0 else ExitCode.OK


def run_lint(args: argparse.Namespace) -> int:
    """lint."""
    workspace = api.open_workspace(args.catalog, args.rules)
    sources = sources_of(args)
    ignored = set(sources.project.ignore) if sources.project is not None else set()
    findings = [f for f in api.lint_catalog(workspace) if f.code not in ignored]
    if scanning_out(args, findings):
        pass
    elif args.format == "json":
        emit(stamp(args, report.lint_json(findings, ignored)))
    else:
        text = report.lint_text(
            findings,
            rules=sum(1 for r in workspace.rules if not r.builtin),
            modules=len(workspace.catalog.modules),
            vehicles=len(workspace.catalog.vehicles),
            ignored=ignored,
        )
        emit(stamp(args, text))
    return ExitCode.INVALID if findings else ExitCode.OK
