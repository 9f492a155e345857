"""The only module that writes English: diagnostics, verdicts, explanations, tables -> text/JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from cmf_config.errors import Diagnostic, Severity, Span
from cmf_config.model import KINDS, BuiltVehicle, Catalog, VehicleConfig
from cmf_config.problem import Problem, choice_span
from cmf_config.rules import Rule
from cmf_config.sharing import FamilyIndices, PairShare, SimilarityMatrix
from cmf_config.solver import Change, Conflict, SlotOptions
from cmf_config.workspace import Verdict, Violation

LineSource = Callable[[str, int], str | None]


def read_line(path: str, line: int) -> str | None:
    """Line `line` (1-based) of a text file, or None."""
    try:
        with Path(path).open(encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, start=1):
                if number == line:
                    return text.rstrip("\n").rstrip("\r")
    except OSError:
        return None
    return None


def to_json(document: object) -> str:
    """Stable, readable JSON (sorted where the data is a mapping we built)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


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
                related=tuple(spans[1:]) + tuple(rules[r].span for r in conflict.rules),
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
    return to_json(
        {
            "files": [
                {"file": path, "valid": valid, "diagnostics": [diagnostic_json(d) for d in diags]}
                for path, valid, diags in results
            ]
        }
    )


def validate_text(results: Sequence[tuple[str, bool, Sequence[Diagnostic]]]) -> str:
    """Human output of validate."""
    out = []
    for path, valid, diags in results:
        if diags:
            out.append("\n".join(render_diagnostic(d) for d in diags))
        out.append(f"{path}: {'valid' if valid else 'INVALID'}")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ explanations


def _choice_words(
    problem: Problem, config: VehicleConfig, assignment: Mapping[str, int], slot: str
) -> str:
    s = problem.slot(slot)
    value = s.values[assignment[slot]].id
    label = s.label or slot
    if s.is_bool:
        return (
            f"feature '{slot}' {'on' if value == 'true' else 'off'} ({choice_span(config, slot)})"
        )
    return f"{label} '{value}' ({choice_span(config, slot)})"


def explanation(
    conflict: Conflict,
    problem: Problem,
    rules: Mapping[str, Rule],
    config: VehicleConfig,
    assignment: Mapping[str, int],
) -> str:
    """A PubGrub-style chain: Because ..., and rule ... (file:line), X cannot be used."""
    order = {s.name: i for i, s in enumerate(problem.slots)}
    choices = sorted(conflict.choices, key=order.__getitem__)
    steps: list[str] = []
    conclusion_slot = choices[-1] if choices else None
    premises = choices[:-1]
    for slot in premises:
        steps.append(f"you chose {_choice_words(problem, config, assignment, slot)}")
    for rule_id in conflict.rules:
        rule = rules[rule_id]
        steps.append(f"rule '{rule.id}' ({rule.span}) says: {rule.message or rule.description}")
    lines = []
    for number, step in enumerate(steps, start=1):
        lead = "Because" if number == 1 else "and"
        lines.append(f"({number}) {lead} {step},")
    if conclusion_slot is not None:
        final = f"{_choice_words(problem, config, assignment, conclusion_slot)} cannot be used."
        lines.append(f"({len(steps) + 1}) {'so ' if steps else ''}{final}")
        if not steps:
            lines[-1] = f"(1) {final[0].upper()}{final[1:]}"
    else:
        lines.append(f"({len(steps) + 1}) so no vehicle at all satisfies these rules together.")
    return "\n".join(lines) + "\n"


def explain_json(
    conflict: Conflict | None,
    problem: Problem,
    rules: Mapping[str, Rule],
    config: VehicleConfig,
    assignment: Mapping[str, int],
) -> str:
    """{"consistent", "conflict": [...], "text"}."""
    if conflict is None:
        return to_json(
            {
                "consistent": True,
                "conflict": [],
                "text": "the configuration has a valid completion; nothing to explain",
            }
        )
    items: list[dict[str, object]] = []
    for slot in conflict.choices:
        span = choice_span(config, slot)
        items.append(
            {
                "type": "choice",
                "id": slot,
                "slot": slot,
                "value": problem.slot(slot).values[assignment[slot]].id,
                **_where(span),
            }
        )
    for rule_id in conflict.rules:
        rule = rules[rule_id]
        items.append(
            {
                "type": "rule",
                "id": rule.id,
                "slot": None,
                "message": rule.message,
                **_where(rule.span),
            }
        )
    return to_json(
        {
            "consistent": False,
            "conflict": items,
            "text": explanation(conflict, problem, rules, config, assignment),
        }
    )


def _where(span: Span) -> dict[str, object]:
    return {"file": span.path, "line": span.line, "column": span.col}


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
    lines = []
    for slot, found in options.items():
        label = problem.slot(slot).label or slot
        lines.append(f"{label} ({slot}): {len(found.possible)} possible")
        for value in found.possible:
            lines.append(f"  + {value}")
        for value, rule_ids in sorted(found.excluded.items()):
            lines.append(f"  - {value}  (excluded by {', '.join(rule_ids) or 'the choices alone'})")
    return "\n".join(lines) + "\n"


def options_json(options: Mapping[str, SlotOptions], consistent: bool) -> str:
    """{"consistent", "slots": {slot: {"possible": [...], "excluded": {id: [rule ids]}}}}."""
    return to_json(
        {
            "consistent": consistent,
            "slots": {
                slot: {
                    "possible": list(found.possible),
                    "excluded": {k: list(v) for k, v in sorted(found.excluded.items())},
                }
                for slot, found in options.items()
            },
        }
    )


# ------------------------------------------------------------------ build


def build_json(built: BuiltVehicle) -> str:
    """The documented build document."""
    return to_json(
        {
            "name": built.name,
            "brand": built.brand,
            "platform": built.platform,
            "modules": dict(built.modules),
            "filled": dict(built.filled),
            "bom": [
                {
                    "part": line.part,
                    "name": line.name,
                    "module": line.module,
                    "quantity": line.quantity,
                    "unit_cost": line.unit_cost,
                    "unit_mass_kg": line.unit_mass_kg,
                }
                for line in built.bom
            ],
            "totals": {
                "parts": built.total_parts,
                "cost": built.total_cost,
                "mass_kg": built.total_mass_kg,
            },
        }
    )


def build_text(built: BuiltVehicle, catalog: Catalog) -> str:
    """A readable vehicle sheet with its bill of materials."""
    brand = catalog.brands[built.brand].name
    platform = catalog.platforms[built.platform].name
    lines = [
        f"{built.name}",
        f"  brand:    {brand} ({built.brand})",
        f"  platform: {platform} ({built.platform})",
        "  modules:",
    ]
    for kind in KINDS:
        module = catalog.modules[built.modules[kind]]
        filled = "  [filled in at least cost]" if kind in built.filled else ""
        lines.append(f"    {kind:<19} {module.id:<28} {module.name}{filled}")
    others = {k: v for k, v in built.filled.items() if k not in KINDS}
    if others:
        lines.append("  filled in: " + ", ".join(f"{k}={v}" for k, v in sorted(others.items())))
    lines.append("  bill of materials:")
    lines.append(
        f"    {'part':<16} {'name':<36} {'module':<19} {'qty':>4} {'unit cost':>10} {'unit kg':>8}"
    )
    for line in built.bom:
        lines.append(
            f"    {line.part:<16} {line.name[:36]:<36} {line.module:<19} {line.quantity:>4} {line.unit_cost:>10.2f} {line.unit_mass_kg:>8.3f}"
        )
    lines.append(
        f"  totals: {built.total_parts} pieces, {built.total_cost:.2f} EUR, {built.total_mass_kg:.3f} kg (illustrative)"
    )
    return "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    return "undefined (0/0)" if value is None else f"{100 * value:.1f}%"


def pair_text(pair: PairShare) -> str:
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
    return "\n".join(lines) + "\n"


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
            cells = " ".join(
                "   -" if matrix.values[i][j] is None else f"{100 * matrix.values[i][j]:>4.0f}"  # type: ignore[operator]
                for j in order
            )
            lines.append(f"{row_number:>2} {matrix.names[i]:<{width}} {cells}")
    else:
        lines.append(
            f"matrix: {len(names)} x {len(names)} ({matrix.measure}); write it with --csv or draw it with --heatmap"
        )
    return "\n".join(lines) + "\n"
