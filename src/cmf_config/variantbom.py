"""Variant ("150%") bills of materials: positions whose alternatives are chosen by conditions.

Conditions are written in the rule language and compiled against the problem. A configured
vehicle gets, for each position it needs, the alternatives whose conditions hold. The
product-data checks of Sinz, Kaiser and Kuechlin (SAT-based validation of Daimler's product
documentation) are asked of the solver, each finding with a witness configuration:

- uniqueness: no valid configuration selects two alternatives of one position;
- completeness: every valid configuration that needs a position selects one of its parts;
- superfluous parts: an alternative that no valid configuration selects.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import attrs

from cmf_config.errors import Diagnostic, InputError, Span
from cmf_config.model import Alternative, Catalog, PartLine, Position
from cmf_config.problem import Assignment, Problem
from cmf_config.rules import IR, TRUE, Op, Ref, K, compile_expression, evaluate
from cmf_config.solver import Engine
from cmf_config.source import Document, MapNode, ScalarNode, SeqNode, parse_file


@attrs.frozen(kw_only=True)
class CompiledPosition:
    """A position with its owner (module variant or brand) and compiled conditions."""

    owner_slot: str
    owner: str
    position: Position
    needed: IR
    conditions: tuple[IR, ...]

    @property
    def key(self) -> str:
        """owner/position, the id findings use."""
        return f"{self.owner}/{self.position.id}"


@attrs.frozen(kw_only=True)
class Finding:
    """A product-data problem found by a check, with the configuration that shows it."""

    check: str  # uniqueness | completeness | superfluous
    position: str
    parts: tuple[str, ...]
    span: Span
    witness: Mapping[str, str] | None
    message: str


def compile_positions(catalog: Catalog, problem: Problem) -> list[CompiledPosition]:
    """Compile every position's conditions; raise InputError listing every bad condition."""
    out: list[CompiledPosition] = []
    diagnostics: list[Diagnostic] = []
    docs: dict[str, Document] = {}
    owners: list[tuple[str, str, tuple[Position, ...]]] = [
        ("brand", b.id, b.positions) for b in sorted(catalog.brands.values(), key=lambda b: b.id)
    ]
    owners += [(m.kind, m.id, m.positions) for m in sorted(catalog.modules.values(), key=lambda m: m.id)]
    for slot, owner, positions in owners:
        for position in positions:
            needed = _condition(problem, docs, position.field_spans.get("needed"), position.needed, "position condition", diagnostics)
            conditions = tuple(
                _condition(problem, docs, alt.field_spans.get("when"), alt.when, "selection condition", diagnostics)
                for alt in position.alternatives
            )
            out.append(CompiledPosition(owner_slot=slot, owner=owner, position=position, needed=needed, conditions=conditions))
    if diagnostics:
        raise InputError(diagnostics)
    return out


def _condition(problem: Problem, docs: dict[str, Document], span: Span | None, text: str, what: str, diagnostics: list[Diagnostic]) -> IR:
    """Compile one condition, finding its scalar node in the source file for exact spans."""
    if span is None or text.strip() == "true":
        return TRUE
    doc = docs.get(span.path)
    if doc is None:
        doc = parse_file(Path(span.path), span.path)
        docs[span.path] = doc
    node = _scalar_at(doc, span)
    if node is None:  # cannot happen for a file we loaded; keep a usable position anyway
        node = ScalarNode(value=text, raw=text, style=None, span=span, end=span)
    ir, diags = compile_expression(problem, doc, node, what)
    diagnostics.extend(diags)
    return ir


def _scalar_at(doc: Document, span: Span) -> ScalarNode | None:
    stack: list[object] = [doc.root]
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode) and node.span == span:
            return node
        if isinstance(node, MapNode):
            stack.extend(v for _, v in node.items)
        elif isinstance(node, SeqNode):
            stack.extend(node.items)
    return None


def _owner_ir(problem: Problem, compiled: CompiledPosition) -> IR:
    return Op("==", (Ref(compiled.owner_slot), K(compiled.owner))) if problem.has(compiled.owner_slot) else TRUE


def selected_parts(problem: Problem, compiled: Sequence[CompiledPosition], assignment: Assignment) -> Iterator[tuple[CompiledPosition, PartLine]]:
    """The alternatives a complete assignment selects, position by position."""
    for item in compiled:
        owner = problem.slot(item.owner_slot).values[assignment[item.owner_slot]].id
        if owner != item.owner or not evaluate(problem, item.needed, assignment):
            continue
        for alternative, condition in zip(item.position.alternatives, item.conditions, strict=True):
            if evaluate(problem, condition, assignment):
                yield item, alternative.line()


def _witness(problem: Problem, assignment: Mapping[str, int] | None) -> Mapping[str, str] | None:
    if assignment is None:
        return None
    return {s.name: s.values[assignment[s.name]].id for s in problem.slots}


def check(engine: Engine, compiled: Sequence[CompiledPosition]) -> list[Finding]:
    """Uniqueness, completeness and superfluous parts of every position, through the solver."""
    problem = engine.problem
    findings: list[Finding] = []
    for item in compiled:
        scope = [engine.literal(_owner_ir(problem, item)), engine.literal(item.needed)]
        alts = item.position.alternatives
        lits = [engine.literal(c) for c in item.conditions]
        if engine.witness(scope) is None:
            continue  # the position never applies in a valid configuration (lint reports dead owners)
        findings += _uniqueness(engine, item, scope, lits)
        gap = engine.witness([*scope, *(-lit for lit in lits)])
        if gap is not None:
            findings.append(
                Finding(
                    check="completeness",
                    position=item.key,
                    parts=(),
                    span=item.position.span,
                    witness=_witness(problem, gap),
                    message=f"position '{item.key}' selects no part in a valid configuration that needs it",
                )
            )
        for alternative, lit in zip(alts, lits, strict=True):
            if engine.witness([*scope, lit]) is None:
                findings.append(
                    Finding(
                        check="superfluous",
                        position=item.key,
                        parts=(alternative.part,),
                        span=alternative.span,
                        witness=None,
                        message=f"part '{alternative.part}' of position '{item.key}' is selected by no valid configuration",
                    )
                )
    return findings


def _uniqueness(engine: Engine, item: CompiledPosition, scope: list[int], lits: list[int]) -> list[Finding]:
    """One SAT call when all is well (at least two selected is impossible); pairs otherwise."""
    if len(lits) < 2:
        return []
    two = engine.encoding.cardinality("at_least", 2, lits)
    if engine.witness([*scope, two]) is None:
        return []
    out: list[Finding] = []
    alts: Sequence[Alternative] = item.position.alternatives
    for i in range(len(lits)):
        for j in range(i + 1, len(lits)):
            both = engine.witness([*scope, lits[i], lits[j]])
            if both is not None:
                out.append(
                    Finding(
                        check="uniqueness",
                        position=item.key,
                        parts=(alts[i].part, alts[j].part),
                        span=alts[j].span,
                        witness=_witness(engine.problem, both),
                        message=f"position '{item.key}' selects both '{alts[i].part}' and '{alts[j].part}' in a valid configuration",
                    )
                )
    return out
