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

import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from cmf_config.errors import NO_SPAN, Diagnostic, InputError, Span
from cmf_config.model import BomLine, Catalog, PartLine, Position
from cmf_config.problem import Assignment, Problem
from cmf_config.reprs import shared_repr
from cmf_config.rules import IR, TRUE, K, Op, Ref, compile_expression, evaluate, slots_of
from cmf_config.sat import BULK_SOLVER, Session
from cmf_config.solver import Engine
from cmf_config.source import Document, MapNode, ScalarNode, SeqNode, parse_file

if TYPE_CHECKING:
    import random

CHECKS: tuple[str, ...] = ("uniqueness", "completeness", "superfluous")
"""The three checks, in the order a position's findings are listed."""


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
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


CODES = {"uniqueness": "B101", "completeness": "B102", "superfluous": "B103"}
"""The diagnostic code of each check's findings."""

HINTS = {
    "uniqueness": "make the two selection conditions exclusive: the witness satisfies both",
    "completeness": "add an alternative whose condition holds for the witness, or narrow the position's `needed` condition",
    "superfluous": "drop the part, or fix its selection condition (or the position's `needed`) so that a valid vehicle can take it",
}
"""What to do about each check's findings."""


def _finding(
    check: str,
    position: str,
    parts: tuple[str, ...],
    span: Span,
    witness: Mapping[str, str] | None,
    message: str,
) -> Diagnostic:
    """A product-data problem found by a check (`kind`), about a position (`subject`), with
    the valid configuration that shows it (`witness`, slot -> value id in slot order);
    superfluous parts have none, since their finding is that no valid configuration selects
    them."""
    return Diagnostic(
        code=CODES[check],
        span=span,
        message=message,
        hint=HINTS[check],
        kind=check,
        subject=position,
        parts=parts,
        witness=None if witness is None else tuple(witness.items()),
    )


# ---------------------------------------------------------------- compiling conditions


def compile_positions(catalog: Catalog, problem: Problem) -> list[CompiledPosition]:
    """Compile every position's conditions; raise InputError listing every bad condition."""
    out: list[CompiledPosition] = []
    diagnostics: list[Diagnostic] = []
    docs: dict[str, tuple[Document, dict[tuple[int, int, int | None], ScalarNode]]] = {}
    owners: list[tuple[str, str, tuple[Position, ...]]] = [
        ("brand", b.id, b.positions) for b in sorted(catalog.brands.values(), key=lambda b: b.id)
    ]
    owners += [
        (m.kind, m.id, m.positions) for m in sorted(catalog.modules.values(), key=lambda m: m.id)
    ]
    for slot, owner, positions in owners:
        for position in positions:
            needed = _condition(
                catalog,
                problem,
                docs,
                position.field_spans.get("needed"),
                position.needed,
                "position condition",
                diagnostics,
            )
            conditions = tuple(
                _condition(
                    catalog,
                    problem,
                    docs,
                    alt.field_spans.get("when"),
                    alt.when,
                    "selection condition",
                    diagnostics,
                )
                for alt in position.alternatives
            )
            out.append(
                CompiledPosition(
                    owner_slot=slot,
                    owner=owner,
                    position=position,
                    needed=needed,
                    conditions=conditions,
                )
            )
    if diagnostics:
        raise InputError(diagnostics)
    return out


def _condition(
    catalog: Catalog,
    problem: Problem,
    docs: dict[str, tuple[Document, dict[tuple[int, int, int | None], ScalarNode]]],
    span: Span | None,
    text: str,
    what: str,
    diagnostics: list[Diagnostic],
) -> IR:
    """Compile one condition, finding its scalar node in the source file for exact spans."""
    if text.strip() == "true":
        return TRUE
    node: ScalarNode | None = None
    doc: Document | None = None
    if span is not None:
        found = docs.get(span.path)
        if found is None:
            parsed = parse_file(_source_path(catalog, span), span.path)
            found = docs[span.path] = (parsed, _scalars(parsed))
        doc, node = found[0], found[1].get((span.line, span.col, span.end_col))
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


def _scalars(doc: Document) -> dict[tuple[int, int, int | None], ScalarNode]:
    """Every scalar of a document by its span's place (the first one, as a depth-first search
    finds it), so that each condition finds its node in one look-up. Line, column and end
    column: the spans of one document share its path, and a tuple hashes faster than a span."""
    out: dict[tuple[int, int, int | None], ScalarNode] = {}
    stack: list[object] = [doc.root]
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            span = node.span
            out.setdefault((span.line, span.col, span.end_col), node)
        elif isinstance(node, MapNode):
            stack.extend(v for _, v in node.items)
        elif isinstance(node, SeqNode):
            stack.extend(node.items)
    return out


# ---------------------------------------------------------------- resolving a configuration


def _owner_ir(problem: Problem, compiled: CompiledPosition) -> IR:
    return (
        Op("==", (Ref(compiled.owner_slot), K(compiled.owner)))
        if problem.has(compiled.owner_slot)
        else TRUE
    )


def _applies(problem: Problem, item: CompiledPosition, assignment: Assignment) -> bool:
    """Whether the position is needed: its owner is chosen and its `needed` condition holds."""
    if problem.has(item.owner_slot):
        owner = problem.slot(item.owner_slot).values[assignment[item.owner_slot]].id
        if owner != item.owner:
            return False
    return bool(evaluate(problem, item.needed, assignment))


def selected_parts(
    problem: Problem, compiled: Sequence[CompiledPosition], assignment: Assignment
) -> Iterator[tuple[CompiledPosition, PartLine]]:
    """The alternatives a complete assignment selects, position by position."""
    for item in compiled:
        if not _applies(problem, item, assignment):
            continue
        for alternative, condition in zip(item.position.alternatives, item.conditions, strict=True):
            if evaluate(problem, condition, assignment):
                yield item, alternative.line()


def selected_by_owner(
    problem: Problem, compiled: Sequence[CompiledPosition], assignment: Assignment
) -> dict[str, list[tuple[PartLine, str]]]:
    """The alternatives a complete assignment selects, per owner, with their position."""
    selected: dict[str, list[tuple[PartLine, str]]] = {}
    for item, line in selected_parts(problem, compiled, assignment):
        selected.setdefault(item.owner, []).append((line, f"{item.owner}/{item.position.id}"))
    return selected


def owner_bom_lines(
    owners: Sequence[tuple[str, str, Sequence[PartLine]]],
    selected: Mapping[str, Sequence[tuple[PartLine, str]]],
) -> list[BomLine]:
    """Bill-of-materials lines of (module, owner id, fixed parts) owners in order: each
    owner's fixed parts, then the alternatives its positions select (`selected_by_owner`).
    The one BOM explosion of `build` (workspace) and of the order banks (orders)."""
    return [
        BomLine(
            part=p.part,
            name=p.name,
            module=module,
            quantity=p.quantity,
            unit_cost=p.unit_cost,
            unit_mass_kg=p.unit_mass_kg,
            position=position,
        )
        for module, owner_id, parts in owners
        for p, position in (*((fixed, "") for fixed in parts), *selected.get(owner_id, ()))
    ]


# ---------------------------------------------------------------- the checks


def check(engine: Engine, compiled: Sequence[CompiledPosition]) -> list[Diagnostic]:
    """Uniqueness, completeness and superfluous parts of every position, through the solver.

    Findings come position by position (in `compiled` order), each position's in the order
    uniqueness (one per pair of parts), completeness, superfluous (one per part).
    """
    problem = engine.problem
    encoding = engine.encoding
    owners = [_owner_ir(problem, item) for item in compiled]
    scopes = [
        _literal(engine, Op("and", (owner, item.needed)))
        for owner, item in zip(owners, compiled, strict=True)
    ]
    conditions = [[_literal(engine, c) for c in item.conditions] for item in compiled]
    # 'the position applies and selects this alternative': one literal per alternative, so
    # that a single model tells which alternatives it selects anywhere in the catalog.
    selects = [
        [encoding.and_([scope, lit]) for lit in lits]
        for scope, lits in zip(scopes, conditions, strict=True)
    ]
    # 'the position applies and selects none or several of its alternatives'
    violations = [
        encoding.and_([scope, -_exactly_one(engine, item.conditions, lits)])
        for item, scope, lits in zip(compiled, scopes, conditions, strict=True)
    ]
    with CheckSession(engine) as session:
        reached = _reachable(session, [lit for lits in selects for lit in lits], violations)
        reachable = [[lit in reached for lit in lits] for lits in selects]
        suspects = _violated(session, violations, reached)
        findings: list[Diagnostic] = []
        for i, item in enumerate(compiled):
            findings += _position_findings(
                session, item, scopes[i], conditions[i], reachable[i], i in suspects
            )
    return findings


class CheckSession:
    """The valid configurations, asked about by one check: a `sat.Session` of its own (on the
    solver for long runs of satisfiable calls, `sat.BULK_SOLVER`) in which the error rules are
    unit clauses, propagated once instead of being assumed (thousands of literals) on each of
    the check's calls. It follows the engine's encoding, which gains condition literals meanwhile."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.solver = Session.following(engine.encoding.clauses, solver=BULK_SOLVER)
        self.solver.add_clauses([lit] for lit in engine.hard_lits())

    def __enter__(self) -> CheckSession:
        return self

    def __exit__(self, *_: object) -> None:
        self.solver.close()

    def model(self, assumptions: Sequence[int]) -> list[int] | None:
        """A model of the valid configurations under the assumptions, or None."""
        return self.solver.solution(assumptions)

    def shuffle_phases(self, rng: random.Random) -> None:
        """Random preferred values for the slot variables: the next model lands somewhere else
        in the product line instead of next to the last one (phase saving)."""
        primary = range(1, self.engine.encoding.primary_vars + 1)
        self.solver.set_phases([var if rng.random() < 0.5 else -var for var in primary])

    def witness(self, assumptions: Sequence[int]) -> dict[str, int] | None:
        """A valid configuration under the assumptions, or None."""
        model = self.model(assumptions)
        return self.engine.decode(model) if model is not None else None


def _literal(engine: Engine, ir: IR) -> int:
    """The engine's literal for an expression.

    One that reads no slot is folded to a constant first (the encoder builds diagrams over the
    slots an expression reads, and needs one). One that reads a single many-valued slot, the
    usual selection condition (`market in [...]`, `battery_kwh <= 45`), becomes the
    disjunction of the values where it holds (or the negated one of those where it fails,
    whichever is shorter): a few clauses instead of one per value of the slot, which matters
    with tens of thousands of conditions.
    """
    problem = engine.problem
    slots = slots_of(ir)
    if not isinstance(ir, K) and not slots:
        ir = K(bool(evaluate(problem, ir, {})))
    elif len(slots) == 1:
        slot = problem.slot(next(iter(slots)))
        if not slot.is_bool:
            holds = [bool(evaluate(problem, ir, {slot.name: i})) for i in range(len(slot.values))]
            values = engine.encoding.slot_lits[slot.name]
            trues = [lit for lit, ok in zip(values, holds, strict=True) if ok]
            falses = [lit for lit, ok in zip(values, holds, strict=True) if not ok]
            return (
                engine.encoding.or_(trues)
                if len(trues) <= len(falses)
                else -engine.encoding.or_(falses)
            )
    return engine.literal(ir)


def _exactly_one(engine: Engine, conditions: Sequence[IR], lits: Sequence[int]) -> int:
    """A literal for 'exactly one condition holds'. Conditions that all read one slot go to
    the encoder as one expression, whose decision diagram over that slot is the constant true
    when they split its values (the common case: by steering side, market, battery band);
    such a position can never be violated, and costs the solver nothing."""
    if len(frozenset().union(*(slots_of(c) for c in conditions))) <= 1:
        return _literal(engine, Op("exactly", (K(1.0), *conditions)))
    return engine.encoding.cardinality("exactly", 1, list(lits))


def _reachable(session: CheckSession, targets: Sequence[int], watched: Sequence[int]) -> set[int]:
    """The target literals some valid configuration makes true (and the watched ones that
    the models met on the way make true).

    Every model the solver returns is read for all targets still open, so one call settles
    many targets at once: a product line needs far fewer calls than it has parts. A target
    no model has reached yet is then assumed, and if that fails no configuration reaches it.
    Random phases (seeded: the result and its witnesses do not change from run to run) spread
    the models over the product line, which halves the calls on a large one.
    """
    import random  # the checks' seeded phases only (not on every start-up)

    rng = random.Random(0)
    reached: set[int] = set()
    open_ = set(targets) | set(watched)
    for target in [None, *targets]:
        if target is not None and target not in open_:
            continue
        session.shuffle_phases(rng)
        model = session.model([] if target is None else [target])
        if model is not None:
            hits = open_.intersection(model)
            reached |= hits
            open_ -= hits
        if target is not None:
            open_.discard(target)
    return reached


def _violated(session: CheckSession, violations: Sequence[int], known: set[int]) -> set[int]:
    """The positions (indices) whose violation literal some valid configuration makes true;
    `known`: literals already seen true in a valid configuration.

    One call asks whether any other position is violated at all; each model names the
    violated positions it shows, and the question is asked again of the others until no
    model is left. A clean catalog is proved clean by a single (unsatisfiable) call.

    The others are asked about over *all* valid configurations: assuming the found ones
    away instead would miss a position violated only where a found one is violated too. So
    the disjunction is rebuilt without them, over groups so that each round adds few clauses.
    """
    encoding = session.engine.encoding
    by_lit: dict[int, list[int]] = {}
    for index, lit in enumerate(violations):
        by_lit.setdefault(lit, []).append(index)
    found = {index for lit in known & by_lit.keys() for index in by_lit[lit]}
    lits = [lit for lit in by_lit if lit not in known and lit != -encoding.true]
    size = max(1, math.isqrt(len(lits)))
    groups = [lits[i : i + size] for i in range(0, len(lits), size)]
    gates = [encoding.or_(group) for group in groups]
    while lits:
        model = session.model([encoding.or_(gates)])
        if model is None:
            break
        true = set(model)
        before = len(found)
        for k, group in enumerate(groups):
            hits = [lit for lit in group if lit in true]
            if hits:
                for lit in hits:
                    found.update(by_lit[lit])
                groups[k] = [lit for lit in group if lit not in true]
                gates[k] = encoding.or_(groups[k])
        if len(found) == before:  # the disjunction holds, so some disjunct must: a solver bug
            raise RuntimeError("the SAT model satisfies a disjunction but none of its members")
    return found


def _position_findings(
    session: CheckSession,
    item: CompiledPosition,
    scope: int,
    lits: Sequence[int],
    reachable: Sequence[bool],
    is_suspect: bool,
) -> list[Diagnostic]:
    """The findings of one position; `is_suspect`: some valid configuration that needs it
    selects none or several of its alternatives."""
    out: list[Diagnostic] = []
    if is_suspect:
        out += _uniqueness(session, item, scope, lits, reachable)
        gap = session.witness([scope, *(-lit for lit in lits)])
        if gap is not None:
            out.append(_completeness(session.engine, item, gap))
    # Nothing selected anywhere and never violated: no valid configuration needs the position.
    is_dead = not is_suspect and not any(reachable)
    for alternative, ok in zip(item.position.alternatives, reachable, strict=True):
        if not ok:
            why = (
                "the position is needed by no valid configuration"
                if is_dead
                else "its condition never holds where the position is needed"
            )
            out.append(
                _finding(
                    check="superfluous",
                    position=item.key,
                    parts=(alternative.part,),
                    span=alternative.field_spans.get("when", alternative.span),
                    witness=None,
                    message=f"part '{alternative.part}' of position '{item.key}' is selected by no valid configuration: {why}",
                )
            )
    return out


def _completeness(engine: Engine, item: CompiledPosition, gap: Mapping[str, int]) -> Diagnostic:
    return _finding(
        check="completeness",
        position=item.key,
        parts=(),
        span=item.position.span,
        witness=_witness(engine.problem, gap),
        message=f"position '{item.key}' selects no part in a valid configuration that needs it",
    )


def _uniqueness(
    session: CheckSession,
    item: CompiledPosition,
    scope: int,
    lits: Sequence[int],
    reachable: Sequence[bool],
) -> list[Diagnostic]:
    """Every pair of alternatives some valid configuration selects together."""
    if len(lits) < 2:
        return []
    encoding = session.engine.encoding
    if session.model([scope, encoding.cardinality("at_least", 2, list(lits))]) is None:
        return []
    out: list[Diagnostic] = []
    alts = item.position.alternatives
    for i in range(len(lits)):
        for j in range(i + 1, len(lits)):
            if not (reachable[i] and reachable[j]):
                continue  # an alternative never selected is selected with nothing
            both = session.witness([scope, lits[i], lits[j]])
            if both is not None:
                out.append(
                    _finding(
                        check="uniqueness",
                        position=item.key,
                        parts=(alts[i].part, alts[j].part),
                        span=alts[j].field_spans.get("when", alts[j].span),
                        witness=_witness(session.engine.problem, both),
                        message=f"position '{item.key}' selects both '{alts[i].part}' and '{alts[j].part}' in a valid configuration",
                    )
                )
    return out


def _witness(problem: Problem, assignment: Mapping[str, int]) -> dict[str, str]:
    return {s.name: s.values[assignment[s.name]].id for s in problem.slots}
