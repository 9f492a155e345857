"""Feature models (from UVL or DIMACS) as the engine's boolean problem, and fast analyses.

A `FeatureModel` is data: a feature tree with groups, attributes kept as read, and cross-tree
constraints as `rules.IR`, each with its position. `compile_model` turns it into the engine's
view: every feature a boolean slot (`problem.bool_slot`), every tree relation and constraint a
`Rule` whose formula states its meaning (so `rules.holds`, the oracle and `solver.Engine` work on
it). For models with tens of thousands of features and clauses, the generic Tseitin path of
`encode.py` is too slow, so the same rules are also given as direct clauses: one variable per
feature, clause-shaped rules as clauses, and anything else (long constraints, cardinality
groups) through `encode.Encoding.lit`, whose auxiliary variables are all functionally defined.
So the models of the CNF are exactly the configurations and d4 counts them exactly.

`FeatureAnalysis` answers the questions of `cmf-config model ...` on that CNF with PySAT:
satisfiability, completion, count (d4), core and dead features, false-optional features, the
options left by a partial selection, and minimal explanations (rules switched on through
selector literals, as in `solver.Engine`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import attrs

from cmf_config.count import count_clauses
from cmf_config.derivation import Conflict, Derivation, Fact, RuleInput, derive
from cmf_config.encode import Encoding
from cmf_config.errors import Diagnostic, Severity, Span
from cmf_config.fmodel import (
    ClauseTable,
    Constraint,
    FeatureModel,
    Group,
    disjunction,
    paused_gc,
)
from cmf_config.problem import Problem, bool_slot
from cmf_config.reprs import shared_repr
from cmf_config.rules import IR, K, Op, Ref, Rule
from cmf_config.sat import Session

GROUP_KINDS = ("mandatory", "optional", "alternative", "or", "cardinality")
AMO_PAIRWISE_LIMIT = 8
CNF_CLAUSE_LIMIT = 32


CLAUSE_RULE = "clause:"
"""Rule ids of DIMACS clauses: clause:<n>, n counted from 1 in file order."""


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Compiled:
    """A feature model as slots, rules and CNF (definitions always on, each rule its clauses).

    Rules come from the tree and the UVL constraints (`named_rules`, with their clauses in
    `named_clauses`) and, for DIMACS, one per clause of `model.cnf`, built only when asked for
    (`rule`), since the solver needs their clauses, not their formulas.
    """

    model: FeatureModel
    var: Mapping[str, int]
    nvars: int
    definitions: tuple[tuple[int, ...], ...]
    named_rules: tuple[Rule, ...]
    named_clauses: Mapping[str, tuple[tuple[int, ...], ...]]
    optional_children: tuple[tuple[str, str], ...]
    """(child, parent) pairs of every non-mandatory child: the false-optional candidates."""
    cnf: ClauseTable | None = None
    """DIMACS clauses used as they are (rule clause:N is clause N), beside the named rules."""

    @property
    def problem(self) -> Problem:
        """The engine's view: one boolean slot per feature (built on each call)."""
        return feature_problem(self.model)

    def _cnf_clauses(self) -> tuple[tuple[int, ...], ...]:
        return self.cnf.clauses if self.cnf is not None else ()

    def rule_clauses(self) -> Iterator[tuple[str, Sequence[Sequence[int]]]]:
        """Each rule id with its clauses (DIMACS variables are the solver's variables 1..n)."""
        yield from self.named_clauses.items()
        for index, clause in enumerate(self._cnf_clauses(), start=1):
            yield f"{CLAUSE_RULE}{index}", (clause,)

    def rule_count(self) -> int:
        """How many rules there are."""
        return len(self.named_rules) + len(self._cnf_clauses())

    def rule(self, rule_id: str) -> Rule:
        """The rule called `rule_id` (KeyError if none)."""
        number = rule_id[len(CLAUSE_RULE) :]
        if (
            rule_id.startswith(CLAUSE_RULE)
            and number.isdigit()
            and 0 < int(number) <= len(self._cnf_clauses())
        ):
            return _clause_rule(rule_id, self.model.clause_constraint(int(number) - 1))
        for rule in self.named_rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def rule_map(self) -> Mapping[str, Rule]:
        """Rules by id, each built when first looked up."""
        return RuleMap(self)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule (on a large DIMACS model this builds a formula per clause: prefer `rule`)."""
        return self.named_rules + tuple(
            _clause_rule(f"{CLAUSE_RULE}{i + 1}", self.model.clause_constraint(i))
            for i in range(len(self._cnf_clauses()))
        )

    def clauses(self) -> list[Sequence[int]]:
        """Every clause: definitions, then each rule's clauses."""
        out: list[Sequence[int]] = list(self.definitions)
        for clauses in self.named_clauses.values():
            out.extend(clauses)
        out.extend(self._cnf_clauses())
        return out

    def clause_count(self) -> int:
        """How many clauses the CNF has."""
        return (
            len(self.definitions)
            + sum(len(c) for c in self.named_clauses.values())
            + len(self._cnf_clauses())
        )


def feature_problem(model: FeatureModel) -> Problem:
    """One boolean slot per feature, in file order."""
    return Problem(slots=tuple(bool_slot(f.name, f.name, f.span) for f in model.features))


class RuleMap(Mapping[str, Rule]):
    """A compiled model's rules by id, built on lookup and kept."""

    def __init__(self, compiled: Compiled) -> None:
        self._compiled = compiled
        self._named = {r.id: r for r in compiled.named_rules}
        self._built: dict[str, Rule] = {}

    def __getitem__(self, rule_id: str) -> Rule:
        found = self._named.get(rule_id) or self._built.get(rule_id)
        if found is None:
            found = self._built[rule_id] = self._compiled.rule(rule_id)
        return found

    def __iter__(self) -> Iterator[str]:
        return (rule_id for rule_id, _ in self._compiled.rule_clauses())

    def __len__(self) -> int:
        return self._compiled.rule_count()


def _clause_rule(rule_id: str, constraint: Constraint) -> Rule:
    return Rule(
        id=rule_id,
        description=f"clause {constraint.text}",
        message=f"clause {constraint.text}",
        constraint=constraint.formula,
        constraint_text=constraint.text,
        span=constraint.span,
    )


# ------------------------------------------------------------------ compilation


def _conj(items: Sequence[IR]) -> IR:
    return items[0] if len(items) == 1 else Op("and", tuple(items))


def _names(items: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


class _Builder:
    """Collects rules and their clauses over one Encoding (which owns the variables)."""

    def __init__(self, model: FeatureModel) -> None:
        self.model = model
        self.encoding = Encoding(feature_problem(model))
        self.var = {f.name: self.encoding.slot_lits[f.name][1] for f in model.features}
        self.rules: list[Rule] = []
        self.rule_clauses: dict[str, tuple[tuple[int, ...], ...]] = {}

    def add(
        self,
        rule_id: str,
        formula: IR,
        clauses: Iterable[Sequence[int]],
        message: str,
        span: Span,
        text: str = "",
    ) -> None:
        """Add a rule whose clauses (with the definitions) are equivalent to its formula."""
        base = rule_id
        n = 2
        while rule_id in self.rule_clauses:
            rule_id = f"{base}#{n}"
            n += 1
        self.rules.append(
            Rule(
                id=rule_id,
                description=message,
                message=message,
                constraint=formula,
                constraint_text=text or message,
                span=span,
            )
        )
        self.rule_clauses[rule_id] = tuple(tuple(c) for c in clauses)

    def at_most_one(self, lits: Sequence[int]) -> list[list[int]]:
        """Clauses for 'at most one of lits' (a ladder of defined variables when long)."""
        if len(lits) <= AMO_PAIRWISE_LIMIT:
            return [[-a, -b] for i, a in enumerate(lits) for b in lits[i + 1 :]]
        enc = self.encoding
        out: list[list[int]] = []
        prev = lits[0]
        for x in lits[1:-1]:
            out.append([-x, -prev])
            y = enc.new_var()  # y <-> prev or x: defined, so no configuration is counted twice
            enc.clauses += [[-y, prev, x], [-prev, y], [-x, y]]
            prev = y
        out.append([-lits[-1], -prev])
        return out

    def formula_clauses(self, formula: IR) -> list[list[int]]:
        """Direct CNF of a small formula, else one Tseitin literal (defined variables)."""
        direct = _cnf(formula, True, self.var)
        if direct is not None:
            return direct
        return [[self.encoding.lit(formula)]]


def compile_model(model: FeatureModel) -> Compiled:
    """The boolean problem, rules and CNF of a feature model."""
    with paused_gc():
        if (
            model.cnf is not None
            and model.root is None
            and not model.groups
            and not model.constraints
        ):
            return _compile_cnf(model)
        return _compile(model)


def _compile_cnf(model: FeatureModel) -> Compiled:
    """A plain DIMACS model: its variables are the solver's, its clauses are used as they are."""
    return Compiled(
        model=model,
        var={f.name: i for i, f in enumerate(model.features, start=1)},
        nvars=len(model.features),
        definitions=(),
        named_rules=(),
        named_clauses={},
        optional_children=(),
        cnf=model.cnf,
    )


def _compile(model: FeatureModel) -> Compiled:
    b = _Builder(model)
    by_name = {f.name: f for f in model.features}
    if model.root is not None:
        root = by_name[model.root]
        b.add(
            f"root:{root.name}",
            Ref(root.name),
            [[b.var[root.name]]],
            f"the root feature {root.name} is always selected",
            root.span,
        )
    optional_children: list[tuple[str, str]] = []
    for feature in model.features:
        if feature.parent is not None:
            b.add(
                f"parent:{feature.name}",
                Op("=>", (Ref(feature.name), Ref(feature.parent))),
                [[-b.var[feature.name], b.var[feature.parent]]],
                f"{feature.name} needs its parent {feature.parent}",
                feature.span,
                f"{feature.name} => {feature.parent}",
            )
    for group in model.groups:
        _add_group(b, group, optional_children)
    order = [b.var[f.name] for f in model.features]
    for index, constraint in enumerate(model.all_constraints(), start=1):
        span = constraint.span
        if constraint.clause is not None:
            clauses = [[order[x - 1] if x > 0 else -order[-x - 1] for x in constraint.clause]]
            b.add(
                f"clause:{index}",
                constraint.formula,
                clauses,
                f"clause {constraint.text}",
                span,
                constraint.text,
            )
            continue
        rule_id = f"constraint:{span.line}" if span.line else f"constraint:{index}"
        b.add(
            rule_id,
            constraint.formula,
            b.formula_clauses(constraint.formula),
            f"constraint {constraint.text}",
            span,
            constraint.text,
        )
    return Compiled(
        model=model,
        var=b.var,
        nvars=b.encoding.nvars,
        definitions=tuple(tuple(c) for c in b.encoding.clauses),
        named_rules=tuple(b.rules),
        named_clauses=b.rule_clauses,
        optional_children=tuple(optional_children),
    )


def _add_group(b: _Builder, group: Group, optional_children: list[tuple[str, str]]) -> None:
    p = group.parent
    pv = b.var[p]
    kids = list(group.children)
    lits = [b.var[c] for c in kids]
    refs: list[IR] = [Ref(c) for c in kids]
    if group.kind == "mandatory":
        for child in kids:
            b.add(
                f"mandatory:{child}",
                Op("=>", (Ref(p), Ref(child))),
                [[-pv, b.var[child]]],
                f"{child} is a mandatory child of {p}",
                group.span,
                f"{p} => {child}",
            )
        return
    optional_children.extend((c, p) for c in kids)
    if group.kind == "optional":
        return
    low, high = group.low, group.high
    if group.kind == "alternative":
        low, high = 1, 1
    elif group.kind == "or":
        low, high = 1, None
    n = len(kids)
    top = n if high is None else min(high, n)
    what = {"alternative": "alternative", "or": "or"}.get(
        group.kind, f"[{group.low}..{'*' if group.high is None else group.high}]"
    )
    rule_id = f"{group.kind}:{p}"
    if low > top:
        b.add(
            rule_id,
            Op("=>", (Ref(p), K(False))),
            [[-pv]],
            f"{p}'s group {what} of {_names(kids)} cannot be satisfied, so {p} cannot be selected",
            group.span,
            f"!{p}",
        )
        return
    if low <= 0 and top >= n:
        return  # [0..*]: no constraint beyond child => parent
    if low <= 1 and top == 1:
        amo = b.at_most_one(lits)
        formula: IR = Op("at_most", (K(1.0), *refs))
        clauses = list(amo)
        text = f"at most one of {_names(kids)}"
        if low == 1:
            formula = Op("and", (formula, Op("=>", (Ref(p), disjunction(refs)))))
            clauses.append([-pv, *lits])
            text = f"{p} => exactly one of {_names(kids)}"
        b.add(rule_id, formula, clauses, f"{p} has an {what} group: {text}", group.span, text)
        return
    if low == 1 and top >= n:
        b.add(
            rule_id,
            Op("=>", (Ref(p), disjunction(refs))),
            [[-pv, *lits]],
            f"{p} has an or group: at least one of {_names(kids)}",
            group.span,
            f"{p} => ({' | '.join(kids)})",
        )
        return
    parts: list[IR] = []
    if low > 0:
        parts.append(Op("at_least", (K(float(low)), *refs)))
    if top < n:
        parts.append(Op("at_most", (K(float(top)), *refs)))
    formula = Op("=>", (Ref(p), _conj(parts)))
    b.add(
        rule_id,
        formula,
        [[b.encoding.lit(formula)]],
        f"{p} has a group {what}: between {low} and {top} of {_names(kids)}",
        group.span,
        f"{p} => {what} of {_names(kids)}",
    )


def _cnf(ir: IR, positive: bool, var: Mapping[str, int]) -> list[list[int]] | None:
    """CNF of `ir` (or of its negation) by distribution; None when not plain or too large."""
    return _CnfBuilder(var).convert(ir, positive)


Clauses = list[list[int]]


class _CnfBuilder:
    """Direct CNF by distribution, each (subformula, polarity) converted once.

    `a <=> b` needs both polarities of both operands; rebuilt for every use, a chain of n
    `<=>` costs 2^n conversions (22 terms: 44 s). Results are kept by the identity of the
    node in the formula being converted (no temporary nodes are built, so identities are
    stable), which makes the work linear in the size of the formula.
    """

    def __init__(self, var: Mapping[str, int]) -> None:
        self.var = var
        self.memo: dict[tuple[int, bool], Clauses | None] = {}
        self.steps = 0
        """Conversions done (not looked up): linear in the formula's size."""

    def convert(self, ir: IR, positive: bool) -> Clauses | None:
        key = (id(ir), positive)
        if key in self.memo:
            return self.memo[key]
        self.steps += 1
        result = self._convert(ir, positive)
        self.memo[key] = result
        return result

    def _convert(self, ir: IR, positive: bool) -> Clauses | None:
        if isinstance(ir, Ref):
            if ir.attr is not None or ir.slot not in self.var:
                return None
            v = self.var[ir.slot]
            return [[v if positive else -v]]
        if isinstance(ir, K):
            return [] if bool(ir.value) == positive else [[]]
        op, args = ir.op, ir.args
        if op == "not":
            return self.convert(args[0], not positive)
        if op == "=>":  # a => c is (not a) or c; its negation is a and (not c)
            a, c = args
            if positive:
                return self.combine("or", [(a, False), (c, True)])
            return self.combine("and", [(a, True), (c, False)])
        if op == "<=>":  # (not a or c) and (a or not c); negated: (a or c) and (not a or not c)
            a, c = args
            first = self.combine(
                "or", [(a, False), (c, True)] if positive else [(a, True), (c, True)]
            )
            if first is None:
                return None
            second = self.combine(
                "or", [(a, True), (c, False)] if positive else [(a, False), (c, False)]
            )
            if second is None:
                return None
            return _conjoin([first, second])
        if op not in ("and", "or"):
            return None
        # Under negation, and/or swap (De Morgan): the operands keep the polarity.
        effective = op if positive else ("or" if op == "and" else "and")
        return self.combine(effective, [(arg, positive) for arg in args])

    def combine(self, op: str, operands: list[tuple[IR, bool]]) -> Clauses | None:
        """The CNF of the conjunction or disjunction of (subformula, polarity) operands."""
        parts = []
        for sub, polarity in operands:
            got = self.convert(sub, polarity)
            if got is None:
                return None
            parts.append(got)
        return _conjoin(parts) if op == "and" else _disjoin(parts)


def _conjoin(parts: list[Clauses]) -> Clauses | None:
    out = [c for p in parts for c in p]
    return out if len(out) <= CNF_CLAUSE_LIMIT else None


def _disjoin(parts: list[Clauses]) -> Clauses | None:
    acc: Clauses = [[]]
    for part in parts:
        if not part:
            return []  # one disjunct is true
        if len(acc) * len(part) > CNF_CLAUSE_LIMIT:
            return None
        acc = [a + c for a in acc for c in part]
    cleaned: Clauses = []
    for clause in acc:
        lits = sorted(set(clause), key=abs)
        if any(-x in lits for x in lits):
            continue
        cleaned.append(lits)
    return cleaned


def unit_implied(clauses: Sequence[Sequence[int]], assumptions: Sequence[int]) -> set[int]:
    """Literals unit propagation derives from the clauses and assumptions (all, level 0 included).

    Solvers report only what follows from the assumptions beyond their level-0 facts, so the
    facts that matter most here (the mandatory chains from the root) need this pass.
    """
    watch: dict[int, list[int]] = {}
    missing = [len(c) for c in clauses]
    for index, clause in enumerate(clauses):
        for lit in clause:
            watch.setdefault(-lit, []).append(index)
    value: set[int] = set()
    queue = list(assumptions) + [c[0] for c in clauses if len(c) == 1]
    satisfied = [False] * len(clauses)
    while queue:
        lit = queue.pop()
        if lit in value:
            continue
        if -lit in value:
            return value  # a conflict: the caller has already checked satisfiability
        value.add(lit)
        for index in watch.get(lit, ()):
            if satisfied[index]:
                continue
            missing[index] -= 1
            if missing[index] <= 1:
                rest = [x for x in clauses[index] if -x not in value]
                if any(x in value for x in rest):
                    satisfied[index] = True
                elif len(rest) == 1:
                    queue.append(rest[0])
        for index in watch.get(-lit, ()):
            satisfied[index] = True
    return value


# ------------------------------------------------------------------ analyses


Selection = Mapping[str, bool]
"""A partial configuration: feature name -> selected (True) or deselected (False)."""


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class CoreDead:
    """Features selected in every valid configuration (core) and in none (dead)."""

    core: tuple[str, ...]
    dead: tuple[str, ...]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Forced:
    """A feature whose value is decided, and why (None when no reason was computed): the
    minimal choices and rules, and how they force it step by step."""

    feature: str
    value: bool
    because: Conflict | None = None
    derivation: Derivation | None = None


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class LintReport:
    """What `FeatureAnalysis.lint` found; `findings` gives it as Diagnostics."""

    satisfiable: bool
    void: Conflict | None = None
    void_derivation: Derivation | None = None
    core: tuple[Forced, ...] = ()
    dead: tuple[Forced, ...] = ()
    false_optional: tuple[Forced, ...] = ()

    def findings(self, model: FeatureModel) -> list[tuple[Diagnostic, Conflict | None]]:
        """Each finding (L400 void model, L401 dead, L402 false-optional, L403 core feature;
        `subject` the feature, `rules` those of the reason) with the minimal reason behind it."""
        out: list[tuple[Diagnostic, Conflict | None]] = []
        if not self.satisfiable:
            diag = Diagnostic(
                code="L400",
                severity=Severity.WARNING,
                span=Span(model.path, 0, 0),
                message="the model has no valid configuration",
                kind="void",
                rules=self.void.rules if self.void else (),
            )
            out.append((diag, self.void))
        spans = {f.name: f.span for f in model.features}
        groups = (
            ("L401", "dead", self.dead, "is in no valid configuration"),
            (
                "L402",
                "false-optional",
                self.false_optional,
                "is optional, yet selected whenever its parent is",
            ),
            ("L403", "core", self.core, "is in every valid configuration"),
        )
        for code, kind, items, text in groups:
            for item in items:
                diag = Diagnostic(
                    code=code,
                    severity=Severity.NOTE if kind == "core" else Severity.WARNING,
                    span=spans[item.feature],
                    message=f"feature '{item.feature}' {text}",
                    kind=kind,
                    subject=item.feature,
                    rules=item.because.rules if item.because else (),
                )
                out.append((diag, item.because))
        return out


class FeatureAnalysis:
    """A compiled feature model ready for questions (PySAT sessions for decisions, d4 for counts)."""

    def __init__(self, compiled: Compiled) -> None:
        self.compiled = compiled
        self.var = compiled.var
        self.names = [f.name for f in compiled.model.features]
        self._plain: Session | None = None
        self._selecting: Session | None = None
        self._phased: Session | None = None
        self._top = compiled.nvars
        """The highest variable given to the phased session (activation literals come after)."""
        self.selectors: dict[str, int] = {}
        self._rule_of: dict[int, str] = {}
        self.last_counter = ""
        """The counter that answered the last `count`: 'dpll-components' (in process) or 'd4'."""
        self._clauses: list[Sequence[int]] | None = None

    # ------------------------------------------------------------- plumbing

    @property
    def clauses(self) -> list[Sequence[int]]:
        """Every clause of the compiled model (built once; do not modify)."""
        if self._clauses is None:
            self._clauses = self.compiled.clauses()
        return self._clauses

    @property
    def plain(self) -> Session:
        """A session holding every clause (no selectors): the fast path for plain questions."""
        if self._plain is None:
            self._plain = Session(self.clauses, nvars=self.compiled.nvars)
        return self._plain

    @property
    def phased(self) -> Session:
        """A session holding every clause whose phases the backbone searches steer (apart from
        `plain`, so that the phases they leave do not change which model `plain` finds)."""
        if self._phased is None:
            self._phased = Session(self.clauses, nvars=self.compiled.nvars)
        return self._phased

    @property
    def selecting(self) -> Session:
        """A session where each rule is switched on by its selector literal (for explanations)."""
        if self._selecting is None:
            session = Session(self.compiled.definitions)
            top = self.compiled.nvars
            for rule_id, clauses in self.compiled.rule_clauses():
                top += 1
                self.selectors[rule_id] = top
                self._rule_of[top] = rule_id
                session.add_guarded(top, clauses)
            self._selecting = session
        return self._selecting

    def close(self) -> None:
        """Free the sessions."""
        for session in (self._plain, self._selecting, self._phased):
            if session is not None:
                session.close()
        self._plain = self._selecting = self._phased = None

    def lits(self, selection: Selection) -> list[int]:
        """One literal per chosen feature."""
        return [self.var[name] if on else -self.var[name] for name, on in selection.items()]

    def _solve(self, assumptions: Sequence[int]) -> list[int] | None:
        return self.plain.solution(assumptions)

    # ------------------------------------------------------------- questions

    def is_satisfiable(self, selection: Selection | None = None) -> bool:
        """Whether a valid configuration extends the selection."""
        return self._solve(self.lits(selection or {})) is not None

    def complete_any(self, selection: Selection | None = None) -> dict[str, bool] | None:
        """Some valid configuration extending the selection, or None."""
        model = self._solve(self.lits(selection or {}))
        if model is None:
            return None
        return {name: model[self.var[name] - 1] > 0 for name in self.names}

    def count(self, selection: Selection | None = None) -> int:
        """The exact number of valid configurations extending the selection.

        Small formulas are counted in process (`small_count`); the rest by the d4 compiler,
        whose start-up alone (about 50 ms) is more than a small model needs.
        """
        clauses = [*self.clauses, *([lit] for lit in self.lits(selection or {}))]
        total, self.last_counter = count_clauses(clauses, self.compiled.nvars)
        return total

    def core_dead(
        self, selection: Selection | None = None, *, core: bool = True, dead: bool = True
    ) -> CoreDead:
        """Core and dead features (under a selection).

        Unit propagation settles most of them (mandatory chains from the root). The rest is a
        backbone search by chunks (as in MiniBones, Janota et al. 2015): one clause says "some
        remaining candidate flips" under a fresh activation literal; a model flips some
        (usually many: the phases ask for it) and refutes them, an unsatisfiable call proves
        every remaining candidate at once. Each call is one solve on the shared solver.
        """
        base = self.lits(selection or {})
        solver = self.phased
        if not solver.solve(base):
            return CoreDead(core=(), dead=())
        first = solver.model()
        implied_set = unit_implied(self.clauses, base)
        never_on = (
            {self.var[n] for n in self.names if first[self.var[n] - 1] < 0} if dead else set()
        )
        never_off = (
            {self.var[n] for n in self.names if first[self.var[n] - 1] > 0} if core else set()
        )
        found_dead = {v for v in never_on if -v in implied_set}
        found_core = {v for v in never_off if v in implied_set}
        never_on -= found_dead
        never_off -= found_core
        for pool, sign, found in ((never_off, -1, found_core), (never_on, 1, found_dead)):
            while pool:
                chunk = sorted(pool)  # chunks of 16 to 256 measured no faster on the shared models
                self._top += 1
                act = self._top
                solver.add_clauses([[-act, *(sign * v for v in chunk)]])
                solver.set_phases([*never_on, *(-u for u in never_off)])
                satisfied = solver.solve([*base, act])
                solver.add_clauses([[-act]])  # this chunk's clause is retired for good
                if not satisfied:
                    found.update(chunk)
                    pool.difference_update(chunk)
                    continue
                model = solver.model()
                never_on.difference_update([u for u in never_on if model[u - 1] > 0])
                never_off.difference_update([u for u in never_off if model[u - 1] < 0])
        return CoreDead(
            core=tuple(n for n in self.names if self.var[n] in found_core),
            dead=tuple(n for n in self.names if self.var[n] in found_dead),
        )

    def false_optional(self, dead: Iterable[str] = ()) -> list[str]:
        """Non-mandatory features selected whenever their parent is (and the parent can be)."""
        skip = set(dead)
        candidates = [
            (c, p) for c, p in self.compiled.optional_children if c not in skip and p not in skip
        ]
        refuted: set[str] = set()
        out: list[str] = []
        for child, parent in candidates:
            if child in refuted:
                continue
            solver = self.phased
            # phases: parents on, children off, so that one model refutes many candidates
            solver.set_phases(
                [*(self.var[p] for _, p in candidates), *(-self.var[c] for c, _ in candidates)]
            )
            if not solver.solve([self.var[parent], -self.var[child]]):
                out.append(child)
                continue
            model = solver.model()
            for c, p in candidates:
                if model[self.var[p] - 1] > 0 and model[self.var[c] - 1] < 0:
                    refuted.add(c)
        return out

    def forced(self, selection: Selection, reasons: int = 100) -> tuple[list[Forced], list[str]]:
        """Open features whose value the selection (with the rules) decides, and the free ones.

        Reasons (minimal sets of choices and rules) are computed for the first `reasons`.
        """
        found = self.core_dead(selection)
        decided = dict.fromkeys(found.core, True) | dict.fromkeys(found.dead, False)
        out: list[Forced] = []
        free: list[str] = []
        for name in self.names:
            if name in selection:
                continue
            if name not in decided:
                free.append(name)
                continue
            value = decided[name]
            because = self.why_not(selection, name, not value) if len(out) < reasons else None
            out.append(self._forced(selection, name, value, because))
        return out, free

    def _forced(
        self, selection: Selection, feature: str, value: bool, because: Conflict | None
    ) -> Forced:
        derivation = (
            None if because is None else self.derive_forced(selection, feature, value, because)
        )
        return Forced(feature=feature, value=value, because=because, derivation=derivation)

    def lint(self, reasons: int = 100) -> LintReport:
        """Void model, dead, core and false-optional features, with reasons for the first `reasons`."""
        if not self.is_satisfiable():
            void = self.explain({})
            return LintReport(
                satisfiable=False,
                void=void,
                void_derivation=None if void is None else self.derive({}, void),
            )
        forced, _ = self.forced({}, reasons)
        core = tuple(f for f in forced if f.value)
        dead = tuple(f for f in forced if not f.value)
        left = max(0, reasons - len(forced))
        false_optional: list[Forced] = []
        parent_of = dict(self.compiled.optional_children)
        for name in self.false_optional(f.feature for f in dead):
            given = {parent_of[name]: True}
            because = self.why_not(given, name, False) if left > 0 else None
            left -= 1
            false_optional.append(self._forced(given, name, True, because))
        return LintReport(
            satisfiable=True, core=core, dead=dead, false_optional=tuple(false_optional)
        )

    def explain(self, selection: Selection) -> Conflict | None:
        """A minimal set of choices and rules that cannot hold together, or None if consistent."""
        return self._minimal_conflict(selection, [])

    def why_not(self, selection: Selection, feature: str, value: bool) -> Conflict | None:
        """Why `feature` cannot be `value` under the selection: minimal choices and rules."""
        others = {n: on for n, on in selection.items() if n != feature}
        return self._minimal_conflict(others, [self.var[feature] if value else -self.var[feature]])

    def derive(self, selection: Selection, conflict: Conflict) -> Derivation:
        """How the rules of a conflict force each other from its choices (see `derivation`)."""
        return self._derive(selection, conflict, None)

    def derive_forced(
        self, selection: Selection, feature: str, value: bool, because: Conflict
    ) -> Derivation:
        """How the choices and rules of `because` (from `why_not(selection, feature, not
        value)`) force `feature` to `value`, step by step; the root derives that fact."""
        lit = self.var[feature] if value else -self.var[feature]
        return self._derive(selection, because, (Fact(feature, "true", value), lit))

    def _derive(
        self, selection: Selection, conflict: Conflict, goal: tuple[Fact, int] | None
    ) -> Derivation:
        session = self.selecting
        choices = [
            (
                Fact(name, "true", selection[name]),
                self.var[name] if selection[name] else -self.var[name],
            )
            for name in conflict.choices
        ]
        rules = self.compiled.rule_map()
        inputs = [
            RuleInput(
                id=rule_id,
                selector=self.selectors[rule_id],
                candidates=[
                    pair
                    for name in sorted(rules[rule_id].slots, key=self.var.__getitem__)
                    for pair in (
                        (Fact(name, "true", True), self.var[name]),
                        (Fact(name, "true", False), -self.var[name]),
                    )
                ],
            )
            for rule_id in conflict.rules
        ]
        return derive(session, choices, inputs, goal)

    def _minimal_conflict(self, selection: Selection, fixed: Sequence[int]) -> Conflict | None:
        choice_lits = {self.var[n] if on else -self.var[n]: n for n, on in selection.items()}
        session = self.selecting
        minimal = session.minimal_core([*choice_lits, *self.selectors.values()], fixed)
        if minimal is None:
            return None
        return Conflict(
            choices=tuple(sorted(choice_lits[lit] for lit in minimal if lit in choice_lits)),
            rules=tuple(self._rule_of[lit] for lit in minimal if lit in self._rule_of),
        )
