"""Catalog lint: dead values, vacuous, contradictory and redundant rules, broken references."""

from __future__ import annotations

from cmf_config.errors import NO_SPAN, Diagnostic, Severity, Span
from cmf_config.rules import holds
from cmf_config.workspace import Workspace


def _finding(
    code: str,
    kind: str,
    subject: str,
    message: str,
    span: Span = NO_SPAN,
    rules: tuple[str, ...] = (),
) -> Diagnostic:
    """One lint finding: a warning, except the catalog without any valid vehicle (an error)."""
    return Diagnostic(
        code=code,
        severity=Severity.ERROR if code == "L000" else Severity.WARNING,
        span=span,
        message=message,
        kind=kind,
        subject=subject,
        rules=rules,
    )


DEAD_SLOTS = (
    "brand",
    "platform",
    "engine_compartment",
    "cockpit",
    "front_underbody",
    "rear_underbody",
    "ee_architecture",
)


def _dead_values(workspace: Workspace) -> list[Diagnostic]:
    """L101: brands, platforms and module variants that no valid vehicle uses."""
    catalog = workspace.catalog
    options = workspace.engine.options({}, [s for s in DEAD_SLOTS if workspace.problem.has(s)])
    findings: list[Diagnostic] = []
    for slot, found in options.items():
        for value, rule_ids in sorted(found.excluded.items()):
            span = NO_SPAN
            what = {"brand": "brand", "platform": "platform"}.get(slot, "module variant")
            if slot == "brand" and value in catalog.brands:
                span = catalog.brands[value].span
            elif slot == "platform" and value in catalog.platforms:
                span = catalog.platforms[value].span
            elif value in catalog.modules:
                span = catalog.modules[value].span
            findings.append(
                _finding(
                    code="L101",
                    kind="dead",
                    subject=value,
                    message=f"{what} '{value}' is in no valid configuration",
                    span=span,
                    rules=rule_ids,
                )
            )
    return findings


def lint(workspace: Workspace) -> list[Diagnostic]:
    """Every finding (a Diagnostic with `kind`, `subject` and `rules`), in a stable order."""
    engine = workspace.engine
    catalog = workspace.catalog
    findings: list[Diagnostic] = []
    if not engine.is_consistent({}):
        conflict = engine.explain({})
        return [
            _finding(
                code="L000",
                kind="inconsistent",
                subject="catalog",
                message="no valid vehicle exists at all",
                rules=conflict.rules if conflict else (),
            )
        ]
    findings += _dead_values(workspace)
    # Redundancy is judged against the other authored rules only: a rule that double-checks
    # what a platform's module list already implies still guards against a later edit.
    hard_authored = [r.id for r in workspace.rules if not r.builtin and r.severity.value == "error"]
    for rule in workspace.rules:
        if rule.builtin:
            continue
        authored = [rid for rid in hard_authored if rid != rule.id]
        lit = engine.rule_lits[rule.id]
        if engine.solve([-lit]) is None:
            findings.append(
                _finding(
                    code="L201",
                    kind="vacuous",
                    subject=rule.id,
                    message=f"rule '{rule.id}' can never be violated: it holds for every configuration",
                    span=rule.span,
                )
            )
            continue
        if rule.severity.value == "error":
            if not engine.rule_can_hold(rule.id):
                findings.append(
                    _finding(
                        code="L202",
                        kind="unsatisfiable",
                        subject=rule.id,
                        message=f"rule '{rule.id}' can never be satisfied together with the other rules",
                        span=rule.span,
                    )
                )
            elif not engine.rule_can_fail(rule.id, authored):
                findings.append(
                    _finding(
                        code="L203",
                        kind="redundant",
                        subject=rule.id,
                        message=f"rule '{rule.id}' is redundant: the other rules already imply it",
                        span=rule.span,
                    )
                )
    for vehicle in sorted(catalog.vehicles.values(), key=lambda v: v.id):
        assignment = workspace.assignment(vehicle.config)
        if not workspace.is_complete(assignment):
            findings.append(
                _finding(
                    code="L301",
                    kind="vehicle-incomplete",
                    subject=vehicle.id,
                    message=f"reference vehicle '{vehicle.id}' leaves slots open",
                    span=vehicle.span,
                )
            )
            continue
        broken = tuple(
            r.id
            for r in workspace.rules
            if r.severity.value == "error" and not holds(workspace.problem, r, assignment)
        )
        if broken:
            findings.append(
                _finding(
                    code="L302",
                    kind="vehicle-breaks-rules",
                    subject=vehicle.id,
                    message=f"reference vehicle '{vehicle.id}' breaks {', '.join(broken)}",
                    span=vehicle.span,
                    rules=broken,
                )
            )
    return findings
