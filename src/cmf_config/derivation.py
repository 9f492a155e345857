"""Conflicts and their derivations: why a set of choices and rules cannot hold, step by step.

A `Conflict` is a minimal set of choices and rules (drop any one and the rest can hold). Its
`Derivation` says in which order the rules force each other, in the manner of PubGrub's
derivation trees: external facts (`Chosen`: a choice; `Applied`: a rule) and derived facts
(`Derived`: slot = value or slot != value, or the conflict itself), each derived from a rule
and the facts before it. It is found by unit propagation *at the level of rules*, inside the
minimal conflict: starting from the choices, a rule that (with what is known so far) forces a
slot fact adds it; the first rule that what is known breaks closes the derivation. The same
steps explain a forced fact (a feature that a selection and the rules decide): there the
derivation ends with that fact instead of a conflict. Each step
keeps only a minimal set of the facts it needs (a shrunk core of one SAT call), so the tree
cites nothing superfluous. This module holds data only; `report.py` words it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

from cmf_config.sat import SatBackend, minimal_core

# Plain classes (tuples and __slots__), not attrs: the fast path (quick.py) words conflicts
# and derivations too, and importing attrs would cost it more than its whole answer.


class Conflict(NamedTuple):
    """A minimal conflict: choices and rules that cannot all hold (drop any one and they can)."""

    choices: tuple[str, ...]
    rules: tuple[str, ...]


class Fact(NamedTuple):
    """slot = value (`holds`) or slot != value (not `holds`). For a boolean slot (a feature)
    the value is 'true': holds = selected."""

    slot: str
    value: str
    holds: bool


class Chosen(NamedTuple):
    """External: a choice the user made."""

    fact: Fact


class Applied(NamedTuple):
    """External: a rule."""

    rule: str


class Derived:
    """A fact derived from its causes: the facts it needs (choices or derived facts) and the
    rules that force it. `fact` None: the conflict itself (the causes cannot hold together).
    Compared by identity: a step of one derivation."""

    __slots__ = ("causes", "fact")

    def __init__(self, fact: Fact | None, causes: tuple[Chosen | Applied | Derived, ...]) -> None:
        self.fact = fact
        self.causes = causes

    def __repr__(self) -> str:
        return f"Derived(fact={self.fact!r}, causes={self.causes!r})"

    @property
    def premises(self) -> tuple[Chosen | Derived, ...]:
        """The facts this step needs."""
        return tuple(c for c in self.causes if not isinstance(c, Applied))

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules this step applies."""
        return tuple(c.rule for c in self.causes if isinstance(c, Applied))


Node = Chosen | Applied | Derived


class Derivation(NamedTuple):
    """A conflict as a tree whose root is the conflict itself (`root.fact` None), or a forced
    fact as a tree whose root derives that fact."""

    root: Derived

    def steps(self) -> list[Derived]:
        """The derived facts, each after the facts it needs (post-order, each once), root last."""
        out: list[Derived] = []
        seen: set[int] = set()

        def visit(node: Derived) -> None:
            if id(node) in seen:
                return
            seen.add(id(node))
            for cause in node.premises:
                if isinstance(cause, Derived):
                    visit(cause)
            out.append(node)

        visit(self.root)
        return out

    def choices(self) -> Iterator[Fact]:
        """Every choice the derivation cites (in order of the steps, each once)."""
        seen: set[Fact] = set()
        for step in self.steps():
            for cause in step.premises:
                if isinstance(cause, Chosen) and cause.fact not in seen:
                    seen.add(cause.fact)
                    yield cause.fact


class RuleInput(NamedTuple):
    """A rule for `derive`: its id, the assumption literal that switches it on, and the slot
    facts it may force, each with its literal."""

    id: str
    selector: int
    candidates: Sequence[tuple[Fact, int]]


def derive(
    session: SatBackend,
    choices: Sequence[tuple[Fact, int]],
    rules: Sequence[RuleInput],
    goal: tuple[Fact, int] | None = None,
) -> Derivation:
    """The derivation of a conflict between `choices` and `rules` (which must not hold together
    in `session`, where rules are switched on by their selectors); with `goal`, a fact (and its
    literal) that `choices` and `rules` imply, the derivation of that fact: it ends as soon as
    the goal is derived.

    One fact is added at a time, so that the derivation reads as a chain: of the facts some
    rule forces, the one needing the fewest choices, then the one building on the latest
    fact, then the first by rule order. After each, the rules reading its slot are asked
    whether they are broken now (the end) or force something new. Only facts about slots that
    another rule of the conflict reads are derived: no other rule could take them further.
    """
    return _Deriver(session, choices, rules, goal).run()


class _Deriver:
    """The state of one derivation: facts known (with how), facts found but not yet used."""

    def __init__(
        self,
        session: SatBackend,
        choices: Sequence[tuple[Fact, int]],
        rules: Sequence[RuleInput],
        goal: tuple[Fact, int] | None,
    ) -> None:
        self.session = session
        self.rules = rules
        self.goal = goal
        self.goal_lit = goal[1] if goal is not None else 0
        self.readers: dict[str, int] = {}
        for rule in rules:
            for slot in {fact.slot for fact, _ in rule.candidates}:
                self.readers[slot] = self.readers.get(slot, 0) + 1
        self.known: dict[int, Chosen | Derived] = {lit: Chosen(fact) for fact, lit in choices}
        self.settled = {fact.slot for fact, _ in choices if fact.holds}
        self.recency: dict[int, int] = {}
        self.pending: dict[int, tuple[tuple[int, int, int, int], Derived]] = {}

    def run(self) -> Derivation:
        """Add facts until a rule is broken; if none is, the rules together close it."""
        affected = list(self.rules)
        while True:
            for rule in affected:
                needed = minimal_core(self.session, list(self.known), [rule.selector])
                if needed is not None:
                    return Derivation(
                        root=Derived(None, (*(self.known[lit] for lit in needed), Applied(rule.id)))
                    )
            for rule in affected:
                self._scan(rule)
            if not self.pending:
                return self._together()
            if self.goal_lit in self.pending:
                return Derivation(root=self.pending[self.goal_lit][1])
            lit = min(self.pending, key=lambda x: self.pending[x][0])
            step = self.pending.pop(lit)[1]
            self.known[lit] = step
            self.recency[id(step)] = len(self.recency)
            assert step.fact is not None
            if step.fact.holds:
                self.settled.add(step.fact.slot)
                self.pending = {
                    x: found
                    for x, found in self.pending.items()
                    if found[1].fact is None or found[1].fact.slot != step.fact.slot
                }
            slot = step.fact.slot
            affected = [r for r in self.rules if any(f.slot == slot for f, _ in r.candidates)]

    def _scan(self, rule: RuleInput) -> None:
        """Record every fact this rule forces from what is known (not yet found otherwise)."""
        order = self.rules.index(rule)
        for position, (fact, lit) in enumerate(rule.candidates):
            if (
                (self.readers[fact.slot] < 2 and lit != self.goal_lit)
                or fact.slot in self.settled
                or lit in self.known
                or -lit in self.known
                or lit in self.pending
                or not self.session.solve([*self.known, -lit])  # follows from the facts alone
            ):
                continue
            needed = minimal_core(self.session, list(self.known), [rule.selector, -lit])
            if needed is None:
                continue
            premises = [self.known[x] for x in needed]
            chosen = sum(1 for p in premises if isinstance(p, Chosen))
            latest = max((self.recency.get(id(p), -1) for p in premises), default=-1)
            step = Derived(fact, (*premises, Applied(rule.id)))
            self.pending[lit] = ((chosen, -latest, order, position), step)

    def _together(self) -> Derivation:
        """No single rule takes it further: the last step needs several rules together (a
        minimal set of them and of the facts known)."""
        by_selector = {r.selector: r.id for r in self.rules}
        fixed = [-self.goal_lit] if self.goal is not None else []
        needed = minimal_core(self.session, [*self.known, *by_selector], fixed) or []
        return Derivation(
            root=Derived(
                self.goal[0] if self.goal is not None else None,
                (
                    *(self.known[lit] for lit in needed if lit in self.known),
                    *(Applied(by_selector[lit]) for lit in needed if lit in by_selector),
                ),
            )
        )
