"""bom-check: uniqueness, completeness and superfluous parts of the variant BOM positions."""

from __future__ import annotations

import argparse

from cmf_config import api, report
from cmf_config.commands.common import SCANNING, add_common, emit, scanning_out, stamp
from cmf_config.errors import ExitCode


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add bom-check."""
    p = sub.add_parser(
        "bom-check",
        help="check the variant BOM positions: uniqueness, completeness, superfluous parts",
        description=(
            "For every BOM position of every module variant and brand: no valid configuration selects two of its "
            "alternatives (uniqueness), every valid configuration that needs it selects one (completeness), and every "
            "alternative is selected by some valid configuration (no superfluous part). Each uniqueness and completeness "
            "finding comes with a witness: a valid configuration that shows it. Exit 0 when clean, 1 when anything is "
            "found, 2 on unusable input."
        ),
    )
    add_common(p, extra=SCANNING)
    p.set_defaults(run=run_bom_check)


def run_bom_check(args: argparse.Namespace) -> int:
    """bom-check."""
    workspace = api.open_workspace(args.catalog, args.rules)
    findings = api.bom_check(workspace)
    positions, alternatives = api.bom_positions(workspace)
    if scanning_out(args, findings):
        return ExitCode.INVALID if findings else ExitCode.OK
    if args.format == "json":
        text = report.bomcheck_json(findings, positions, alternatives)
    else:
        text = report.bomcheck_text(findings, positions, alternatives)
    emit(stamp(args, text))
    return ExitCode.INVALID if findings else ExitCode.OK
