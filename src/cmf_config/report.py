"""The only module that writes English: diagnostics, verdicts, explanations, tables -> text/JSON."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import attrs

from cmf_config import plainreport
from cmf_config.derivation import Conflict, Derivation, Fact
from cmf_config.errors import Diagnostic, Severity, Span, UsageError
from cmf_config.files import is_regular
from cmf_config.model import KINDS, BuiltVehicle, Catalog, PartLine, VehicleConfig, YearSpan
from cmf_config.paths import display_path
from cmf_config.problem import Problem, choice_span
from cmf_config.project import Sources
from cmf_config.rules import Rule
from cmf_config.solver import Change, SlotOptions
from cmf_config.suggest import did_you_mean
from cmf_config.workspace import Verdict, Violation

if TYPE_CHECKING:  # for types only: sharing needs numpy and scipy, the model analyses
    # PySAT's optimiser; the commands that use them import them
    from cmf_config.featuremodel import Forced, LintReport
    from cmf_config.fmodel import FeatureModel
    from cmf_config.sharing import FamilyIndices, PairShare, SimilarityMatrix
    from cmf_config.uvlexport import Export

LineSource = Callable[[str, int], str | None]


def read_line(path: str, line: int) -> str | None:
    """Line `line` (1-based) of a text file, or None (always None for a device or FIFO)."""
    if not is_regular(path):
        return None
    try:
        with Path(path).open(encoding="utf-8", errors="replace") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == line:
                    text = raw.rstrip("\n").rstrip("\r")
                    # A UTF-16/UTF-32 line is every other character NUL: no excerpt of it.
                    return None if text.count("\x00") * 4 >= len(text) > 0 else text
    except OSError:
        return None
    return None


def sources_line(sources: Sources, rules: bool = True) -> str:
    """The first line of a text report: the catalog and rules checked (`plainreport`)."""
    return plainreport.sources_line(sources, rules)


def to_json(document: object) -> str:
    """Stable, readable JSON with non-finite numbers as null (`plainreport.to_json`)."""
    return plainreport.to_json(document)


def render_diagnostic(diag: Diagnostic, lines: LineSource = read_line) -> str:
    """`file:line:col: error CODE: message`, the source line with a caret, then the hint."""
    out = [f"{diag.span}: {diag.severity.value} {diag.code}: {diag.message}"]
    text = lines(diag.span.path, diag.span.line) if diag.span.line > 0 else None
    if text is not None:
        shown = text.expandtabs(1)
        out.append(f"    {shown}")
        width = 1
        if diag.span.end_col and diag.span.end_col > diag.span.col:
            width = diag.span.end_col - diag.span.col
        else:
            rest = shown[diag.span.col - 1 :]
            token = rest.split()[0] if rest.split() else ""
            width = max(1, min(len(token.rstrip(",]}")), 60))
        out.append("    " + " " * (diag.span.col - 1) + "^" + "~" * (width - 1))
    for related in diag.related:
        out.append(f"  see: {related}")
    if diag.hint:
        out.append(f"  hint: {diag.hint}")
    return "\n".join(out)


def diagnostic_json(diag: Diagnostic) -> dict[str, object]:
    """A diagnostic as the JSON object documented in docs/cli.md."""
    return {
        "severity": diag.severity.value,
        "code": diag.code,
        "message": diag.message,
        "file": diag.span.path,
        "line": diag.span.line,
        "column": diag.span.col,
        "rule": diag.rule,
        "hint": diag.hint,
        "related": [{"file": s.path, "line": s.line, "column": s.col} for s in diag.related],
    }


def render_diagnostics(diags: Sequence[Diagnostic]) -> str:
    """Every diagnostic, then a count."""
    if not diags:
        return ""
    errors = sum(1 for d in diags if d.severity is Severity.ERROR)
    warnings = sum(1 for d in diags if d.severity is Severity.WARNING)
    body = "\n".join(render_diagnostic(d) for d in diags)
    return f"{body}\n{_plural(errors, 'error')}, {_plural(warnings, 'warning')}\n"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# ------------------------------------------------------------------ validation


def verdict_diagnostics(
    verdict: Verdict, problem: Problem, rules: Mapping[str, Rule]
) -> list[Diagnostic]:
    """Turn a verdict into positioned diagnostics (E301 broken rules, E302 no completion)."""
    out = [_violation_diagnostic(v, problem) for v in verdict.violations]
    if verdict.conflict is not None:
        conflict = verdict.conflict
        spans = [choice_span(verdict.config, slot) for slot in conflict.choices]
        first = spans[0] if spans else verdict.config.span
        out.append(
            Diagnostic(
                code="E302",
                span=first,
                message="no valid vehicle completes this partial configuration: "
                + conflict_summary(conflict, rules),
                hint="run `cmf-config explain` for the full reasoning or `cmf-config fix` for the nearest valid choices",
                related=tuple(spans[1:])
                + tuple(rules[r].span for r in conflict.rules if rules[r].span.line),
                rule=conflict.rules[0] if conflict.rules else None,
            )
        )
    return out


def _violation_diagnostic(violation: Violation, problem: Problem) -> Diagnostic:
    rule = violation.rule
    primary = violation.spans[-1] if violation.spans else rule.span
    hints = []
    for slot, values in violation.suggestions.items():
        if values:
            label = problem.slot(slot).label or slot
            hints.append(f"{label}: {', '.join(values)}")
    hint = (
        "changing one choice makes the configuration valid: " + "; or ".join(hints)
        if hints
        else "no single change fixes it: run `cmf-config fix` for the nearest valid configuration"
    )
    if rule.severity is Severity.WARNING:
        hint = "a warning: the configuration stays valid; change one of the lines cited to satisfy the rule"
    return Diagnostic(
        code="E301" if rule.severity is Severity.ERROR else "W301",
        severity=rule.severity,
        span=primary,
        message=f"rule '{rule.id}' is broken: {rule.message or rule.description} (rule at {rule.span})",
        hint=hint,
        rule=rule.id,
        related=(*violation.spans[:-1], rule.span),
    )


def conflict_summary(conflict: Conflict, rules: Mapping[str, Rule]) -> str:
    """One line: the rules of a conflict."""
    names = [f"'{r}'" for r in conflict.rules]
    slots = ", ".join(conflict.choices) or "no choice at all"
    return f"the choices of {slots} contradict rule{'s' if len(names) != 1 else ''} {', '.join(names) or '(none)'}"


def validate_json(results: Sequence[tuple[str, bool, Sequence[Diagnostic]]]) -> str:
    """The validate document: {"files": [{"file", "valid", "diagnostics": [...]}]}."""
    return plainreport.validate_json(
        [(path, valid, [diagnostic_json(d) for d in diags]) for path, valid, diags in results]
    )


def unusable_json(diagnostics: Sequence[Diagnostic]) -> str:
    """The validate-style JSON document of unusable input: every file invalid, with its diagnostics."""
    by_file: dict[str, list[Diagnostic]] = {}
    for diag in diagnostics:
        by_file.setdefault(diag.span.path, []).append(diag)
    return validate_json([(path, False, ds) for path, ds in by_file.items()])


def validate_text(
    results: Sequence[tuple[str, bool, Sequence[Diagnostic]]], unchecked: Collection[str] = ()
) -> str:
    """Human output of validate (`unchecked`: the files that could not be used)."""
    return plainreport.validate_text(
        [(path, valid, [render_diagnostic(d) for d in diags]) for path, valid, diags in results],
        unchecked,
    )


# ------------------------------------------------------------------ explanations


derivation_text = plainreport.derivation_text
derivation_json = plainreport.derivation_json
_and = plainreport.and_words


def _span_where(span: Span) -> plainreport.Where:
    return (span.path, span.line, span.col)


def slot_texts(problem: Problem) -> dict[str, plainreport.SlotText]:
    """Each slot's label (or name) and whether it is a feature, as the plain reports word them."""
    return {s.name: plainreport.SlotText(s.label or s.name, s.is_bool) for s in problem.slots}


def rule_texts(rules: Mapping[str, Rule]) -> dict[str, plainreport.RuleText]:
    """Each rule's message, description and position, as the plain reports word them."""
    return {
        rule_id: plainreport.RuleText(rule.message, rule.description, _span_where(rule.span))
        for rule_id, rule in rules.items()
    }


def _chosen_at(
    problem: Problem, config: VehicleConfig, slots: Iterable[str]
) -> dict[str, plainreport.Where]:
    return {slot: _span_where(choice_span(config, slot)) for slot in slots if problem.has(slot)}


def explanation(
    derivation: Derivation,
    problem: Problem,
    rules: Mapping[str, Rule],
    config: VehicleConfig,
) -> str:
    """Why a configuration has no valid completion, step by step (plainreport.explanation)."""
    cited = {fact.slot for fact in derivation.choices()}
    return plainreport.explanation(
        derivation,
        slot_texts(problem),
        rule_texts(rules),
        _chosen_at(problem, config, cited),
    )


consistent_text = plainreport.consistent_text


def explain_json(
    conflict: Conflict | None,
    derivation: Derivation | None,
    problem: Problem,
    rules: Mapping[str, Rule],
    config: VehicleConfig,
    assignment: Mapping[str, int],
) -> str:
    """{"consistent", "conflict": [...], "derivation": [...], "text"} (plainreport.explain_json)."""
    if conflict is None:
        return plainreport.explain_json(None, None, {}, {}, {})
    where = _chosen_at(problem, config, assignment)
    chosen = {
        slot: (problem.slot(slot).values[index].id, where[slot])
        for slot, index in assignment.items()
    }
    return plainreport.explain_json(
        conflict, derivation, slot_texts(problem), rule_texts(rules), chosen
    )


# ------------------------------------------------------------------ fix, options, complete


def changes_text(changes: Sequence[Change], problem: Problem) -> str:
    """A diff of choices."""
    if not changes:
        return "the configuration is already valid: no change needed\n"
    lines = [f"{len(changes)} change{'s' if len(changes) != 1 else ''} to a valid configuration:"]
    for change in changes:
        label = problem.slot(change.slot).label or change.slot
        lines.append(f"  - {label}: {change.before}")
        lines.append(f"  + {label}: {change.after}")
    return "\n".join(lines) + "\n"


def changes_json(changes: Sequence[Change], written: str | None) -> str:
    """{"changes": [{"slot", "from", "to"}], "count", "written"}."""
    return to_json(
        {
            "changes": [{"slot": c.slot, "from": c.before, "to": c.after} for c in changes],
            "count": len(changes),
            "written": written,
        }
    )


def options_text(options: Mapping[str, SlotOptions], problem: Problem) -> str:
    """Per open slot: possible values, and excluded ones with the rules that exclude them."""
    return plainreport.options_text(options, {s.name: s.label or s.name for s in problem.slots})


options_json = plainreport.options_json


# ------------------------------------------------------------------ provenance


def provenance_text(provenance: str) -> str:
    """One line saying where the figures above come from."""
    return plainreport.provenance_text(provenance)


# ------------------------------------------------------------------ build


def _rows(built: BuiltVehicle) -> list[plainreport.BomRow]:
    return [(b.part, b.name, b.module, b.quantity, b.unit_cost, b.unit_mass_kg) for b in built.bom]


def build_json(built: BuiltVehicle, provenance: str = "illustrative") -> str:
    """The documented build document."""
    return plainreport.build_json(
        name=built.name,
        brand=built.brand,
        platform=built.platform,
        modules=built.modules,
        filled=built.filled,
        bom=_rows(built),
        provenance=provenance,
    )


def build_text(built: BuiltVehicle, catalog: Catalog) -> str:
    """A readable vehicle sheet with its bill of materials."""
    return plainreport.build_text(
        name=built.name,
        brand=(built.brand, catalog.brands[built.brand].name),
        platform=(built.platform, catalog.platforms[built.platform].name),
        modules={
            kind: (built.modules[kind], catalog.modules[built.modules[kind]].name) for kind in KINDS
        },
        filled=built.filled,
        bom=_rows(built),
        provenance=catalog.provenance,
    )


def _pct(value: float | None) -> str:
    return "undefined (0/0)" if value is None else f"{100 * value:.1f}%"


def pair_text(pair: PairShare, provenance: str = "illustrative") -> str:
    """Pairwise sharing of two products, each measure with its basis."""
    a, b = pair.a_name, pair.b_name
    lines = [
        f"{a} vs {b}: {_pct(pair.ratio)} of part numbers shared (ratio = Dice, 2s/(|A|+|B|))",
        f"  shared part numbers: {pair.shared} ({a}: {pair.a_parts}, {b}: {pair.b_parts})",
        f"  jaccard {_pct(pair.jaccard)}  dice {_pct(pair.dice)}  overlap {_pct(pair.overlap)}",
        f"  share of {a}'s part numbers in {b}: {_pct(pair.share_of_a_in_b)}; of {b}'s in {a}: {_pct(pair.share_of_b_in_a)}",
        f"  by pieces: ruzicka {_pct(pair.pieces_ruzicka)}, of {a}'s {_pct(pair.pieces_share_of_a)}, of {b}'s {_pct(pair.pieces_share_of_b)}",
        f"  by cost:   ruzicka {_pct(pair.cost_ruzicka)}, of {a}'s {_pct(pair.cost_share_of_a)}, of {b}'s {_pct(pair.cost_share_of_b)}",
        f"  by mass:   ruzicka {_pct(pair.mass_ruzicka)}, of {a}'s {_pct(pair.mass_share_of_a)}, of {b}'s {_pct(pair.mass_share_of_b)}",
        "  by module (shared / part numbers, ratio):",
    ]
    for module, share in pair.by_module.items():
        lines.append(
            f"    {module:<19} {share.shared:>3} / {share.a_parts:>3} + {share.b_parts:<3} {_pct(share.ratio)}"
        )
    for who, parts in ((a, pair.only_in_a), (b, pair.only_in_b)):
        shown = ", ".join(parts[:12]) + (
            f", ... ({len(parts) - 12} more)" if len(parts) > 12 else ""
        )
        lines.append(f"  only in {who} ({len(parts)}): {shown or '-'}")
    return "\n".join(lines) + "\n" + provenance_text(provenance)


def _cell(value: float | None) -> str:
    """A matrix cell as a right-aligned percentage, '-' when undefined."""
    return "   -" if value is None else f"{100 * value:>4.0f}"


def _num(value: float | None, digits: int = 3) -> str:
    return "undefined" if value is None else f"{value:.{digits}f}"


def indices_text(indices: FamilyIndices, indent: str = "  ") -> list[str]:
    """The family commonality indices, one per line."""
    return [
        f"{indent}products {indices.product_count}, distinct part numbers {indices.distinct_part_count}, part uses {indices.part_use_count}",
        f"{indent}DCI  (Collier 1981)             {_num(indices.dci)}   (1 = no sharing)",
        f"{indent}TCCI (Wacker & Treleven 1986)   {_num(indices.tcci)}   (0..1)",
        f"{indent}CI   (Martin & Ishii)           {_num(indices.ci)}   (0..1)",
        f"{indent}%C   (Siddique et al. 1998)     {_num(indices.percent_c, 1)}   (common = in {'all products' if indices.common == 'all' else 'at least two products'}; the other rule gives {_num(indices.percent_c_other, 1)})",
        f"{indent}PCI  (Kota et al. 2000)         {_num(indices.pci, 1)}   ({'needs component/size/material/assembly data' if indices.pci is None else f'{indices.pci_components} components'})",
    ]


def fleet_text(
    matrix: SimilarityMatrix,
    indices: FamilyIndices,
    groups: Mapping[str, FamilyIndices],
    order: Sequence[int],
    provenance: str = "illustrative",
) -> str:
    """Family indices, per-group indices, and the matrix (clustered) when it fits a screen."""
    lines = ["family commonality indices:", *indices_text(indices)]
    for key, value in groups.items():
        lines.append(f"{key}:")
        lines += indices_text(value, "    ")
    names = [matrix.names[i] for i in order]
    if len(names) <= 24:
        width = max(len(n) for n in names)
        lines.append(f"matrix ({matrix.measure}, %, clustered):")
        lines.append(" " * (width + 2) + " ".join(f"{i + 1:>4}" for i in range(len(names))))
        for row_number, i in enumerate(order, start=1):
            cells = " ".join(_cell(matrix.values[i][j]) for j in order)
            lines.append(f"{row_number:>2} {matrix.names[i]:<{width}} {cells}")
    else:
        lines.append(
            f"matrix: {len(names)} x {len(names)} ({matrix.measure}); write it with --csv or draw it with --heatmap"
        )
    return "\n".join(lines) + "\n" + provenance_text(provenance)


# ------------------------------------------------------------------ catalog lint


def lint_json(findings: Sequence[Diagnostic], ignored: Iterable[str] = ()) -> str:
    """The JSON document of `cmf-config lint` (`ignored`: the codes the project ignores)."""
    return to_json(
        {
            "clean": not findings,
            "findings": [
                {
                    "code": f.code,
                    "kind": f.kind,
                    "subject": f.subject,
                    "message": f.message,
                    "file": f.span.path,
                    "line": f.span.line,
                    "column": f.span.col,
                    "rules": list(f.rules),
                }
                for f in findings
            ],
            "ignored": sorted(ignored),
        }
    )


def lint_text(
    findings: Sequence[Diagnostic],
    *,
    rules: int,
    modules: int,
    vehicles: int,
    ignored: Iterable[str] = (),
) -> str:
    """One line per lint finding, then what was checked (and which codes were ignored)."""
    out: list[str] = []
    for f in findings:
        where = f"{f.span}: " if f.span.line else ""
        because = f" (because of {', '.join(f.rules)})" if f.rules else ""
        out.append(f"{where}{f.code} {f.kind}: {f.message}{because}\n")
    skipped = f"; ignored codes: {', '.join(sorted(ignored))}" if ignored else ""
    out.append(
        f"lint: {_plural(len(findings), 'finding')} ({rules} rules, {modules} module variants, "
        f"{_plural(vehicles, 'reference vehicle')} checked{skipped})\n"
    )
    return "".join(out)


# ------------------------------------------------------------------ variant-BOM checks

_CHECKS = ("uniqueness", "completeness", "superfluous")


def bomcheck_json(findings: Sequence[Diagnostic], positions: int, alternatives: int) -> str:
    """The JSON document of `cmf-config bom-check`."""
    counts = Counter(f.kind for f in findings)
    return to_json(
        {
            "clean": not findings,
            "positions": positions,
            "alternatives": alternatives,
            "counts": {name: counts[name] for name in _CHECKS},
            "findings": [
                {
                    "check": f.kind,
                    "position": f.subject,
                    "parts": list(f.parts),
                    "message": f.message,
                    "hint": f.hint,
                    "file": f.span.path,
                    "line": f.span.line,
                    "column": f.span.col,
                    "witness": dict(f.witness) if f.witness is not None else None,
                }
                for f in findings
            ],
        }
    )


def bomcheck_text(findings: Sequence[Diagnostic], positions: int, alternatives: int) -> str:
    """Each finding with its witness and hint, then the counts per check."""
    out: list[str] = []
    for f in findings:
        out.append(f"{f.span}: {f.kind}: {f.message}\n")
        if f.witness is not None:
            out.append("  witness: " + " ".join(f"{k}={v}" for k, v in f.witness) + "\n")
        out.append(f"  hint: {f.hint}\n")
    counts = Counter(f.kind for f in findings)
    by_check = ", ".join(f"{counts[name]} {name}" for name in _CHECKS)
    out.append(
        f"bom-check: {_plural(len(findings), 'finding')} ({by_check}) "
        f"in {positions} positions with {alternatives} alternative parts\n"
    )
    return "".join(out)


# ------------------------------------------------------------------ feature models


def model_explanation(
    derivation: Derivation, rules: Mapping[str, Rule], indent: str = "  ", given: bool = False
) -> str:
    """Why a selection of features has no valid configuration, or why it forces a feature,
    step by step (`derivation_text`). `given`: the choices are what a finding assumes ("X is
    selected"), not the user's ("you selected X")."""

    def choices(facts: Sequence[Fact]) -> str:
        on = [f.slot for f in facts if f.holds]
        off = [f.slot for f in facts if not f.holds]
        if given:
            said = [f"{_and(on)} {'is' if len(on) == 1 else 'are'} selected"] if on else []
            said += [f"{_and(off)} {'is' if len(off) == 1 else 'are'} deselected"] if off else []
            return " and ".join(said)
        said = [f"selected {_and(on)}"] if on else []
        said += [f"deselected {_and(off)}"] if off else []
        return "you " + " and ".join(said)

    def rule_words(rule_id: str) -> str:
        rule = rules[rule_id]
        return f"{rule.description} ({rule.span})" if rule.span.line else rule.description

    def fact(f: Fact) -> str:
        return f"{f.slot} {'must' if f.holds else 'cannot'} be selected"

    has_choices = any(True for _ in derivation.choices())
    text = derivation_text(
        derivation,
        choices=choices,
        rule=rule_words,
        fact=fact,
        conclusion="no valid configuration extends this selection"
        if has_choices
        else "the model has no valid configuration",
    )
    return "".join(f"{indent}{line}\n" for line in text.splitlines())


def model_rule_json(rules: Mapping[str, Rule], rule_id: str) -> dict[str, object]:
    """A feature-model rule in JSON: id, text and position."""
    rule = rules[rule_id]
    return {
        "rule": rule_id,
        "text": rule.constraint_text,
        "file": rule.span.path,
        "line": rule.span.line,
        "column": rule.span.col,
    }


def model_conflict_json(
    rules: Mapping[str, Rule], conflict: Conflict | None
) -> dict[str, object] | None:
    """A minimal conflict in JSON: its choices and its rules."""
    if conflict is None:
        return None
    return {
        "choices": list(conflict.choices),
        "rules": [model_rule_json(rules, r) for r in conflict.rules],
    }


def model_forced_text(
    path: str,
    selection: Mapping[str, bool],
    forced: Sequence[Forced],
    free: Sequence[str],
    rules: Mapping[str, Rule],
) -> str:
    """`model options`: the features the selection decides (each with the derivation that
    forces it, where computed) and the free ones."""
    on = [f for f in forced if f.value]
    off = [f for f in forced if not f.value]
    out = [
        f"{path}: {len(selection)} chosen, {len(on)} forced on, {len(off)} forced off, {len(free)} free\n"
    ]
    for title, items, what in (
        ("forced on", on, "always selected"),
        ("forced off", off, "never selected"),
    ):
        if not items:
            continue
        out.append(f"{title}:\n")
        for item in items:
            out.append(f"  {item.feature}: {what}\n")
            if item.derivation is not None:
                out.append(model_explanation(item.derivation, rules, indent="    "))
    if free:
        more = f" and {len(free) - 50} more" if len(free) > 50 else ""
        out.append(f"free: {', '.join(free[:50])}{more}\n")
    return "".join(out)


def model_import_text(summary: Mapping[str, object]) -> str:
    """`import`: what was read, its CNF and its count (the summary `import --format json` prints)."""
    namespace = f" {summary['namespace']}" if summary["namespace"] else ""
    lines = [
        f"{summary['file']}: {str(summary['format']).upper()} model{namespace}",
        f"  features: {summary['features']} ({summary['abstract_features']} abstract), groups: {summary['groups']}, constraints: {summary['constraints']}",
        f"  CNF: {summary['variables']} variables, {summary['clauses']} clauses; satisfiable: {'yes' if summary['satisfiable'] else 'no'}",
    ]
    timeout = summary["count_timeout"]
    if summary["count"] is not None:
        lines.append(f"  configurations: {summary['count']} (counter: {summary['counter']})")
    elif isinstance(timeout, int | float):
        lines.append(
            f"  configurations: not counted within {timeout:g} s ({summary['counter']}); try `cmf-config model count FILE --timeout 0`"
        )
    if summary["written"] is not None:
        lines.append(f"  written: {summary['written']}")
    return "\n".join(lines) + "\n"


def export_text(output: str, result: Export) -> str:
    """`export uvl -o FILE`: what was written."""
    return (
        f"wrote {output}: {result.features} features, {len(result.written)} rules as "
        f"constraints, {len(result.skipped)} skipped\n"
    )


def export_note(rule_id: str, why: str) -> str:
    """A rule that UVL cannot express."""
    return f"cmf-config: note: rule '{rule_id}' not exported: {why}\n"


def model_conflict_text(
    path: str, what: str, derivation: Derivation | None, rules: Mapping[str, Rule]
) -> str:
    """A selection no configuration extends, and why (`model explain`, `model options`)."""
    head = f"{path}: no valid configuration extends this selection ({what}):\n"
    return head + (model_explanation(derivation, rules) if derivation is not None else "")


def model_invalid_text(path: str, derivation: Derivation | None, rules: Mapping[str, Rule]) -> str:
    """`model validate` on a selection no configuration extends, and why."""
    head = f"{path}: invalid: no valid configuration extends this selection:\n"
    return head + (model_explanation(derivation, rules) if derivation is not None else "")


def model_consistent_text(path: str) -> str:
    """`model explain` on a selection some configuration extends."""
    return f"{path}: a valid configuration extends this selection; nothing to explain\n"


def model_valid_text(path: str, selected: int) -> str:
    """`model validate` on a selection some configuration extends."""
    return f"{path}: valid: a configuration extends this selection ({selected} features selected in one)\n"


def forced_json(rules: Mapping[str, Rule], forced: Forced) -> dict[str, object]:
    """A forced feature in JSON: its value, the minimal reason and its derivation steps."""
    return {
        "feature": forced.feature,
        "value": forced.value,
        "because": model_conflict_json(rules, forced.because),
        "derivation": None if forced.derivation is None else derivation_json(forced.derivation),
    }


def _lint_derivations(found: LintReport) -> dict[tuple[str, str], Derivation | None]:
    """The derivation behind each `model lint` finding, by (kind, feature)."""
    out: dict[tuple[str, str], Derivation | None] = {("void", ""): found.void_derivation}
    for kind, items in (
        ("dead", found.dead),
        ("false-optional", found.false_optional),
        ("core", found.core),
    ):
        out.update({(kind, item.feature): item.derivation for item in items})
    return out


def _lint_finding_json(
    diag: Diagnostic,
    because: Conflict | None,
    rules: Mapping[str, Rule],
    derivation: Derivation | None,
) -> dict[str, object]:
    return {
        "code": diag.code,
        "kind": diag.kind,
        "feature": diag.subject or None,
        "message": diag.message,
        "file": diag.span.path,
        "line": diag.span.line,
        "column": diag.span.col,
        "because": model_conflict_json(rules, because),
        "derivation": None if derivation is None else derivation_json(derivation),
    }


def model_lint_json(
    model: FeatureModel,
    found: LintReport,
    findings: Sequence[tuple[Diagnostic, Conflict | None]],
    rules: Mapping[str, Rule],
) -> str:
    """The JSON document of `model lint`."""
    failing = sum(1 for diag, _ in findings if diag.kind != "core")
    derivations = _lint_derivations(found)
    return to_json(
        {
            "file": model.path,
            "clean": failing == 0,
            "satisfiable": found.satisfiable,
            "dead": [f.feature for f in found.dead],
            "false_optional": [f.feature for f in found.false_optional],
            "core": [f.feature for f in found.core],
            "findings": [
                _lint_finding_json(d, because, rules, derivations.get((d.kind, d.subject or "")))
                for d, because in findings
            ],
        }
    )


def model_lint_text(
    model: FeatureModel,
    found: LintReport,
    findings: Sequence[tuple[Diagnostic, Conflict | None]],
    rules: Mapping[str, Rule],
) -> str:
    """Each `model lint` finding with the derivation behind it, then the counts."""
    out: list[str] = []
    derivations = _lint_derivations(found)
    for diag, _because in findings:
        where = f"{diag.span}: " if diag.span.line else f"{model.path}: "
        out.append(f"{where}{diag.severity.value} {diag.code}: {diag.message}\n")
        derivation = derivations.get((diag.kind, diag.subject or ""))
        if derivation is not None:
            out.append(model_explanation(derivation, rules, indent="    ", given=True))
    void = "; the model is void" if not found.satisfiable else ""
    out.append(
        f"lint: {len(found.dead)} dead, {len(found.false_optional)} false-optional, "
        f"{_plural(len(found.core), 'core feature')}{void} "
        f"({len(model.features)} features, {model.constraint_count()} constraints)\n"
    )
    return "".join(out)


# ------------------------------------------------------------------ catalog


def _years_text(span: YearSpan | None) -> str:
    if span is None:
        return "years unknown"
    return f"{span.start}-{span.end if span.end is not None else ''}"


def catalog_list_text(catalog: Catalog, year: int | None = None) -> str:
    """`catalog list [--year Y]`: module variants by kind, platforms (with launch years),
    brands and reference vehicles (with production years); `year` heads the list."""
    lines = [] if year is None else [f"as of {year}:"]
    lines.append("module variants:")
    for kind in KINDS:
        lines.append(f"  {kind}:")
        lines += [f"    {m.id:<28} {m.name}" for m in catalog.modules_of(kind)]
    lines.append("platforms:")
    lines += [
        f"  {p.id:<14} {p.name:<26} {p.launch_year or '-':<5} {', '.join(p.segments)}"
        for p in sorted(catalog.platforms.values(), key=lambda p: p.id)
    ]
    lines.append("brands:")
    lines += [f"  {b.id:<14} {b.name}" for b in sorted(catalog.brands.values(), key=lambda b: b.id)]
    lines.append("vehicles:")
    lines += [
        f"  {v.id:<22} {v.config.name:<40} {_years_text(v.production):<10} {v.config.brand} / {v.config.platform}"
        for v in sorted(catalog.vehicles.values(), key=lambda v: v.id)
    ]
    return "\n".join(lines) + "\n"


def catalog_entry_text(doc: Mapping[str, object]) -> str:
    """`catalog show ID`: the entry's JSON document as text, parts as a table."""
    lines = []
    for key, value in doc.items():
        if key == "parts" and isinstance(value, list):
            lines.append("parts:")
            for p in value:
                lines.append(
                    f"  {p['part']:<16} {p['name']:<36} x{p['quantity']:<3} {p['unit_cost']:>9.2f} EUR {p['unit_mass_kg']:>8.3f} kg"
                )
        elif value is None:
            lines.append(f"{key}: -")
        elif isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k}: {'-' if v is None else v}" for k, v in value.items()]
        elif isinstance(value, list):
            lines.append(f"{key}: {', '.join(str(v) for v in value)}")
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n"


def count_text(total: int) -> str:
    """`count`: the number alone."""
    return f"{total}\n"


def rows_text(rows: Sequence[Mapping[str, str]], limit: int = 1) -> str:
    """`enumerate`: one configuration per line, slot=value pairs; a sentence when none."""
    if not rows:
        if limit == 0:
            return "no configuration listed (--limit 0)\n"
        return "no valid configuration: the given choices leave none (run `cmf-config explain` on the file to see why)\n"
    return "".join(" ".join(f"{k}={v}" for k, v in row.items()) + "\n" for row in rows)


def filled_text(filled: int, target: str) -> str:
    """`complete -o FILE`: how many slots were filled, and where it went."""
    return f"filled {filled} open slots; wrote {target}\n"


def wrote_text(target: str) -> str:
    """A file written besides the report."""
    return f"wrote {target}\n"


def left_out_note(vehicle: str) -> str:
    """A vehicle a fleet diagram leaves out."""
    return f"cmf-config: note: vehicle '{vehicle}' is left out: it cannot be built\n"


def pair_json(pair: PairShare, short: bool = False) -> dict[str, object]:
    """A pair's sharing measures as JSON (`short`: without the part lists and modules)."""
    data = attrs.asdict(pair, filter=lambda a, _: a.name not in ("by_module",))
    data["a"] = data.pop("a_name")
    data["b"] = data.pop("b_name")
    if short:
        data.pop("only_in_a")
        data.pop("only_in_b")
    else:
        data["only_in_a"] = list(pair.only_in_a)
        data["only_in_b"] = list(pair.only_in_b)
        data["by_module"] = {k: attrs.asdict(v) for k, v in pair.by_module.items()}
    data["definition"] = (
        "ratio = Dice over distinct part numbers: 2|A and B| / (|A| + |B|) (docs/sharing.md)"
    )
    return data


def orders_progress(done: int, total: int | None, rate: float) -> str:
    """The order run's progress line (a bar when the files say how many rows they hold)."""
    if total:
        share = min(done / total, 1.0)
        bar = "#" * int(share * 30)
        return f"[{bar:<30}] {share:6.1%} {done:,}/{total:,} orders, {rate:,.0f}/s"
    return f"{done:,} orders, {rate:,.0f}/s"


def orders_text(summary: Mapping[str, Any], seconds: float | None = None) -> str:
    """The summary of an order-bank check: counts, the rules broken most often, examples."""
    files = cast(Sequence[str], summary["files"])
    orders = cast(int, summary["orders"])
    lines = [
        f"checked {orders:,} orders from {', '.join(files)}",
        f"  against {summary['catalog']} and {summary['rules']} "
        f"({summary['rules_checked']} rules; fingerprint {str(summary['fingerprint'])[:12]})",
    ]
    for key in ("valid", "invalid", "malformed"):
        count = cast(int, summary[key])
        share = f" ({count / orders:.1%})" if orders else ""
        lines.append(f"  {key:<10}{count:>12,}{share}")
    lines.append(f"  distinct valid configurations: {summary['configurations']:,}")
    if seconds is not None and seconds > 0:
        lines.append(f"  {orders / seconds:,.0f} orders/s ({seconds:.1f} s)")
    broken = cast(Sequence[Mapping[str, Any]], summary["rules_broken"])
    if broken:
        lines.append("rules broken most often:")
        lines += [f"  {b['orders']:>10,}  {b['rule']}: {b['message']}" for b in broken[:10]]
    warned = cast(Sequence[Mapping[str, Any]], summary["warnings"])
    if warned:
        lines.append("warning rules broken (orders stay valid):")
        lines += [f"  {w['orders']:>10,}  {w['rule']}: {w['message']}" for w in warned[:10]]
    examples = cast(Sequence[Mapping[str, Any]], summary["examples"])
    for status in ("malformed", "invalid"):
        shown = [e for e in examples if e["status"] == status]
        if not shown:
            continue
        lines.append(f"first {status} orders:")
        for e in shown:
            where = f"{e['file']}:{e['line']}" if e["line"] is not None else e["file"]
            lines.append(f"  {where}: row {e['row']:,} (order {e['order_id']}): {e['detail']}")
    outputs = cast(Mapping[str, str], summary["outputs"])
    if outputs:
        lines.append("wrote " + ", ".join(outputs.values()))
    elif cast(int, summary["invalid"]) or cast(int, summary["malformed"]):
        lines.append("every order's verdict: rerun with -o DIR (verdicts.parquet)")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ what a run checked


def uvl_source(sources: Sources) -> str:
    """How `export uvl` names the catalog in the header comment of the UVL it writes."""
    if sources.catalog.origin == "bundled":
        return "the bundled catalog"
    return display_path(sources.catalog.path)


# ------------------------------------------------------------------ catalog documents


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


def catalog_list_doc(catalog: Catalog, year: int | None) -> dict[str, object]:
    """`catalog list` as a JSON document: every module (by kind), platform, brand, vehicle."""
    return {
        "year": year,
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


def catalog_entry_doc(catalog: Catalog, ident: str) -> dict[str, object]:
    """`catalog show ID` as a JSON document; UsageError (with a did-you-mean) for an unknown id."""
    if ident in catalog.modules:
        return _module_doc(catalog, ident)
    if ident in catalog.platforms:
        return _platform_doc(catalog, ident)
    if ident in catalog.brands:
        return _brand_doc(catalog, ident)
    if ident in catalog.vehicles:
        return _vehicle_doc(catalog, ident)
    pool = [*catalog.modules, *catalog.platforms, *catalog.brands, *catalog.vehicles]
    raise UsageError(
        f"no module, platform, brand or vehicle has the id '{ident}'{did_you_mean(ident, pool)}",
        "see `cmf-config catalog list`",
    )


# ------------------------------------------------------------------ the commands' usage errors


USAGE_ERRORS: dict[str, tuple[str, str]] = {
    "orders-workers": ("--workers must be 0 (one per core) or more", "write --workers 2"),
    "chunk-rows": ("--chunk-rows must be at least 1", "write --chunk-rows 65536"),
    "orders-output-file": (
        "-o {directory}: is a file; -o takes a directory",
        "give a directory, or name each output with --verdicts/--demand/--boms/--summary",
    ),
    "orders-output-parent": (
        "-o {directory}: the directory '{parent}' does not exist",
        "create it first",
    ),
    "orders-none": (
        "no orders in {files}: nothing was checked",
        "give a bank with at least one order row",
    ),
    "limit": ("--limit must be zero or more", "write --limit 10"),
    "reasons": ("--reasons must be zero or more", "write --reasons 100"),
    "port": ("--port {port} is not a port number", "give 0..65535"),
    "workers": ("--workers must be 1 or more", "write --workers 2"),
    "max-upload": ("--max-upload must be 1 or more", "write --max-upload 1000000"),
    "cannot-listen": (
        "cannot listen on {host}:{port}: {why}",
        "choose another --port (0 picks a free one) or --host",
    ),
    "xlsx-to-stdout": ("an .xlsx workbook is not text: give the file to write", "add -o BOM.xlsx"),
    "no-vehicle-at-all": (
        "no valid configuration exists at all with this catalog and these rules",
        "run `cmf-config lint` to find the contradiction",
    ),
    "share-partial": (
        "cannot maximize sharing with '{ref}': it is a partial configuration (open: {shown})",
        "complete it first (cmf-config complete {ref} -o complete.yaml) and share with that file",
    ),
    "share-invalid": (
        "cannot maximize sharing with '{ref}': it breaks the rules, so it has no valid parts list",
        "see why with `cmf-config validate {ref}`, or share with a valid vehicle",
    ),
    "diagram-format": (
        "cannot tell the diagram format of '{path}' from its extension '{suffix}'",
        "end the file name with .dot (or .gv), .svg, .png or .pdf",
    ),
    "no-dot": (
        "cannot render '{path}': the Graphviz program 'dot' is not installed or not on PATH",
        "install Graphviz (Debian/Ubuntu: apt install graphviz; elsewhere see "
        "https://graphviz.org/download/), or write a .dot file instead",
    ),
    "reference-unbuildable": (
        "the reference vehicle '{name}' cannot be built, so it has no parts to compare with",
        "run `cmf-config validate` on it, or compare with a catalog vehicle id",
    ),
    "threshold": (
        "the threshold must lie between 0 and 1, not {threshold:g}",
        "write a ratio such as --threshold 0.5",
    ),
    "init-not-a-folder": ("'{target}' exists and is not a folder", "give a folder to start in"),
    "init-unwritable": ("cannot write into '{target}': {why}", "check the folder's permissions"),
    "both-selected": ("feature '{name}' is both selected and deselected", "give each feature once"),
    "not-a-directory": (
        "cannot write to '{path}': not a directory",
        "create the directory first, or give an existing one",
    ),
    "count-timeout": (
        "the count of {path} did not finish within {seconds:g} s ({counter})",
        "raise --timeout, or drop it to count without a limit",
    ),
    "given-twice": ("vehicle '{vehicle}' is given twice", "name each vehicle once"),
    "vehicles-and-table": (
        "give either vehicles or --bom-table, not both",
        "drop the vehicle arguments",
    ),
    "vehicles-before-fleet": (
        "give the fleet after --fleet only",
        "move the vehicles after --fleet",
    ),
    "share-two": (
        "share compares two vehicles, got {count}",
        "write `cmf-config share A B`, or use --fleet / --all / --bom-table for more",
    ),
    "table-one-product": (
        "the table '{path}' holds {count} product; a fleet needs at least two",
        "add the rows of another product to the table",
    ),
    "fleet-of-one": ("a fleet needs at least two products", "name more vehicles, or use --all"),
    "heatmap-missing": (
        "--heatmap needs {module}, which is not installed",
        "install the heatmap extra: pip install 'cmf-config[heatmap]' (docs/cli.md)",
    ),
}
"""The command line's usage errors by key: (message, hint), `str.format` templates."""


def usage_error(key: str, **fields: object) -> UsageError:
    """The command line's usage error `key` (USAGE_ERRORS), worded with `fields`."""
    message, hint = USAGE_ERRORS[key]
    return UsageError(message.format(**fields), hint.format(**fields))


def orders_cannot_write(filename: object, why: str) -> UsageError:
    """`orders` could not write an output (`filename` None: the OSError did not say which)."""
    return UsageError(
        f"cannot write {filename or 'the output'}: {why}",
        "check the path, its permissions and the free space",
    )


def unknown_feature(name: str, flag: str, names: Iterable[str], model_path: str) -> UsageError:
    """`model ... --select/--deselect` with a feature the model does not have."""
    known = set(names)
    return UsageError(
        f"unknown feature '{name}' in --{flag}{did_you_mean(name, known)}",
        f"the model {model_path} has {len(known)} features; names are case-sensitive",
    )


def init_would_overwrite(paths: Sequence[Path]) -> UsageError:
    """`init` refuses to overwrite: the first five files in the way, and how many more."""
    existing = [display_path(p) for p in paths]
    shown = ", ".join(existing[:5]) + (
        f" and {len(existing) - 5} more" if len(existing) > 5 else ""
    )
    return UsageError(
        f"init would overwrite {shown}",
        "init never overwrites files: run it in a new folder (`cmf-config init DIR`), "
        "or move these files away first",
    )


def year_argument_error(text: str, year: int | None) -> str:
    """`--year` that is not a year (`year` None) or lies outside 1900-2100."""
    if year is None:
        return f"'{text}' is not a year (write e.g. --year 2019)"
    return f"{year} is outside 1900-2100 (write e.g. --year 2019)"


# ------------------------------------------------------------------ the commands' other lines


def no_match_diagnostic(span: Span) -> Diagnostic:
    """E302 for a complete configuration that breaks no rule yet has no model (cannot happen)."""
    return Diagnostic(
        code="E302",
        span=span,
        message="no valid vehicle matches this configuration",
        hint="run `cmf-config explain`",
    )


options_contradiction_text = plainreport.options_contradiction_text


def bom_table_written_text(target: str, lines: int, fmt: str) -> str:
    """`build --format csv|xlsx -o FILE`: what was written."""
    return f"wrote {target}: {lines} BOM lines ({fmt})\n"


def fleet_files_text(products: int, csv: str | None, heatmap: str | None) -> str:
    """`share --csv/--heatmap`: the files written besides the fleet report."""
    text = ""
    if csv is not None:
        text += f"wrote the {products}x{products} similarity matrix (CSV) to {csv}\n"
    if heatmap is not None:
        text += f"wrote the heatmap to {heatmap}\n"
    return text


def heatmap_title(measure: str, products: int, provenance: str) -> str:
    """The title of a fleet heatmap."""
    return f"Parts sharing ({measure}), {products} products" + (
        ", illustrative data" if provenance == "illustrative" else ""
    )


def public_host_warning(host: str) -> str:
    """`serve --host` on an address other machines reach."""
    return f"cmf-config: warning: listening on {host}: other machines can reach this server (no login, no TLS)\n"


def serving_text(url: str) -> str:
    """`serve`: where the configurator is served."""
    return f"cmf-config serve: {url} (Ctrl-C stops)\n"


def init_text(
    target: Path, files: Sequence[Path], hooks: Path, hooks_kept: bool, hooks_text: str
) -> str:
    """What `init` wrote into `target` (the copied catalog and rules as one line), whether it
    left an existing .pre-commit-config.yaml alone (then the hooks to add), and what next."""
    copied = [p for p in files if p.relative_to(target).parts[0] in ("catalog", "rules")]
    lines = [f"started a cmf-config project in {display_path(target.resolve())}/:"]
    lines += [
        f"  {display_path(p)}" for p in files if p not in copied and p.parent.name != "schemas"
    ]
    lines.append(
        f"  {display_path(target / 'schemas')}/: JSON Schemas for editors (vehicle, catalog, rules files)"
    )
    lines.append(f"  catalog/ and rules/: {len(copied)} files copied from the bundled demo data")
    if hooks_kept:
        lines.append(f"left {display_path(hooks)} as it is; add these hooks to it:")
        lines += ["    " + line for line in hooks_text.splitlines()[4:]]
    else:
        lines.append(f"  {display_path(hooks)}")
    here = target.resolve() == Path.cwd().resolve()
    go = "" if here else f"cd {display_path(target.resolve())} and "
    lines.append(f"next: {go}run `cmf-config validate configs/example.yaml`")
    return "\n".join(lines) + "\n"
