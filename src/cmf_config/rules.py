"""Rule meaning: rule files -> typed, name-resolved expressions; evaluation on configurations.

Every name in a rule is resolved against the problem's slots at load time; an unknown slot,
attribute or id is a positioned error with 'did you mean'. The resolved form (`IR`) is small
and hashable: constants, references to a slot's value or attribute, and operators.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import cast

import attrs

from cmf_config import expr as E
from cmf_config.errors import NO_SPAN, Diagnostic, InputError, Severity, Span
from cmf_config.load import id_problem, structure
from cmf_config.model import KINDS, AttrValue, Catalog
from cmf_config.paths import display_path
from cmf_config.problem import Assignment, Problem
from cmf_config.reprs import shared_repr
from cmf_config.ruleeval import Const, PlainIR, apply
from cmf_config.ruleeval import cmp as _cmp
from cmf_config.ruleeval import num as _num
from cmf_config.source import (
    Document,
    MapNode,
    ScalarNode,
    SeqNode,
    node_at,
    parse_file,
    scalar_offset_span,
)
from cmf_config.suggest import did_you_mean


@shared_repr
@attrs.frozen(repr=False)
class K:
    """A constant."""

    value: Const


@shared_repr
@attrs.frozen(repr=False)
class Ref:
    """A slot's chosen value (attr None: its id, number or truth) or one of its attributes."""

    slot: str
    attr: str | None = None


@shared_repr
@attrs.frozen(repr=False)
class Op:
    """An operator applied to arguments (see `_APPLY`)."""

    op: str
    args: tuple[IR, ...]


IR = K | Ref | Op
TRUE = K(True)
FALSE = K(False)
BOOL_OPS = frozenset({"not", "and", "or", "=>", "<=>", "at_least", "at_most", "exactly"})


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Rule:
    """A compatibility rule: within its scope, its constraint must hold."""

    id: str
    description: str = ""
    severity: Severity = Severity.ERROR
    message: str = ""
    fact: str = ""
    scope: IR = TRUE
    constraint: IR = TRUE
    constraint_text: str = ""
    scope_text: str = ""
    span: Span = attrs.field(default=NO_SPAN, eq=False)
    builtin: bool = False
    formula: IR = attrs.field(init=False, eq=False, repr=False)
    """scope => constraint, simplified; built once (evaluation reads it for every rule)."""

    @formula.default
    def _formula(self) -> IR:
        if self.scope == TRUE:
            return self.constraint
        return Op("=>", (self.scope, self.constraint))

    @property
    def slots(self) -> frozenset[str]:
        """The slots the rule reads."""
        return slots_of(self.formula)


# ------------------------------------------------------------------ evaluation


def ref_value(problem: Problem, ref: Ref, index: int) -> Const:
    """The value a reference reads when its slot holds value `index`."""
    slot = problem.slot(ref.slot)
    value = slot.values[index]
    if ref.attr is None:
        if slot.is_bool:
            return value.id == "true"
        if slot.is_numeric:
            assert value.number is not None
            return value.number
        return value.id
    got: AttrValue | None = value.attributes.get(ref.attr)
    assert got is not None, (ref, value.id)
    if isinstance(got, int) and not isinstance(got, bool):
        return float(got)
    return got


def evaluate(problem: Problem, node: IR, assignment: Assignment) -> Const:
    """Evaluate under a complete assignment of the slots the node reads."""
    if isinstance(node, K):
        return node.value
    if isinstance(node, Ref):
        return ref_value(problem, node, assignment[node.slot])
    if node.op == "and":
        return all(evaluate(problem, a, assignment) for a in node.args)
    if node.op == "or":
        return any(evaluate(problem, a, assignment) for a in node.args)
    if node.op == "=>":  # short-circuit: most rules are out of scope for a given vehicle
        return (not evaluate(problem, node.args[0], assignment)) or bool(
            evaluate(problem, node.args[1], assignment)
        )
    return apply(node.op, [evaluate(problem, a, assignment) for a in node.args])


def plain(node: IR) -> PlainIR:
    """The plain-tuple form of an expression (`ruleeval.evaluate_plain` reads it)."""
    if isinstance(node, K):
        return ("k", node.value)
    if isinstance(node, Ref):
        return ("r", node.slot, node.attr)
    return ("o", node.op, tuple(plain(a) for a in node.args))


def holds(problem: Problem, rule: Rule, assignment: Assignment) -> bool:
    """Whether a rule holds under a complete assignment."""
    return bool(evaluate(problem, rule.formula, assignment))


@functools.cache
def slots_of(node: IR) -> frozenset[str]:
    """The slots an expression reads."""
    if isinstance(node, K):
        return frozenset()
    if isinstance(node, Ref):
        return frozenset({node.slot})
    out: frozenset[str] = frozenset()
    for arg in node.args:
        out |= slots_of(arg)
    return out


def _bounds(problem: Problem, node: IR) -> tuple[float, float] | None:
    """Interval of a numeric expression over its open slots (None when not numeric-known)."""
    if isinstance(node, K):
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return (float(node.value), float(node.value))
        return None
    if isinstance(node, Ref):
        slot = problem.slot(node.slot)
        nums = [ref_value(problem, node, i) for i in range(len(slot.values))]
        if not nums or not all(isinstance(n, float) for n in nums):
            return None
        floats = [float(n) for n in nums]  # type: ignore[arg-type]
        return (min(floats), max(floats))
    parts = [_bounds(problem, a) for a in node.args]
    if any(p is None for p in parts) or not parts:
        return None
    ok = [p for p in parts if p is not None]
    if node.op == "+":
        return (sum(p[0] for p in ok), sum(p[1] for p in ok))
    if node.op == "-":
        return (ok[0][0] - ok[1][1], ok[0][1] - ok[1][0])
    if node.op == "neg":
        return (-ok[0][1], -ok[0][0])
    if node.op == "*":
        corners = [a * b for a in ok[0] for b in ok[1]]
        return (min(corners), max(corners))
    return None


def bind(problem: Problem, node: IR, assignment: Assignment) -> IR:
    """Partially evaluate: substitute assigned slots and fold what becomes constant.

    Comparisons whose outcome the bounds of their open sides already decide fold too, which
    keeps the decision diagrams of sums small.
    """
    if isinstance(node, K):
        return node
    if isinstance(node, Ref):
        if node.slot in assignment:
            return K(ref_value(problem, node, assignment[node.slot]))
        return node
    op = node.op
    args = tuple([bind(problem, a, assignment) for a in node.args])
    if op in ("and", "or"):
        return _bind_connective(op, args)
    if op == "=>":
        implied = _bind_implication(args[0], args[1])
        if implied is not None:
            return implied
    if op == "not" and isinstance(args[0], Op) and args[0].op == "not":
        return args[0].args[0]
    values = [a.value for a in args if isinstance(a, K)]
    if len(values) == len(args):
        return K(apply(op, values))
    if op in E.COMPARISONS and op not in ("==", "!="):
        decided = _decide_by_bounds(problem, op, args[0], args[1])
        if decided is not None:
            return K(decided)
    if op in ("at_least", "at_most", "exactly"):
        return _bind_card(op, args)
    return Op(op, args)


def _bind_connective(op: str, args: tuple[IR, ...]) -> IR:
    """An 'and' or 'or' with its constant arguments folded."""
    absorbing = op == "or"
    kept: list[IR] = []
    for arg in args:
        if isinstance(arg, K):
            if bool(arg.value) == absorbing:
                return K(absorbing)
            continue
        kept.append(arg)
    if not kept:
        return K(not absorbing)
    return kept[0] if len(kept) == 1 else Op(op, tuple(kept))


def _bind_implication(left: IR, right: IR) -> IR | None:
    """left => right folded when a side is constant, else None."""
    if isinstance(left, K):
        return right if left.value else TRUE
    if right == TRUE:
        return TRUE
    if right == FALSE:
        return Op("not", (left,))
    return None


def _bind_card(op: str, args: tuple[IR, ...]) -> IR:
    assert isinstance(args[0], K)
    k = int(_num(args[0].value))
    open_items = [a for a in args[1:] if not isinstance(a, K)]
    true_count = sum(1 for a in args[1:] if isinstance(a, K) and a.value)
    lo, hi = true_count, true_count + len(open_items)
    if op == "at_least":
        if lo >= k:
            return TRUE
        if hi < k:
            return FALSE
    elif op == "at_most":
        if hi <= k:
            return TRUE
        if lo > k:
            return FALSE
    elif k < lo or k > hi:
        return FALSE
    return Op(op, (K(float(k - true_count)), *open_items))


def _decide_by_bounds(problem: Problem, op: str, left: IR, right: IR) -> bool | None:
    lb = _bounds(problem, left)
    rb = _bounds(problem, right)
    if lb is None or rb is None:
        return None
    lo, hi = lb[0] - rb[1], lb[1] - rb[0]  # range of left - right
    if op in ("<", "<="):
        if _cmp(op, hi, 0.0):
            return True
        if not _cmp(op, lo, 0.0):
            return False
    else:
        if _cmp(op, lo, 0.0):
            return True
        if not _cmp(op, hi, 0.0):
            return False
    return None


# ------------------------------------------------------------------ rule files


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class _RuleEntry:
    id: str
    description: str = ""
    when: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    condition: str | None = None
    constraint: str
    severity: str = "error"
    message: str = ""
    fact: str = ""
    span: Span = attrs.field(default=NO_SPAN, eq=False)
    field_spans: Mapping[str, Span] = attrs.field(factory=dict, eq=False)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class _RulesFile:
    rules: tuple[_RuleEntry, ...]


class _Resolver:
    """Resolves syntax trees against a problem; collects diagnostics with exact spans."""

    def __init__(self, problem: Problem, doc: Document, node: ScalarNode) -> None:
        self.problem = problem
        self.doc = doc
        self.node = node
        self.diagnostics: list[Diagnostic] = []

    def span(self, offset: int, length: int) -> Span:
        return scalar_offset_span(self.doc, self.node, offset, length)

    def error(self, code: str, tree: E.Node, message: str, hint: str) -> None:
        self.diagnostics.append(
            Diagnostic(
                code=code,
                span=self.span(tree.offset, max(tree.length, 1)),
                message=message,
                hint=hint,
            )
        )

    def resolve(self, tree: E.Node) -> tuple[IR, str]:
        """Return (IR, type) with type in num, str, bool, set, ?; errors give type '?'."""
        if isinstance(tree, E.Num):
            return K(tree.value), "num"
        if isinstance(tree, E.Str):
            return K(tree.value), "str"
        if isinstance(tree, E.Bool):
            return K(tree.value), "bool"
        if isinstance(tree, E.Name):
            return self.name(tree)
        if isinstance(tree, E.ListLit):
            items = [self.resolve(i) for i in tree.items]
            types = {t for _, t in items if t != "?"}
            if len(types) > 1:
                self.error(
                    "E243",
                    tree,
                    "a list mixes values of different types",
                    "keep all items of one type",
                )
            if types - {"num", "str"}:
                self.error(
                    "E243", tree, "a list for 'in' holds plain values only", "list ids or numbers"
                )
            if all(isinstance(ir, K) for ir, _ in items):
                return K(
                    cast(Const, frozenset(ir.value for ir, _ in items if isinstance(ir, K)))
                ), "set"
            return Op("set", tuple(ir for ir, _ in items)), "set"
        if isinstance(tree, E.Unary):
            operand, kind = self.resolve(tree.operand)
            if tree.op == "not":
                self.expect(tree.operand, kind, "bool")
                return Op("not", (operand,)), "bool"
            self.expect(tree.operand, kind, "num")
            return Op("neg", (operand,)), "num"
        if isinstance(tree, E.Binary):
            return self.binary(tree)
        return self.call(tree)

    def expect(self, tree: E.Node, got: str, want: str) -> None:
        if got not in (want, "?"):
            words = {
                "num": "a number",
                "str": "a text value",
                "bool": "a condition (true/false)",
                "set": "a set",
            }
            self.error(
                "E243",
                tree,
                f"expected {words[want]} here, but this is {words.get(got, got)}",
                "check the operand types",
            )

    def name(self, tree: E.Name) -> tuple[IR, str]:
        head, *rest = tree.parts
        if not self.problem.has(head):
            names = [s.name for s in self.problem.slots]
            hint = (
                f"the names are {', '.join(sorted(names)[:30])}{'...' if len(names) > 30 else ''}"
            )
            if head == "modules":
                hint = "use modules.<attribute> only inside sum(...), e.g. sum(modules.mass_kg)"
            elif len(tree.parts) == 1:
                hint = "quote ids that contain '-': 'cmf-bev'; " + hint
            self.error("E240", tree, f"unknown name '{head}'{did_you_mean(head, names)}", hint)
            return K(False), "?"
        slot = self.problem.slot(head)
        if not rest:
            return Ref(head), "bool" if slot.is_bool else "num" if slot.is_numeric else "str"
        if len(rest) > 1:
            self.error(
                "E241", tree, f"'{'.'.join(tree.parts)}' has too many parts", "write slot.attribute"
            )
            return K(False), "?"
        attr = rest[0]
        kind = slot.attribute_types.get(attr)
        if kind is None:
            known = sorted(slot.attribute_types)
            self.error(
                "E241",
                tree,
                f"{slot.name} has no attribute '{attr}'{did_you_mean(attr, known)}",
                f"the attributes of {slot.name} are {', '.join(known) or '(none)'}",
            )
            return K(False), "?"
        return Ref(head, attr), {"int": "num", "float": "num"}.get(kind, kind)

    def flat(self, tree: E.Binary) -> tuple[IR, str]:
        """A run of `and`, `or` or `+` as one n-ary operator (no recursion along the run)."""
        want = "num" if tree.op == "+" else "bool"
        args: list[IR] = []
        for operand in E.flat_operands(tree):
            ir, kind = self.resolve(operand)
            self.expect(operand, kind, want)
            args.append(ir)
        return Op(tree.op, tuple(args)), want

    def binary(self, tree: E.Binary) -> tuple[IR, str]:
        if tree.op in E.FLAT_OPS:
            return self.flat(tree)
        left, lt = self.resolve(tree.left)
        right, rt = self.resolve(tree.right)
        op = tree.op
        if op in ("=>", "<=>"):
            self.expect(tree.left, lt, "bool")
            self.expect(tree.right, rt, "bool")
            return Op(op, (left, right)), "bool"
        if op in ("-", "*"):
            self.expect(tree.left, lt, "num")
            self.expect(tree.right, rt, "num")
            if op == "*" and slots_of(left) and slots_of(right):
                self.error(
                    "E243",
                    tree,
                    "a product of two slot values is not linear",
                    "multiply by constants only",
                )
            return Op(op, (left, right)), "num"
        if op in ("in", "not in"):
            if rt not in ("set", "?"):
                self.error(
                    "E243",
                    tree.right,
                    "the right side of 'in' must be a list or a set attribute",
                    "write [a, b] or slot.set_attribute",
                )
            if lt not in ("str", "num", "?"):
                self.error(
                    "E243",
                    tree.left,
                    "the left side of 'in' must be an id, a text or a number",
                    "check the operand",
                )
            self.check_ids(tree.left, left, tree.right, right)
            member = Op("in", (left, right))
            return (member if op == "in" else Op("not", (member,))), "bool"
        # comparisons
        if op in ("<", "<=", ">", ">="):
            self.expect(tree.left, lt, "num")
            self.expect(tree.right, rt, "num")
        elif lt != "?" and rt not in ("?", lt):
            self.error(
                "E243", tree, f"cannot compare {lt} with {rt}", "compare values of the same type"
            )
        self.check_ids(tree.left, left, tree.right, right)
        self.check_ids(tree.right, right, tree.left, left)
        return Op(op, (left, right)), "bool"

    def check_ids(self, ref_tree: E.Node, ref: IR, lit_tree: E.Node, lit: IR) -> None:
        """A literal compared with a slot's id or an enum attribute must be a known value."""
        if not isinstance(ref, Ref) or not isinstance(lit, K):
            return
        slot = self.problem.slot(ref.slot)
        if ref.attr is None and not slot.is_bool and not slot.is_numeric:
            known: Sequence[str] = [v.id for v in slot.values]
            what = slot.label or slot.name
        elif ref.attr is not None and ref.attr in slot.attribute_enums:
            known = slot.attribute_enums[ref.attr]
            what = f"{slot.name}.{ref.attr} value"
        else:
            return
        values = sorted(lit.value) if isinstance(lit.value, frozenset) else [lit.value]
        for value in values:
            if isinstance(value, str) and value not in known:
                target = lit_tree
                if isinstance(lit_tree, E.ListLit):
                    target = next(
                        (i for i in lit_tree.items if isinstance(i, E.Str) and i.value == value),
                        lit_tree,
                    )
                self.error(
                    "E242",
                    target,
                    f"unknown {what} '{value}'{did_you_mean(value, known)}",
                    f"see `cmf-config catalog list` for the {slot.name} values",
                )

    def call(self, tree: E.Call) -> tuple[IR, str]:
        if tree.name == "sum":
            return self.call_sum(tree)
        if tree.name in ("excludes", "requires"):
            if len(tree.args) != 2:
                self.error(
                    "E244", tree, f"{tree.name}() takes two conditions", f"write {tree.name}(a, b)"
                )
                return K(False), "?"
            a, at = self.resolve(tree.args[0])
            b, bt = self.resolve(tree.args[1])
            self.expect(tree.args[0], at, "bool")
            self.expect(tree.args[1], bt, "bool")
            if tree.name == "requires":
                return Op("=>", (a, b)), "bool"
            return Op("not", (Op("and", (a, b)),)), "bool"
        # at_least / at_most / exactly
        if (
            len(tree.args) != 2
            or not isinstance(tree.args[0], E.Num)
            or not isinstance(tree.args[1], E.ListLit)
        ):
            self.error(
                "E244",
                tree,
                f"{tree.name}() takes a whole number and a list of conditions",
                f"write {tree.name}(1, [a, b, c])",
            )
            return K(False), "?"
        k = tree.args[0].value
        if k < 0 or not float(k).is_integer():
            self.error(
                "E244", tree.args[0], "the count must be a whole number >= 0", "write 0, 1, 2, ..."
            )
        items = []
        for item in tree.args[1].items:
            ir, kind = self.resolve(item)
            self.expect(item, kind, "bool")
            items.append(ir)
        return Op(tree.name, (K(float(k)), *items)), "bool"

    def call_sum(self, tree: E.Call) -> tuple[IR, str]:
        terms: list[IR] = []
        for arg in tree.args:
            if isinstance(arg, E.Name) and arg.parts[0] == "modules" and len(arg.parts) == 2:
                attr = arg.parts[1]
                for kind in KINDS:
                    if not self.problem.has(kind):
                        continue
                    slot = self.problem.slot(kind)
                    if slot.attribute_types.get(attr) not in ("int", "float"):
                        self.error(
                            "E241",
                            arg,
                            f"{kind} has no numeric attribute '{attr}'{did_you_mean(attr, slot.attribute_types)}",
                            "sum a numeric attribute every module kind has, e.g. mass_kg, cost",
                        )
                        return K(0.0), "?"
                    terms.append(Ref(kind, attr))
                continue
            ir, kind_name = self.resolve(arg)
            self.expect(arg, kind_name, "num")
            terms.append(ir)
        if not terms:
            self.error(
                "E244",
                tree,
                "sum() needs at least one term",
                "write sum(modules.mass_kg) or sum(a, b)",
            )
            return K(0.0), "?"
        return (Op("+", tuple(terms)) if len(terms) > 1 else terms[0]), "num"


def compile_expression(
    problem: Problem, doc: Document, node: ScalarNode, what: str
) -> tuple[IR, list[Diagnostic]]:
    """Parse and resolve one expression held in a YAML scalar; return (IR, diagnostics)."""
    if not isinstance(node.value, str):
        return FALSE, [
            Diagnostic(
                code="E203",
                span=node.span,
                message=f"the {what} must be an expression in quotes",
                hint="quote the expression",
            )
        ]
    try:
        tree = E.parse_expression(node.value)
    except E.ExprSyntaxError as exc:
        return FALSE, [
            Diagnostic(
                code="E120",
                span=scalar_offset_span(doc, node, exc.offset, exc.length),
                message=f"syntax error in the {what}: {exc.message}",
                hint=exc.hint,
            )
        ]
    resolver = _Resolver(problem, doc, node)
    ir, kind = resolver.resolve(tree)
    if kind not in ("bool", "?"):
        resolver.error(
            "E243",
            tree,
            f"the {what} must be a condition (true or false), not a {kind} value",
            "compare it with something, e.g. x == 'a'",
        )
    return ir, resolver.diagnostics


def _when_ir(
    problem: Problem, doc: Document, index: int, entry: _RuleEntry
) -> tuple[IR, list[Diagnostic]]:
    parts: list[IR] = []
    diags: list[Diagnostic] = []
    when_node = node_at(doc.root, ("rules", index, "when"))
    for slot_name, ids in entry.when.items():
        key = when_node.key_node(slot_name) if isinstance(when_node, MapNode) else None
        value_node = when_node.get(slot_name) if isinstance(when_node, MapNode) else None
        if not problem.has(slot_name):
            names = [s.name for s in problem.slots]
            diags.append(
                Diagnostic(
                    code="E240",
                    span=key.span if key else entry.span,
                    message=f"unknown name '{slot_name}' in 'when'{did_you_mean(slot_name, names)}",
                    hint="scope a rule by slot names such as brand, platform, powertrain, market",
                )
            )
            continue
        slot = problem.slot(slot_name)
        known = [v.id for v in slot.values]
        for i, value in enumerate(ids):
            if value not in known:
                item = (
                    value_node.items[i]
                    if isinstance(value_node, SeqNode) and i < len(value_node.items)
                    else value_node
                )
                diags.append(
                    Diagnostic(
                        code="E242",
                        span=item.span if item is not None else entry.span,
                        message=f"unknown {slot.label or slot.name} '{value}'{did_you_mean(value, known)}",
                        hint=f"see `cmf-config catalog list` for the {slot.name} values",
                    )
                )
        parts.append(Op("in", (Ref(slot_name), K(frozenset(ids)))))
    if not parts:
        return TRUE, diags
    return (parts[0] if len(parts) == 1 else Op("and", tuple(parts))), diags


def load_rules(directory: Path, problem: Problem) -> list[Rule]:
    """Load every rules/*.yaml file against a problem; raise InputError with every problem."""
    diagnostics: list[Diagnostic] = []
    rules: list[Rule] = []
    seen: dict[str, Span] = {}
    if not directory.is_dir():
        raise InputError(
            [
                Diagnostic(
                    code="E001",
                    span=Span(display_path(directory), 0, 0),  # a folder: no line
                    message="the rules directory does not exist",
                    hint="give --rules the path of a directory holding *.yaml rule files",
                )
            ]
        )
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise InputError([_nothing_to_check(directory, "holds no rule files (*.yaml)")])
    for path in files:
        try:
            doc = parse_file(path, display_path(path))
            parsed = structure(doc, _RulesFile)
        except InputError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        for index, entry in enumerate(parsed.rules):
            rule, diags = _compile_rule(problem, doc, index, entry)
            diagnostics.extend(diags)
            id_span = entry.field_spans.get("id", entry.span)
            invisible = id_problem(entry.id)
            if invisible is not None:
                diagnostics.append(
                    Diagnostic(
                        code="E203",
                        span=id_span,
                        message=f"the rule id '{entry.id}' {invisible}",
                        hint="retype the id with letters, digits, '-' and '_' only",
                    )
                )
            if entry.id in seen:
                diagnostics.append(
                    Diagnostic(
                        code="E210",
                        span=id_span,
                        message=f"duplicate rule id '{entry.id}' (first defined at {seen[entry.id]})",
                        hint="give every rule a unique id",
                    )
                )
            seen.setdefault(entry.id, id_span)
            if rule is not None:
                rules.append(rule)
    if diagnostics:
        raise InputError(diagnostics)
    if not rules:
        raise InputError([_nothing_to_check(directory, "holds rule files but no rules")])
    return rules


def _nothing_to_check(directory: Path, what: str) -> Diagnostic:
    """A check with nothing to check against is an error, never a pass."""
    return Diagnostic(
        code="E002",
        span=Span(display_path(directory), 0, 0),  # a folder: no line
        message=f"the rules folder {what}: nothing would be checked",
        hint="point --rules (or `rules` in cmf-config.toml) at the folder of your rule files; "
        "`cmf-config init` writes a starting set",
    )


def _compile_rule(
    problem: Problem, doc: Document, index: int, entry: _RuleEntry
) -> tuple[Rule | None, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    if entry.severity not in ("error", "warning"):
        diags.append(
            Diagnostic(
                code="E203",
                span=entry.field_spans.get("severity", entry.span),
                message=f"unknown severity '{entry.severity}'{did_you_mean(entry.severity, ['error', 'warning'])}",
                hint="write error or warning",
            )
        )
    scope, when_diags = _when_ir(problem, doc, index, entry)
    diags += when_diags
    if entry.condition is not None:
        cond_node = node_at(doc.root, ("rules", index, "condition"))
        assert isinstance(cond_node, ScalarNode)
        cond, cond_diags = compile_expression(problem, doc, cond_node, "condition")
        diags += cond_diags
        scope = cond if scope == TRUE else Op("and", (scope, cond))
    constraint_node = node_at(doc.root, ("rules", index, "constraint"))
    assert isinstance(constraint_node, ScalarNode)
    constraint, c_diags = compile_expression(problem, doc, constraint_node, "constraint")
    diags += c_diags
    if diags:
        return None, diags
    rule = Rule(
        id=entry.id,
        description=entry.description,
        severity=Severity.WARNING if entry.severity == "warning" else Severity.ERROR,
        message=entry.message or entry.description,
        fact=entry.fact,
        scope=scope,
        constraint=constraint,
        constraint_text=str(constraint_node.value),
        scope_text=", ".join(f"{k} in [{', '.join(v)}]" for k, v in entry.when.items())
        + (f" and {entry.condition}" if entry.condition and entry.when else entry.condition or ""),
        span=entry.field_spans.get("id", entry.span),
    )
    return rule, []


def platform_rules(catalog: Catalog, problem: Problem) -> list[Rule]:
    """Built-in rules: a platform admits only the module variants its `modules` list names."""
    out: list[Rule] = []
    for platform in sorted(catalog.platforms.values(), key=lambda p: p.id):
        for kind in KINDS:
            if not problem.has(kind):
                continue
            allowed = frozenset(
                m
                for m in platform.modules
                if m in catalog.modules and catalog.modules[m].kind == kind
            )
            out.append(
                Rule(
                    id=f"platform:{platform.id}:{kind}",
                    description=f"platform {platform.name} admits only its listed {kind.replace('_', ' ')} variants",
                    message=f"platform '{platform.id}' ({platform.name}) admits only these {kind.replace('_', ' ')} variants: {', '.join(sorted(allowed)) or '(none)'}",
                    fact="catalog/platforms.yaml modules list",
                    scope=Op("==", (Ref("platform"), K(platform.id))),
                    constraint=Op("in", (Ref(kind), K(allowed))),
                    constraint_text=f"{kind} in platform.modules",
                    scope_text=f"platform == '{platform.id}'",
                    span=platform.field_spans.get("modules", platform.span),
                    builtin=True,
                )
            )
    return out


def rules_by_id(rules: Iterable[Rule]) -> dict[str, Rule]:
    """Index rules by id."""
    return {r.id: r for r in rules}


def year_rules(catalog: Catalog, problem: Problem, year: int) -> list[Rule]:
    """Built-in rules for "buildable in `year`": the platform was launched, the E/E was built.

    They are ordinary engine constraints (a membership per slot), so counting, enumerating and
    the options step answer for that year exactly, like any other rule. A platform without a
    launch year, or an E/E architecture without an era, is buildable in no year.
    """
    platforms = frozenset(
        p.id
        for p in catalog.platforms.values()
        if p.launch_year is not None and p.launch_year <= year
    )
    ees = frozenset(
        m.id
        for m in catalog.modules_of("ee_architecture")
        if m.era is not None and m.era.contains(year)
    )
    out = [
        Rule(
            id=f"year:{year}:platform",
            description=f"the platform was launched by {year}",
            message=f"in {year} only these platforms had been launched: {', '.join(sorted(platforms)) or '(none)'}",
            fact="catalog/platforms.yaml launch_year (docs/catalog.md §11)",
            constraint=Op("in", (Ref("platform"), K(platforms))),
            constraint_text=f"platform.launch_year <= {year}",
            builtin=True,
        )
    ]
    if problem.has("ee_architecture"):
        out.append(
            Rule(
                id=f"year:{year}:ee_architecture",
                description=f"the E/E architecture generation was built in {year}",
                message=f"in {year} only these E/E architectures were built: {', '.join(sorted(ees)) or '(none)'}",
                fact="catalog/modules-ee-architecture.yaml era (docs/catalog.md §11)",
                constraint=Op("in", (Ref("ee_architecture"), K(ees))),
                constraint_text=f"ee_architecture.era contains {year}",
                builtin=True,
            )
        )
    return out
