"""bom-check: uniqueness, completeness and superfluous parts of the variant BOM positions."""

from __future__ import annotations

import argparse
from collections import Counter

from cmf_config import report
from cmf_config.commands.common import add_common, emit, stamp
from cmf_config.errors import ExitCode
from cmf_config.variantbom import CHECKS, Finding, check
from cmf_config.workspace import Workspace

HINTS = {
    "uniqueness": "make the two selection conditions exclusive: the witness satisfies both",
    "completeness": "add an alternative whose condition holds for the witness, or narrow the position's `needed` condition",
    "superfluous": "drop the part, or fix its selection condition (or the position's `needed`) so that a valid vehicle can take it",
}


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
    add_common(p)
    p.set_defaults(run=run_bom_check)


def run_bom_check(args: argparse.Namespace) -> int:
    """bom-check."""
    workspace, _ = Workspace.open(args.catalog, args.rules)
    findings = check(workspace.engine, workspace.positions)
    alternatives = sum(len(p.position.alternatives) for p in workspace.positions)
    counts = Counter(f.check for f in findings)
    if args.format == "json":
        text = report.to_json(
            {
                "clean": not findings,
                "positions": len(workspace.positions),
                "alternatives": alternatives,
                "counts": {name: counts[name] for name in CHECKS},
                "findings": [_finding_json(f) for f in findings],
            }
        )
    else:
        lines = []
        for f in findings:
            lines.append(f"{f.span}: {f.check}: {f.message}\n")
            if f.witness is not None:
                lines.append(
                    "  witness: " + " ".join(f"{k}={v}" for k, v in f.witness.items()) + "\n"
                )
            lines.append(f"  hint: {HINTS[f.check]}\n")
        by_check = ", ".join(f"{counts[name]} {name}" for name in CHECKS)
        lines.append(
            f"bom-check: {len(findings)} finding{'s' if len(findings) != 1 else ''} ({by_check}) "
            f"in {len(workspace.positions)} positions with {alternatives} alternative parts\n"
        )
        text = "".join(lines)
    emit(stamp(args, text))
    return ExitCode.INVALID if findings else ExitCode.OK


def _finding_json(f: Finding) -> dict[str, object]:
    return {
        "check": f.check,
        "position": f.position,
        "parts": list(f.parts),
        "message": f.message,
        "hint": HINTS[f.check],
        "file": f.span.path,
        "line": f.span.line,
        "column": f.span.col,
        "witness": dict(f.witness) if f.witness is not None else None,
    }
