"""import, export uvl, and the `model` group: variability models in UVL and DIMACS.

`import FILE` reads a UVL or DIMACS model, reports its size and count, and with `-o DIR`
writes it back as normalised UVL (DIR/model.uvl). `export uvl` writes the CMF catalog and its
rules as UVL. `model count|options|lint|explain|validate FILE` answer questions about a model
file directly. JSON keys are documented in docs/interchange.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from cmf_config import Conflict, FeatureAnalysis, FeatureModel, Rule, api, report
from cmf_config.commands.common import (
    SCANNING,
    add_common,
    emit,
    note_sources,
    scanning_out,
    sources_of,
    stamp,
)
from cmf_config.errors import ExitCode
from cmf_config.files import write_atomic

Selection = Mapping[str, bool]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add import, export and the model group."""
    p = sub.add_parser(
        "import",
        help="read a UVL or DIMACS variability model: size, count, normalised copy",
        description="Read a feature model in UVL (.uvl) or DIMACS CNF (.dimacs, .cnf) and report its features, groups, constraints and exact number of configurations. With -o DIR, also write it as normalised UVL to DIR/model.uvl.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument(
        "-o", "--output", type=Path, default=None, metavar="DIR", help="write DIR/model.uvl"
    )
    p.add_argument(
        "--no-count", action="store_true", help="skip the count (for models no counter finishes)"
    )
    p.add_argument(
        "--count-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="give up counting after S seconds (default 60; 0: no limit)",
    )
    _add_output(p)
    p.set_defaults(run=run_import)

    p = sub.add_parser(
        "export",
        help="write the catalog and its rules as a variability model (UVL)",
        description="Write the CMF catalog and the rules it can express as UVL, which flamapy and FeatureIDE open. Rules that cannot be written are listed in a comment and reported.",
    )
    p.add_argument("target", choices=("uvl",), help="the format (uvl)")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="FILE",
        help="write to FILE instead of standard output",
    )
    add_common(p)
    p.set_defaults(run=run_export)

    model = sub.add_parser(
        "model",
        help="questions about a UVL or DIMACS model file",
        description="Count, options, lint, explain and validate on a UVL or DIMACS feature model file.",
    )
    group = model.add_subparsers(dest="model_command", metavar="QUESTION", required=True)
    q = group.add_parser(
        "count",
        help="count the valid configurations exactly",
        description="The exact number of valid configurations, extending the selection if one is given.",
    )
    _add_file(q)
    q.add_argument(
        "--timeout",
        type=float,
        default=0.0,
        metavar="S",
        help="give up after S seconds (exit 2; default 0: no limit)",
    )
    q.set_defaults(run=run_count)
    q = group.add_parser(
        "options",
        help="what the selection leaves open, and what it decides (with reasons)",
        description="For a partial selection of features: which open features are now forced on or off (each with a minimal reason), and which remain free.",
    )
    _add_file(q)
    q.add_argument(
        "--reasons",
        type=int,
        default=100,
        metavar="N",
        help="give reasons for the first N forced features (default 100)",
    )
    q.set_defaults(run=run_options)
    q = group.add_parser(
        "lint",
        help="dead, core and false-optional features, with reasons",
        description="Find a void model, dead features (in no configuration), false-optional features (optional, yet selected whenever their parent is) and core features (in every configuration), each with the rules and constraints that cause it. Exit 1 for a void model, dead or false-optional features.",
    )
    q.add_argument("file", type=Path, metavar="FILE")
    q.add_argument(
        "--reasons",
        type=int,
        default=100,
        metavar="N",
        help="give reasons for the first N findings (default 100)",
    )
    _add_output(q, extra=SCANNING)
    q.set_defaults(run=run_lint)
    q = group.add_parser(
        "explain",
        help="why a selection has no valid configuration",
        description="A minimal set of the selected features and the model's rules that cannot hold together. Exit 1 when there is such a conflict, 0 when the selection can be completed.",
    )
    _add_file(q)
    q.set_defaults(run=run_explain)
    q = group.add_parser(
        "validate",
        help="whether a selection has a valid completion",
        description="Exit 0 when some valid configuration extends the selection, 1 (with the reason) when none does.",
    )
    _add_file(q)
    q.set_defaults(run=run_validate)


def _add_output(p: argparse.ArgumentParser, extra: Sequence[str] = ()) -> None:
    p.add_argument(
        "--format",
        choices=("text", "json", *extra),
        default="text",
        help="output format (default: text)",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")


def _add_file(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="F",
        help="a selected feature (repeat, or separate with commas)",
    )
    p.add_argument(
        "--deselect",
        action="append",
        default=[],
        metavar="F",
        help="a deselected feature (repeat, or separate with commas)",
    )
    _add_output(p)


# ------------------------------------------------------------------ loading


def _selection(model: FeatureModel, args: argparse.Namespace) -> dict[str, bool]:
    names = {f.name for f in model.features}
    out: dict[str, bool] = {}
    for flag, value in (("select", True), ("deselect", False)):
        for entry in getattr(args, flag, []):
            for raw in entry.split(","):
                name = raw.strip()
                if not name:
                    continue
                if name not in names:
                    raise report.unknown_feature(name, flag, names, model.path)
                if out.get(name, value) != value:
                    raise report.usage_error("both-selected", name=name)
                out[name] = value
    return out


def _open(args: argparse.Namespace) -> tuple[FeatureModel, FeatureAnalysis, dict[str, bool]]:
    model = api.import_model(args.file)
    selection = _selection(model, args)
    return model, api.analyse_model(model), selection


def _selection_json(selection: Selection) -> dict[str, list[str]]:
    return {
        "selected": [n for n, v in selection.items() if v],
        "deselected": [n for n, v in selection.items() if not v],
    }


# ------------------------------------------------------------------ wording


# ------------------------------------------------------------------ commands


def run_import(args: argparse.Namespace) -> int:
    """import FILE [-o DIR] [--no-count]."""
    start = time.perf_counter()
    model = api.import_model(args.file)
    read_s = time.perf_counter() - start
    analysis = api.analyse_model(model)
    compiled = analysis.compiled
    satisfiable = analysis.is_satisfiable()
    count, counter = (
        (None, None) if args.no_count else api.count_model(analysis, {}, args.count_timeout)
    )
    written = None
    if args.output is not None:
        if not args.output.is_dir():
            raise report.usage_error("not-a-directory", path=args.output)
        written = args.output / "model.uvl"
        write_atomic(written, api.model_uvl(model))
    abstract = sum(1 for f in model.features if f.abstract)
    summary = {
        "file": model.path,
        "format": model.kind,
        "namespace": model.namespace,
        "root": model.root,
        "features": len(model.features),
        "abstract_features": abstract,
        "groups": len(model.groups),
        "constraints": model.constraint_count(),
        "rules": compiled.rule_count(),
        "variables": compiled.nvars,
        "clauses": compiled.clause_count(),
        "satisfiable": satisfiable,
        "count": None if count is None else str(count),
        "counter": counter,
        "count_timeout": None if args.no_count or count is not None else args.count_timeout,
        "read_seconds": round(read_s, 3),
        "written": None if written is None else str(written),
    }
    if args.format == "json":
        emit(report.to_json(summary))
        return ExitCode.OK
    emit(report.model_import_text(summary))
    return ExitCode.OK


def run_export(args: argparse.Namespace) -> int:
    """export uvl [-o FILE]."""
    workspace = api.open_workspace(args.catalog, args.rules)
    result = api.export_uvl(workspace, source=report.uvl_source(sources_of(args)))
    if args.output is not None:
        write_atomic(args.output, result.text)
    if args.format == "json":
        emit(
            stamp(
                args,
                report.to_json(
                    {
                        "output": None if args.output is None else str(args.output),
                        "uvl": result.text if args.output is None else None,
                        "features": result.features,
                        "rules_written": list(result.written),
                        "skipped": [{"rule": r, "reason": why} for r, why in result.skipped],
                    }
                ),
            )
        )
        return ExitCode.OK
    if args.output is None:
        note_sources(args)
        emit(result.text)
    else:
        emit(stamp(args, report.export_text(str(args.output), result)))
    for rule_id, why in result.skipped:
        sys.stderr.write(report.export_note(rule_id, why))
    return ExitCode.OK


def run_count(args: argparse.Namespace) -> int:
    """model count FILE [--select ...] [--deselect ...]."""
    model, analysis, selection = _open(args)
    total, counter = api.count_model(analysis, selection, args.timeout)
    if total is None:
        raise report.usage_error(
            "count-timeout", path=model.path, seconds=args.timeout, counter=counter
        )
    if args.format == "json":
        emit(
            report.to_json(
                {
                    "file": model.path,
                    "count": str(total),
                    "counter": counter,
                    "selection": _selection_json(selection),
                }
            )
        )
    else:
        emit(report.count_text(total))
    return ExitCode.OK


def run_options(args: argparse.Namespace) -> int:
    """model options FILE [--select ...] [--deselect ...]."""
    model, analysis, selection = _open(args)
    rules = analysis.compiled.rule_map()
    if args.reasons < 0:
        raise report.usage_error("reasons")
    if not analysis.is_satisfiable(selection):
        return _conflict_out(
            args, model, rules, selection, analysis.explain(selection), "options", analysis
        )
    forced, free = analysis.forced(selection, args.reasons)
    if args.format == "json":
        emit(
            report.to_json(
                {
                    "file": model.path,
                    "selection": _selection_json(selection),
                    "satisfiable": True,
                    "forced": [report.forced_json(rules, f) for f in forced],
                    "free": free,
                }
            )
        )
        return ExitCode.OK
    emit(report.model_forced_text(model.path, selection, forced, free, rules))
    return ExitCode.OK


def _conflict_out(
    args: argparse.Namespace,
    model: FeatureModel,
    rules: Mapping[str, Rule],
    selection: Selection,
    conflict: Conflict | None,
    what: str,
    analysis: FeatureAnalysis,
) -> int:
    derivation = analysis.derive(selection, conflict) if conflict is not None else None
    if args.format == "json":
        emit(
            report.to_json(
                {
                    "file": model.path,
                    "selection": _selection_json(selection),
                    "satisfiable": False,
                    "conflict": report.model_conflict_json(rules, conflict),
                    "derivation": [] if derivation is None else report.derivation_json(derivation),
                }
            )
        )
    else:
        emit(report.model_conflict_text(model.path, what, derivation, rules))
    return ExitCode.INVALID


def run_lint(args: argparse.Namespace) -> int:
    """model lint FILE."""
    model = api.import_model(args.file)
    analysis = api.analyse_model(model)
    compiled = analysis.compiled
    rules = compiled.rule_map()
    if args.reasons < 0:
        raise report.usage_error("reasons")
    found = analysis.lint(args.reasons)
    findings = found.findings(model)
    failing = sum(1 for diag, _ in findings if diag.kind != "core")
    if scanning_out(args, [diag for diag, _ in findings], [model.path]):
        pass
    elif args.format == "json":
        emit(report.model_lint_json(model, found, findings, rules))
    else:
        emit(report.model_lint_text(model, found, findings, rules))
    return ExitCode.INVALID if failing else ExitCode.OK


def run_explain(args: argparse.Namespace) -> int:
    """model explain FILE --select ... --deselect ...."""
    model, analysis, selection = _open(args)
    rules = analysis.compiled.rule_map()
    conflict = analysis.explain(selection)
    if conflict is None:
        if args.format == "json":
            emit(
                report.to_json(
                    {
                        "file": model.path,
                        "selection": _selection_json(selection),
                        "satisfiable": True,
                        "conflict": None,
                    }
                )
            )
        else:
            emit(report.model_consistent_text(model.path))
        return ExitCode.OK
    return _conflict_out(args, model, rules, selection, conflict, "explain", analysis)


def run_validate(args: argparse.Namespace) -> int:
    """model validate FILE --select ...."""
    model, analysis, selection = _open(args)
    rules = analysis.compiled.rule_map()
    completion = analysis.complete_any(selection)
    if completion is not None:
        if args.format == "json":
            chosen = sorted(n for n, v in completion.items() if v)
            emit(
                report.to_json(
                    {
                        "file": model.path,
                        "selection": _selection_json(selection),
                        "valid": True,
                        "example": chosen,
                        "conflict": None,
                    }
                )
            )
        else:
            emit(report.model_valid_text(model.path, sum(completion.values())))
        return ExitCode.OK
    conflict = analysis.explain(selection)
    derivation = analysis.derive(selection, conflict) if conflict is not None else None
    if args.format == "json":
        emit(
            report.to_json(
                {
                    "file": model.path,
                    "selection": _selection_json(selection),
                    "valid": False,
                    "example": None,
                    "conflict": report.model_conflict_json(rules, conflict),
                    "derivation": [] if derivation is None else report.derivation_json(derivation),
                }
            )
        )
        return ExitCode.INVALID
    emit(report.model_invalid_text(model.path, derivation, rules))
    return ExitCode.INVALID
