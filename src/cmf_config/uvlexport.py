"""A CMF catalog and its rules -> UVL text that flamapy and FeatureIDE open.

Each one-of slot (brand, platform, the five big modules, options...) becomes an abstract
mandatory feature with an alternative group of value features (`platform_mqb_evo`); each boolean
option becomes an optional feature. Attributes of values travel as UVL attributes.

Each error-severity rule is grounded into a boolean formula over those features: connectives
stay as they are, and every atom that reads slots (comparisons, attribute tests, sums) becomes
a decision diagram over the slots it reads, in slot order, written out as a disjunction of
`value & rest` terms. A diagram too large to write flat is written with hidden abstract
features, one per shared node, each defined value by value (`platform_x => (aux_3 <=> aux_7)`;
the values of a slot form an alternative group, so exactly one of these applies): a defined
feature never adds configurations, so the exported model has exactly as many configurations
as the catalog. Rules that would need more than `MAX_NODES` nodes, and warning rules (advice,
not constraints), are skipped, listed in a comment at the top of the file and returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import attrs

from cmf_config.errors import Severity
from cmf_config.fmodel import Attributes, Feature, FeatureModel, Group, UvlValue
from cmf_config.problem import Problem
from cmf_config.reprs import shared_repr
from cmf_config.rules import IR, K, Op, Ref, Rule, bind, slots_of

MAX_NODES = 50000
FLAT_LIMIT = 400
KEYWORDS = frozenset(
    [
        "namespace",
        "features",
        "constraints",
        "constraint",
        "imports",
        "include",
        "as",
        "cardinality",
        "String",
        "Boolean",
        "Integer",
        "Real",
        "len",
        "sum",
        "avg",
        "floor",
        "ceil",
        "Type",
        "Arithmetic",
        "or",
        "alternative",
        "optional",
        "mandatory",
        "true",
        "false",
        "abstract",
    ]
)
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Export:
    """UVL text, the rules written as constraints and the rules skipped (id, reason)."""

    text: str
    written: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    features: int


def uvl_name(raw: str) -> str:
    """A UVL reference for a feature name: plain when possible, else in double quotes."""
    if _PLAIN.match(raw) and raw not in KEYWORDS:
        return raw
    cleaned = raw.replace('"', "'").replace(".", "_").replace("\n", " ").replace("\r", " ") or "_"
    return f'"{cleaned}"'


def _string(value: str) -> str:
    cleaned = value.replace("'", "\u2019").replace("\n", " ").replace("\r", " ")
    return f"'{cleaned}'" if cleaned else "' '"


def _attr_value(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, frozenset):
        items = [_attr_value(v) for v in sorted(value, key=str)]
        return "[" + ", ".join(i for i in items if i is not None) + "]"
    return None


class _Namer:
    """Unique feature names: slot name for a slot, slot_value for a value."""

    def __init__(self, problem: Problem) -> None:
        self.used: set[str] = {"CMF"}
        self.slot: dict[str, str] = {}
        self.value: dict[tuple[str, int], str] = {}
        for slot in problem.slots:
            self.slot[slot.name] = self.fresh(slot.name)
        for slot in problem.slots:
            if slot.is_bool:
                continue
            for index, value in enumerate(slot.values):
                self.value[(slot.name, index)] = self.fresh(f"{slot.name}_{value.id}")

    def fresh(self, base: str) -> str:
        name = re.sub(r"[^A-Za-z0-9_]", "_", base)
        if not name or not name[0].isalpha():
            name = f"f_{name}"
        candidate, n = name, 2
        while candidate in self.used or candidate in KEYWORDS:
            candidate = f"{name}_{n}"
            n += 1
        self.used.add(candidate)
        return candidate


class _TooLarge(Exception):
    """A rule whose diagram exceeds MAX_NODES."""


class _Grounder:
    """Turns rule formulas into UVL constraint text over the exported features."""

    def __init__(self, problem: Problem, namer: _Namer) -> None:
        self.problem = problem
        self.namer = namer
        self.order = {s.name: i for i, s in enumerate(problem.slots)}
        self.aux: list[tuple[str, list[str]]] = []  # (hidden feature, its defining constraints)
        self._aux_of: dict[IR, str] = {}
        self._structural: dict[tuple[str, tuple[str | bool, ...]], str] = {}
        self._nodes = 0

    def literal(self, slot: str, index: int) -> str:
        """The formula 'slot holds value index'."""
        s = self.problem.slot(slot)
        if s.is_bool:
            name = self.namer.slot[slot]
            return name if index == 1 else f"!{name}"
        return self.namer.value[(slot, index)]

    def ground(self, ir: IR) -> str:
        """Constraint text equivalent to a boolean rule formula."""
        self._nodes = 0
        return self._formula(ir)

    def _formula(self, ir: IR) -> str:
        if isinstance(ir, K):
            return self.true() if ir.value else self.false()
        if (
            isinstance(ir, Op)
            and ir.op in ("not", "and", "or", "=>", "<=>")
            and len(slots_of(ir)) > 1
        ):
            parts = [self._formula(a) for a in ir.args]
            if ir.op == "not":
                return f"!({parts[0]})"
            if ir.op == "and":
                return " & ".join(f"({p})" for p in parts) if parts else self.true()
            if ir.op == "or":
                return " | ".join(f"({p})" for p in parts)
            return f"({parts[0]}) {ir.op} ({parts[1]})"
        size = self._size(ir, {})
        if size <= FLAT_LIMIT:
            return self._flat(ir)
        return self._shared(ir)

    def _children(self, ir: IR) -> tuple[str, list[IR]]:
        slot = min(slots_of(ir), key=self.order.__getitem__)
        return slot, [
            bind(self.problem, ir, {slot: i}) for i in range(len(self.problem.slot(slot).values))
        ]

    def _size(self, ir: IR, memo: dict[IR, int]) -> int:
        """Size of the flat (unshared) expansion, capped; raises _TooLarge past MAX_NODES nodes."""
        if isinstance(ir, K):
            return 0
        found = memo.get(ir)
        if found is not None:
            return found
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _TooLarge
        _, children = self._children(ir)
        total = len(children) + sum(self._size(c, memo) for c in children)
        memo[ir] = min(total, FLAT_LIMIT * 4)
        return memo[ir]

    def _flat(self, ir: IR) -> str:
        if isinstance(ir, K):
            return self.true() if ir.value else self.false()
        slot, children = self._children(ir)
        terms: list[str] = []
        for index, child in enumerate(children):
            if isinstance(child, K):
                if child.value:
                    terms.append(self.literal(slot, index))
                continue
            terms.append(f"{self.literal(slot, index)} & ({self._flat(child)})")
        if not terms:
            return self.false()
        return " | ".join(f"({t})" if "&" in t or "|" in t else t for t in terms)

    def false(self) -> str:
        """A contradiction (UVL constraints have no constant)."""
        return "(CMF & !CMF)"

    def true(self) -> str:
        """A tautology."""
        return "(CMF | !CMF)"

    def _shared(self, ir: IR) -> str:
        """A literal for the node: a value feature when the node is one, else a hidden feature
        defined value by value, `v => (node <=> child)`. The values of a slot form an
        alternative group (exactly one holds), so this defines the node as OR(v & child) in two
        clauses per value. Nodes with the same children are one feature (as in encode.py)."""
        if isinstance(ir, K):
            return self.true() if ir.value else self.false()
        found = self._aux_of.get(ir)
        if found is not None:
            return found
        slot, children = self._children(ir)
        parts: list[str | bool] = [
            self._shared(child) if not isinstance(child, K) else bool(child.value)
            for child in children
        ]
        trues = [i for i, p in enumerate(parts) if p is True]
        falses = [i for i, p in enumerate(parts) if p is False]
        if len(trues) == 1 and len(falses) == len(parts) - 1:
            name = self.literal(slot, trues[0])
        elif len(falses) == 1 and len(trues) == len(parts) - 1:
            lit = self.literal(slot, falses[0])
            name = lit[1:] if lit.startswith("!") else f"!{lit}"
        else:
            key = (slot, tuple(parts))
            name = self._structural.get(key, "")
            if not name:
                name = self.namer.fresh(f"aux_{len(self.aux) + 1}")
                lines: list[str] = []
                for index, part in enumerate(parts):
                    value = self.literal(slot, index)
                    if isinstance(part, bool):
                        lines.append(f"{value} => {'' if part else '!'}{name}")
                    else:
                        lines.append(f"{value} => ({name} <=> {part})")
                self.aux.append((name, lines))
                self._structural[key] = name
        self._aux_of[ir] = name
        return name


def _ground_rules(
    grounder: _Grounder, rules: Sequence[Rule]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(rule id, constraint text) of every rule UVL can hold, and (rule id, why) of the rest."""
    written: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for rule in rules:
        if rule.severity is not Severity.ERROR:
            skipped.append((rule.id, "a warning rule (advice, not a constraint)"))
            continue
        formula = rule.formula
        if isinstance(formula, K):
            if not formula.value:
                written.append((rule.id, grounder.false()))
            continue
        try:
            text = grounder.ground(formula)
        except _TooLarge:
            skipped.append((rule.id, f"its decision diagram has more than {MAX_NODES} nodes"))
            continue
        written.append((rule.id, text))
    return written, skipped


def export_uvl(
    problem: Problem, rules: Sequence[Rule], namespace: str = "CMF", source: str = ""
) -> Export:
    """The catalog problem and its rules as UVL text."""
    namer = _Namer(problem)
    grounder = _Grounder(problem, namer)
    written, skipped = _ground_rules(grounder, rules)
    # comments go after the namespace: the UVL grammar allows no line before it
    lines = [
        f"namespace {uvl_name(namespace)}",
        f"// Exported by cmf-config{f' from {source}' if source else ''}: {len(problem.slots)} slots, {len(written)} rules.",
    ]
    for rule_id, reason in skipped:
        lines.append(f"// skipped rule {rule_id}: {reason}")
    lines += ["", "features", "\tCMF {abstract}"]
    one_of = [s for s in problem.slots if not s.is_bool]
    options = [s for s in problem.slots if s.is_bool]
    if one_of:
        lines.append("\t\tmandatory")
        for slot in one_of:
            lines.append(f"\t\t\t{namer.slot[slot.name]} {{abstract{_label(slot.label)}}}")
            lines.append("\t\t\t\talternative")
            for index, value in enumerate(slot.values):
                lines.append(
                    f"\t\t\t\t\t{namer.value[(slot.name, index)]}{_attributes(value.id, value.attributes)}"
                )
    if options or grounder.aux:
        lines.append("\t\toptional")
        for slot in options:
            lines.append(
                f"\t\t\t{namer.slot[slot.name]}{_attributes(slot.name, {'name': slot.label} if slot.label else {})}"
            )
        for name, _ in grounder.aux:
            lines.append(f"\t\t\t{name} {{abstract, hidden}}")
    if written or grounder.aux:
        lines += ["", "constraints"]
        for _, definition in grounder.aux:
            lines += [f"\t{line}" for line in definition]
        for rule_id, text in written:
            lines.append(f"\t{text} // {_comment(rule_id)}")
    features = 1 + len(problem.slots) + sum(len(s.values) for s in one_of) + len(grounder.aux)
    return Export(
        text="\n".join(lines) + "\n",
        written=tuple(r for r, _ in written),
        skipped=tuple(skipped),
        features=features,
    )


def _label(label: str) -> str:
    return f", name {_string(label)}" if label else ""


def _comment(text: str) -> str:
    return text.replace("\n", " ").replace("*/", "* /")


def _attributes(value_id: str, attributes: Mapping[str, object]) -> str:
    items: list[str] = [f"id {_string(value_id)}"]
    for key, value in sorted(attributes.items()):
        if key == "id":
            continue
        rendered = _attr_value(value)
        if rendered is not None and _PLAIN.match(key) and key not in KEYWORDS:
            items.append(f"{key} {rendered}")
    return " {" + ", ".join(items) + "}"


def names_of(export: Export) -> Iterable[str]:
    """The rule ids an export wrote (for reports)."""
    return export.written


# ------------------------------------------------------------------ feature models


def feature_model_uvl(model: FeatureModel) -> str:
    """A feature model (read from UVL or DIMACS) as normalised UVL text with the same count.

    A DIMACS model has no tree: its variables become optional children of an abstract root
    `Model` (always selected, so the count is unchanged) and its clauses constraints.
    """
    children: dict[str, list[Group]] = {}
    for group in model.groups:
        children.setdefault(group.parent, []).append(group)
    by_name = {f.name: f for f in model.features}
    # comments go after the namespace: the UVL grammar allows no line before it
    lines = [f"namespace {uvl_name(model.namespace)}"] if model.namespace else []
    lines += [f"// Written by cmf-config from {model.path} ({model.kind})", "", "features"]
    if model.root is None:
        root = "Model"
        n = 2
        while root in by_name:
            root = f"Model_{n}"
            n += 1
        lines.append(f"\t{root} {{abstract}}")
        if model.features:
            lines.append("\t\toptional")
            lines += [f"\t\t\t{uvl_name(f.name)}{_fm_attributes(f)}" for f in model.features]
    else:
        _write_feature(lines, by_name[model.root], children, by_name, 1)
    constraints = model.all_constraints()
    if constraints:
        lines += ["", "constraints"]
        lines += [f"\t{formula_text(c.formula)}" for c in constraints]
    return "\n".join(lines) + "\n"


def _write_feature(
    lines: list[str],
    feature: Feature,
    children: Mapping[str, list[Group]],
    by_name: Mapping[str, Feature],
    depth: int,
) -> None:
    # iterative: real models nest deeper than Python's recursion limit allows
    stack: list[tuple[Feature | Group, int]] = [(feature, depth)]
    while stack:
        item, level = stack.pop()
        tabs = "\t" * level
        if isinstance(item, Feature):
            lines.append(f"{tabs}{uvl_name(item.name)}{_fm_attributes(item)}")
            for group in reversed(children.get(item.name, [])):
                stack.append((group, level + 1))
            continue
        keyword = (
            item.kind
            if item.kind != "cardinality"
            else f"[{item.low}..{'*' if item.high is None else item.high}]"
        )
        lines.append(f"{tabs}{keyword}")
        for name in reversed(item.children):
            stack.append((by_name[name], level + 1))


def _fm_attributes(feature: Feature) -> str:
    items = [_fm_attribute(k, v) for k, v in feature.attributes.items]
    if feature.abstract and not any(k == "abstract" for k, _ in feature.attributes.items):
        items.insert(0, "abstract")
    return f" {{{', '.join(items)}}}" if items else ""


def _fm_attribute(key: str, value: UvlValue) -> str:
    return uvl_name(key) if value is None else f"{uvl_name(key)} {_fm_value(value)}"


def _fm_value(value: UvlValue) -> str:
    if isinstance(value, Attributes):
        return "{" + ", ".join(_fm_attribute(k, v) for k, v in value.items) + "}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_fm_value(v) for v in value) + "]"
    rendered = _attr_value(value)
    return rendered if rendered is not None else "' '"


_PRECEDENCE = {"<=>": 0, "=>": 1, "or": 2, "and": 3, "not": 4}
_SYMBOL = {"<=>": "<=>", "=>": "=>", "or": "|", "and": "&"}


def _level(ir: IR) -> int:
    if isinstance(ir, Op) and (len(ir.args) != 1 or ir.op == "not"):
        return _PRECEDENCE.get(ir.op, 5)
    return 5


def formula_text(ir: IR) -> str:
    """A boolean formula over features as UVL constraint text, parenthesised where the grammar
    needs it (and around nested => and <=>, which read ambiguously to people)."""
    if isinstance(ir, Ref):
        return uvl_name(ir.slot)
    if isinstance(ir, K):
        return "(Model | !Model)" if ir.value else "(Model & !Model)"
    if ir.op == "not":
        inner = formula_text(ir.args[0])
        return f"!({inner})" if _level(ir.args[0]) < 4 else f"!{inner}"
    if not ir.args:
        return "(Model & !Model)" if ir.op == "or" else "(Model | !Model)"
    if len(ir.args) == 1:
        return formula_text(ir.args[0])
    level = _PRECEDENCE[ir.op]
    parts = []
    for arg in ir.args:
        written = formula_text(arg)
        arg_level = _level(arg)
        parts.append(
            f"({written})"
            if arg_level < level or (arg_level == level and ir.op in ("=>", "<=>"))
            else written
        )
    return f" {_SYMBOL[ir.op]} ".join(parts)
