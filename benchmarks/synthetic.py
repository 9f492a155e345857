"""A seeded generator of synthetic product lines for the engine benchmarks.

An instance has N slots of about 15 values each (8 to 22). Every value carries numeric
attributes (level 1..5, mass_kg, power_kw, a cost) and text ones (a family out of six, a set
of family tags, a premium flag), like module variants of a real catalog. Slots sit in clusters
of ten (a vehicle's body, chassis, electrics...): most rules stay inside one cluster, the rest
join any two clusters.

The rules mix the kinds a real rule base holds, in these shares:

- requires, 35 %: ``when A == a: B in [b1, b2]``;
- excludes, 25 %: ``excludes(A == a, B == b)``;
- attribute comparisons between two slots, 15 %: ``A.level <= B.level + 1`` or, scoped by a
  third slot's value, ``A.family == B.family``;
- membership, 12 %: ``A.family in B.tags`` (a set attribute) or ``when B.family == 'f2':
  A in [...]``;
- cardinality, 12 %: ``at_most``/``exactly`` over 3 to 5 conditions;
- sums, 1 % (at least one): the total mass_kg of five slots against a bound.

Satisfiability is guaranteed by planting: a hidden configuration is drawn first and every
rule that it breaks is thrown away and drawn again. The kept rules are otherwise random, so
the product line is large but far from free.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import attrs

from cmf_config.model import AttrValue
from cmf_config.problem import Problem, Slot, Value
from cmf_config.rules import IR, K, Op, Ref, Rule, holds

FAMILIES = ("f0", "f1", "f2", "f3", "f4", "f5")
CLUSTER = 10
SHARES = (
    ("requires", 0.35),
    ("excludes", 0.25),
    ("compare", 0.15),
    ("member", 0.12),
    ("card", 0.12),
    ("sum", 0.01),
)
ATTRIBUTE_TYPES = {
    "level": "int",
    "mass_kg": "float",
    "power_kw": "float",
    "cost": "float",
    "family": "str",
    "tags": "set",
    "premium": "bool",
}


@attrs.frozen(kw_only=True)
class Instance:
    """A generated product line: its problem, its rules and the planted valid configuration."""

    problem: Problem
    rules: tuple[Rule, ...]
    planted: dict[str, int]
    kinds: dict[str, int]

    @property
    def variants(self) -> int:
        """The number of values over all slots."""
        return sum(len(s.values) for s in self.problem.slots)


def generate(slots: int, rules: int, seed: int) -> Instance:
    """Build a product line of `slots` slots and `rules` rules, all satisfied by a planted configuration."""
    rng = random.Random(seed)
    problem = Problem(slots=tuple(_slot(rng, i) for i in range(slots)))
    planted = {s.name: rng.randrange(len(s.values)) for s in problem.slots}
    builder = _Builder(rng, problem)
    quotas = {kind: max(1, round(share * rules)) for kind, share in SHARES}
    quotas["requires"] += rules - sum(quotas.values())
    made: list[Rule] = []
    kinds: dict[str, int] = {}
    for kind, quota in quotas.items():
        kept = 0
        while kept < quota:
            scope, constraint = builder.draw(kind)
            rule = Rule(
                id=f"r{len(made):05d}-{kind}",
                scope=scope,
                constraint=constraint,
                constraint_text=kind,
            )
            if holds(problem, rule, planted):
                made.append(rule)
                kept += 1
        kinds[kind] = kept
    rng.shuffle(made)
    return Instance(problem=problem, rules=tuple(made), planted=planted, kinds=kinds)


def break_configuration(instance: Instance, changes: int, seed: int) -> dict[str, int]:
    """The planted configuration with `changes` values changed, each change breaking some rule."""
    rng = random.Random(seed)
    problem = instance.problem
    by_slot: dict[str, list[Rule]] = {s.name: [] for s in problem.slots}
    for rule in instance.rules:
        for name in rule.slots:
            by_slot[name].append(rule)
    broken = dict(instance.planted)
    changed: set[str] = set()
    while len(changed) < changes:
        slot = rng.choice(problem.slots)
        if slot.name in changed:
            continue
        trial = {
            **broken,
            slot.name: rng.choice([i for i in range(len(slot.values)) if i != broken[slot.name]]),
        }
        if any(not holds(problem, rule, trial) for rule in by_slot[slot.name]):
            broken = trial
            changed.add(slot.name)
    return broken


def _slot(rng: random.Random, i: int) -> Slot:
    name = f"s{i:03d}"
    values = []
    for j in range(rng.randint(8, 22)):
        family = rng.choice(FAMILIES)
        tags = frozenset({family, *rng.sample(FAMILIES, rng.randint(1, 3))})
        mass = float(rng.randint(5, 120))
        cost = round(rng.uniform(20.0, 900.0), 2)
        attributes: dict[str, AttrValue] = {
            "level": rng.randint(1, 5),
            "mass_kg": mass,
            "power_kw": round(rng.uniform(10.0, 300.0) * 2) / 2,
            "cost": cost,
            "family": family,
            "tags": tags,
            "premium": rng.random() < 0.2,
        }
        values.append(Value(id=f"{name}_v{j:02d}", attributes=attributes, cost=cost, mass_kg=mass))
    return Slot(
        name=name,
        values=tuple(values),
        attribute_types=ATTRIBUTE_TYPES,
        attribute_enums={"family": FAMILIES},
        label=name,
    )


def _eq(slot: Slot, index: int) -> Op:
    return Op("==", (Ref(slot.name), K(slot.values[index].id)))


class _Builder:
    """Draws random rules of one kind over slots chosen with cluster locality."""

    def __init__(self, rng: random.Random, problem: Problem) -> None:
        self.rng = rng
        self.slots = problem.slots

    def pick(self, count: int) -> list[Slot]:
        """`count` distinct slots, usually from one cluster, sometimes from anywhere."""
        n = len(self.slots)
        count = min(count, n)
        if n <= CLUSTER or self.rng.random() < 0.2:
            return self.rng.sample(self.slots, count)
        start = self.rng.randrange(0, n, CLUSTER)
        cluster = self.slots[start : start + CLUSTER]
        if len(cluster) < count:  # the last cluster of a slot count that is no multiple of ten
            return self.rng.sample(self.slots, count)
        return self.rng.sample(cluster, count)

    def value(self, slot: Slot) -> int:
        return self.rng.randrange(len(slot.values))

    def draw(self, kind: str) -> tuple[IR, IR]:
        """A (scope, constraint) pair of the kind."""
        return {
            "requires": self.requires,
            "excludes": self.excludes,
            "compare": self.compare,
            "member": self.member,
            "card": self.card,
            "sum": self.sum,
        }[kind]()

    def requires(self) -> tuple[IR, IR]:
        a, b = self.pick(2)
        ids = frozenset(v.id for v in self.rng.sample(b.values, self.rng.randint(1, 4)))
        constraint: IR = (
            Op("in", (Ref(b.name), K(ids)))
            if len(ids) > 1
            else Op("==", (Ref(b.name), K(next(iter(ids)))))
        )
        return _eq(a, self.value(a)), constraint

    def excludes(self) -> tuple[IR, IR]:
        a, b = self.pick(2)
        return K(True), Op("not", (Op("and", (_eq(a, self.value(a)), _eq(b, self.value(b)))),))

    def compare(self) -> tuple[IR, IR]:
        a, b, c = self.pick(3)
        roll = self.rng.random()
        if roll < 0.4:
            slack = float(self.rng.randint(0, 1))
            right: IR = Op("+", (Ref(b.name, "level"), K(slack))) if slack else Ref(b.name, "level")
            return K(True), Op("<=", (Ref(a.name, "level"), right))
        if roll < 0.7:
            return _eq(c, self.value(c)), Op(
                ">=", (Ref(a.name, "power_kw"), Ref(b.name, "power_kw"))
            )
        return _eq(c, self.value(c)), Op("==", (Ref(a.name, "family"), Ref(b.name, "family")))

    def member(self) -> tuple[IR, IR]:
        a, b = self.pick(2)
        if self.rng.random() < 0.5:
            return _eq(b, self.value(b)), Op("in", (Ref(a.name, "family"), Ref(b.name, "tags")))
        ids = frozenset(v.id for v in self.rng.sample(a.values, len(a.values) // 2))
        scope = Op("==", (Ref(b.name, "family"), K(self.rng.choice(FAMILIES))))
        return scope, Op("in", (Ref(a.name), K(ids)))

    def card(self) -> tuple[IR, IR]:
        chosen = self.pick(self.rng.randint(3, 5))
        if self.rng.random() < 0.5:
            items: Sequence[IR] = [_eq(s, self.value(s)) for s in chosen]
            return K(True), Op("at_most", (K(1.0), *items))
        items = [Ref(s.name, "premium") for s in chosen]
        op = "exactly" if self.rng.random() < 0.3 else "at_most"
        return K(True), Op(op, (K(float(self.rng.randint(0, 2))), *items))

    def sum(self) -> tuple[IR, IR]:
        chosen = self.pick(5)
        terms = tuple(Ref(s.name, "mass_kg") for s in chosen)
        bound = float(self.rng.randint(200, 400))
        return K(True), Op("<=", (Op("+", terms), K(bound)))
