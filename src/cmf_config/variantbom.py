"""Variant ("150%") bills of materials: positions whose alternatives are chosen by conditions.

Conditions are written in the rule language and compiled against the problem. A configured
vehicle gets, for each position it needs, the alternatives whose conditions hold. The
product-data checks of Sinz, Kaiser and Kuechlin (SAT-based validation of Daimler's product
documentation) are asked of the solver, each finding with a witness configuration:

- uniqueness: no valid configuration selects two alternatives of one position;
- completeness: every valid configuration that needs a position selects one of its parts;
- superfluous parts: an alternative that no valid configuration selects.

A position applies when its owner (module variant or brand) is chosen and its `needed`
condition holds; an alternative is selected when the position applies and its `when` holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import attrs

from cmf_config.errors import NO_SPAN, Diagnostic, InputError, Span
from cmf_config.model import Catalog, PartLine, Position
from cmf_config.problem import Assignment, Problem
from cmf_config.rules import IR, TRUE, K, Op, Ref, compile_expression, evaluate, slots_of
from cmf_config.solver import Engine
from cmf_config.source import Document, MapNode, ScalarNode, SeqNode, parse_file

CHECKS: tuple[str, ...] = ("uniqueness", "completeness", "superfluous")
"""The three checks, in the order a position's findings are listed."""


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
    """A product-data problem found by a check, with the configuration that shows it.

    `witness` is a valid configuration (slot -> value id) exhibiting the problem; superfluous
    parts have none, since their finding is that no valid configuration selects them.
    """

    check: str  # uniqueness | completeness | superfluous
    position: str
    parts: tuple[str, ...]
    span: Span
    witness: Mapping[str, str] | None
    message: str


# ---------------------------------------------------------------- compiling conditions


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
            needed = _condition(catalog, problem, docs, position.field_spans.get("needed"), position.needed, "position condition", diagnostics)
            conditions = tuple(
                _condition(catalog, problem, docs, alt.field_spans.get("when"), alt.when, "selection condition", diagnostics)
                for alt in position.alternatives
            )
            out.append(CompiledPosition(owner_slot=slot, owner=owner, position=position, needed=needed, conditions=conditions))
    if diagnostics:
        raise InputError(diagnostics)
    return out


def _condition(
    catalog: Catalog, problem: Problem, docs: dict[str, Document], span: Span | None, text: str, what: str, diagnostics: list[Diagnostic]
) -> IR:
    """Compile one condition, finding its scalar node in the source file for exact spans."""
    if text.strip() == "true":
        return TRUE
    node: ScalarNode | None = None
    doc: Document | None = None
    if span is not None:
        doc = docs.get(span.path)
        if doc is None:
            doc = parse_file(_source_path(catalog, span), span.path)
            docs[span.path] = doc
        node = _scalar_at(doc, span)
    if doc is None or node is None:
        # A position built in code (no file behind it): compile the text, spans stay empty.
        where = span or NO_SPAN
        node = ScalarNode(value=text, raw=text, style=None, span=where, end=where)
        doc = Document(path=where.path, text=text, root=node)
    ir, diags = compile_expression(problem, doc, node, what)
    diagnostics.extend(diags)
    return ir


def _source_path(catalog: Catalog, span: Span) -> Path:
    """The file a span points into: span paths are relative to the working directory *at load
    time*, so prefer the catalog root (positions live in files directly under it)."""
    in_root = Path(catalog.root) / Path(span.path).name if catalog.root else None
    if in_root is not None and in_root.is_file():
        return in_root
    return Path(span.path)


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


# ---------------------------------------------------------------- resolving a configuration


def _owner_ir(problem: Problem, compiled: CompiledPosition) -> IR:
    return Op("==", (Ref(compiled.owner_slot), K(compiled.owner))) if problem.has(compiled.owner_slot) else TRUE


def _applies(problem: Problem, item: CompiledPosition, assignment: Assignment) -> bool:
    """Whether the position is needed: its owner is chosen and its `needed` condition holds."""
    if problem.has(item.owner_slot):
        owner = problem.slot(item.owner_slot).values[assignment[item.owner_slot]].id
        if owner != item.owner:
            return False
    return bool(evaluate(problem, item.needed, assignment))


def selected_parts(problem: Problem, compiled: Sequence[CompiledPosition], assignment: Assignment) -> Iterator[tuple[CompiledPosition, PartLine]]:
    """The alternatives a complete assignment selects, position by position."""
    for item in compiled:
        if not _applies(problem, item, assignment):
            continue
        for alternative, condition in zip(item.position.alternatives, item.conditions, strict=True):
            if evaluate(problem, condition, assignment):
                yield item, alternative.line()


# ---------------------------------------------------------------- the checks


def check(engine: Engine, compiled: Sequence[CompiledPosition]) -> list[Finding]:
    """Uniqueness, completeness and superfluous parts of every position, through the solver.

    Findings come position by position (in `compiled` order), each position's in the order
    uniqueness (one per pair of parts), completeness, superfluous (one per part).
    """
    problem = engine.problem
    scopes = [_literal(engine, Op("and", (_owner_ir(problem, item), item.needed))) for item in compiled]
    conditions = [[_literal(engine, c) for c in item.conditions] for item in compiled]
    # 'the position applies and selects this alternative': one literal per alternative, so
    # that a single model tells which alternatives it selects anywhere in the catalog.
    selects = [[_literal(engine, Op("and", (_owner_ir(problem, item), item.needed, c))) for c in item.conditions] for item in compiled]
    reached = _reachable(engine, [lit for lits in selects for lit in lits])
    findings: list[Finding] = []
    for item, scope, lits, sels in zip(compiled, scopes, conditions, selects, strict=True):
        findings += _position_findings(engine, item, scope, lits, [s in reached for s in sels])
    return findings


def _literal(engine: Engine, ir: IR) -> int:
    """The engine's literal for an expression; one that reads no slot is folded to a constant
    first (the encoder builds diagrams over the slots an expression reads, and needs one)."""
    if not isinstance(ir, K) and not slots_of(ir):
        ir = K(bool(evaluate(engine.problem, ir, {})))
    return engine.literal(ir)


def _reachable(engine: Engine, targets: Sequence[int]) -> set[int]:
    """The target literals some valid configuration makes true.

    Every model the solver returns is read for all targets still open, so one call settles
    many targets at once: a product line needs far fewer calls than it has parts. A target
    no model has reached yet is then assumed, and if that fails no configuration reaches it.
    """
    hard = engine.hard_lits()
    solver = engine.sat
    reached: set[int] = set()
    open_ = set(targets)
    for target in [None, *targets]:
        if target is not None and target not in open_:
            continue
        if solver.solve(assumptions=hard if target is None else [*hard, target]):
            hits = open_.intersection(solver.get_model() or ())
            reached |= hits
            open_ -= hits
        if target is not None:
            open_.discard(target)
    return reached


def _position_findings(engine: Engine, item: CompiledPosition, scope: int, lits: Sequence[int], reachable: Sequence[bool]) -> list[Finding]:
    out: list[Finding] = []
    alternatives = item.position.alternatives
    if any(reachable):
        # One call asks both: is there a valid configuration that needs the position and
        # selects none or several of its alternatives?
        exactly_one = _literal(engine, Op("exactly", (K(1.0), *item.conditions)))
        if engine.witness([scope, -exactly_one]) is not None:
            out += _uniqueness(engine, item, scope, lits, reachable)
            gap = engine.witness([scope, *(-lit for lit in lits)])
            if gap is not None:
                out.append(_completeness(engine, item, gap))
        is_dead = False
    else:
        some = engine.witness([scope])
        is_dead = some is None
        if some is not None:  # needed somewhere, and nothing is ever selected there
            out.append(_completeness(engine, item, some))
    for alternative, ok in zip(alternatives, reachable, strict=True):
        if not ok:
            why = "the position is needed by no valid configuration" if is_dead else "its condition never holds where the position is needed"
            out.append(
                Finding(
                    check="superfluous",
                    position=item.key,
                    parts=(alternative.part,),
                    span=alternative.field_spans.get("when", alternative.span),
                    witness=None,
                    message=f"part '{alternative.part}' of position '{item.key}' is selected by no valid configuration: {why}",
                )
            )
    return out


def _completeness(engine: Engine, item: CompiledPosition, gap: Mapping[str, int]) -> Finding:
    return Finding(
        check="completeness",
        position=item.key,
        parts=(),
        span=item.position.span,
        witness=_witness(engine.problem, gap),
        message=f"position '{item.key}' selects no part in a valid configuration that needs it",
    )


def _uniqueness(engine: Engine, item: CompiledPosition, scope: int, lits: Sequence[int], reachable: Sequence[bool]) -> list[Finding]:
    """Every pair of alternatives some valid configuration selects together."""
    if len(lits) < 2:
        return []
    two = _literal(engine, Op("at_least", (K(2.0), *item.conditions)))
    if engine.witness([scope, two]) is None:
        return []
    out: list[Finding] = []
    alts = item.position.alternatives
    for i in range(len(lits)):
        for j in range(i + 1, len(lits)):
            if not (reachable[i] and reachable[j]):
                continue  # an alternative never selected is selected with nothing
            both = engine.witness([scope, lits[i], lits[j]])
            if both is not None:
                out.append(
                    Finding(
                        check="uniqueness",
                        position=item.key,
                        parts=(alts[i].part, alts[j].part),
                        span=alts[j].field_spans.get("when", alts[j].span),
                        witness=_witness(engine.problem, both),
                        message=f"position '{item.key}' selects both '{alts[i].part}' and '{alts[j].part}' in a valid configuration",
                    )
                )
    return out


def _witness(problem: Problem, assignment: Mapping[str, int]) -> dict[str, str]:
    return {s.name: s.values[assignment[s.name]].id for s in problem.slots}
