"""bom-check: uniqueness, completeness and superfluous parts of the variant BOM positions."""

from __future__ import annotations

import argparse

from cmf_config import report
from cmf_config.commands.common import add_common, emit
from cmf_config.errors import ExitCode
from cmf_config.variantbom import check
from cmf_config.workspace import Workspace


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add bom-check."""
    p = sub.add_parser(
        "bom-check",
        help="check the variant BOM positions: uniqueness, completeness, superfluous parts",
        description="For every BOM position of every module variant and brand: no valid configuration selects two of its alternatives (uniqueness), every valid configuration that needs it selects one (completeness), and every alternative is selected by some valid configuration (no superfluous part). Each finding comes with a witness configuration. Exit 1 when anything is found.",
    )
    add_common(p)
    p.set_defaults(run=run_bom_check)


def run_bom_check(args: argparse.Namespace) -> int:
    """bom-check."""
    workspace, _ = Workspace.open(args.catalog, args.rules)
    findings = check(workspace.engine, workspace.positions)
    alternatives = sum(len(p.position.alternatives) for p in workspace.positions)
    if args.format == "json":
        emit(
            report.to_json(
                {
                    "clean": not findings,
                    "positions": len(workspace.positions),
                    "alternatives": alternatives,
                    "findings": [
                        {
                            "check": f.check,
                            "position": f.position,
                            "parts": list(f.parts),
                            "message": f.message,
                            "file": f.span.path,
                            "line": f.span.line,
                            "column": f.span.col,
                            "witness": dict(f.witness) if f.witness is not None else None,
                        }
                        for f in findings
                    ],
                }
            )
        )
    else:
        for f in findings:
            emit(f"{f.span}: {f.check}: {f.message}\n")
            if f.witness is not None:
                emit("  witness: " + " ".join(f"{k}={v}" for k, v in f.witness.items()) + "\n")
        emit(f"bom-check: {len(findings)} finding{'s' if len(findings) != 1 else ''} in {len(workspace.positions)} positions with {alternatives} alternative parts\n")
    return ExitCode.INVALID if findings else ExitCode.OK
