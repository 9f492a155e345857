"""The engine's questions on plain data: `options`, `explain` and `derive` of a catalog's CNF.

One implementation for both paths: `solver.Engine` (the full commands) holds a `Questions`
over its live encoding and the model's rules, and the fast path (`quick.py`) builds one over
the same encoding stored as plain data (`quickstore`). Only the standard library, `sat.py`
and `derivation.py` are imported here -- no attrs, no model -- so the fast path pays for
PySAT and nothing else, and both paths make the same solver calls in the same order, which is
what makes their answers (and their bytes) the same.

What a question reads of the catalog is plain: slot names in the encoding's order with their
value ids and which are booleans (features), the error-severity rules in order (`RuleView`:
id, built in or authored, the slots read) with their selector literals, and the CNF itself
(`Cnf`: clauses, slot literals, fresh variables). Rules are switched on through selector
literals given as assumptions, so the same clauses answer 'is it valid' and 'which rules are
to blame'.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import NamedTuple, Protocol

from cmf_config.derivation import Conflict, Derivation, Fact, RuleInput, derive
from cmf_config.sat import Session

Assignment = Mapping[str, int]
"""A (partial) configuration: slot name -> value index (problem.Assignment)."""


class SlotOptions(NamedTuple):
    """What an open slot may still take, and why the rest is excluded."""

    possible: tuple[str, ...]
    excluded: Mapping[str, tuple[str, ...]]


class Cnf(Protocol):
    """The encoding a `Questions` asks about (`encode.Encoding`, or `PlainCnf` as stored)."""

    clauses: list[list[int]]
    slot_lits: dict[str, list[int]]

    def new_var(self) -> int:
        """A fresh variable."""
        ...


class RuleView(Protocol):
    """What the questions read of a rule (`rules.Rule`, or `PlainRule` as stored)."""

    @property
    def id(self) -> str: ...

    @property
    def builtin(self) -> bool: ...

    @property
    def slots(self) -> frozenset[str]: ...


class PlainCnf:
    """A stored encoding: its clauses, variable count and slot literals (the fast path)."""

    __slots__ = ("clauses", "nvars", "slot_lits")

    def __init__(self, clauses: list[list[int]], nvars: int, slot_lits: dict[str, list[int]]):
        self.clauses = clauses
        self.nvars = nvars
        self.slot_lits = slot_lits

    def new_var(self) -> int:
        """A fresh variable."""
        self.nvars += 1
        return self.nvars


class PlainRule(NamedTuple):
    """A stored error rule: its id, whether it is built in, the slots it reads."""

    id: str
    builtin: bool
    slots: frozenset[str]


class Questions:
    """The SAT questions about assignments of one encoded catalog (one solver session)."""

    def __init__(
        self,
        cnf: Cnf,
        slot_values: Mapping[str, Sequence[str]],
        bool_slots: Collection[str],
        hard: Sequence[RuleView],
        selectors: Mapping[str, int],
    ) -> None:
        self.cnf = cnf
        self.slot_values = dict(slot_values)
        """Each slot's value ids, the slots in the encoding's order."""
        self.order = {name: i for i, name in enumerate(self.slot_values)}
        self.bool_slots = frozenset(bool_slots)
        self.hard = list(hard)
        self.selectors = dict(selectors)
        self.hard_lits = [self.selectors[r.id] for r in self.hard]
        """The selectors of the error rules (assume them to switch the rules on)."""
        self.lit_rules = {self.selectors[r.id]: r.id for r in self.hard}
        self._session: Session | None = None

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_session"] = None  # a solver is not kept (an engine is pickled without one)
        return state

    # ------------------------------------------------------------- plumbing

    @property
    def sat(self) -> Session:
        """One incremental session holding the definitions; rules arrive as assumptions.

        Clauses added to the encoding later are sent before each use.
        """
        if self._session is None:
            self._session = Session.following(self.cnf.clauses)
        return self._session

    def close(self) -> None:
        """Free the solver."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def choice_lits(self, assignment: Assignment) -> list[int]:
        """One literal per fixed slot."""
        return [self.cnf.slot_lits[name][index] for name, index in sorted(assignment.items())]

    def decode(self, model: Sequence[int]) -> dict[str, int]:
        """The assignment a model describes."""
        true = {lit for lit in model if lit > 0}
        out: dict[str, int] = {}
        for name in self.slot_values:
            for index, lit in enumerate(self.cnf.slot_lits[name]):
                if (lit > 0 and lit in true) or (lit < 0 and -lit not in true):
                    out[name] = index
                    break
        return out

    def solve(self, assumptions: Sequence[int]) -> list[int] | None:
        """A model under the assumption literals (switch rules on with `hard_lits`), or None."""
        return self.sat.solution(assumptions)

    def is_consistent(self, assignment: Assignment) -> bool:
        """Whether a valid completion exists."""
        return self.solve(self.hard_lits + self.choice_lits(assignment)) is not None

    # ------------------------------------------------------------- options

    def options(
        self,
        assignment: Assignment,
        slots: Sequence[str] | None = None,
        minimal: bool = True,
        reasons: bool = True,
    ) -> dict[str, SlotOptions]:
        """For each open slot: the values that have a valid completion, and why others do not.

        Backtrack-free by construction: a value is offered exactly when the solver finds a
        valid configuration that extends the choices with it. Covering queries ask for any
        valid configuration using a value not seen yet, so one model can vouch for many
        values and the final unsatisfiable query proves all the rest excluded at once.
        `reasons` adds, per excluded value, the rules of a core (minimal when `minimal`).
        """
        base = self.hard_lits + self.choice_lits(assignment)
        open_slots = (
            [name for name in self.slot_values if name not in assignment]
            if slots is None
            else list(slots)
        )
        seen: dict[str, set[int]] = {name: set() for name in open_slots}
        first = self.solve(base)
        if first is None:
            return {name: SlotOptions(possible=(), excluded={}) for name in open_slots}
        self._mark(seen, first)
        unseen = {
            self.cnf.slot_lits[name][index]: (name, index)
            for name in open_slots
            for index in range(len(self.slot_values[name]))
            if index not in seen[name]
        }
        while unseen:
            activation = self.cnf.new_var()
            self.cnf.clauses.append([-activation, *unseen])
            # Ask the solver to prefer the values not seen yet, so one model covers many.
            self.sat.set_phases(list(unseen))
            model = self.solve([*base, activation])
            self.cnf.clauses.append([-activation])  # retire the query for good
            if model is None:
                break
            self._mark(seen, model)
            unseen = {lit: item for lit, item in unseen.items() if item[1] not in seen[item[0]]}
        out: dict[str, SlotOptions] = {}
        for name in open_slots:
            values = self.slot_values[name]
            lits = self.cnf.slot_lits[name]
            excluded: dict[str, tuple[str, ...]] = {}
            for index, value in enumerate(values):
                if index in seen[name]:
                    continue
                if reasons:
                    refuted = self.solve([*base, lits[index]])
                    assert refuted is None, "a covering query missed a possible value"
                    excluded[value] = self._blame(base, lits[index], minimal)
                else:
                    excluded[value] = ()
            possible = tuple(v for i, v in enumerate(values) if i in seen[name])
            out[name] = SlotOptions(possible=possible, excluded=excluded)
        return out

    def _mark(self, seen: dict[str, set[int]], model: Sequence[int]) -> None:
        decoded = self.decode(model)
        for name, values in seen.items():
            values.add(decoded[name])

    def _blame(self, base: Sequence[int], extra: int, minimal: bool) -> tuple[str, ...]:
        """The rules of a core of base + extra (shrunk to a minimal set when asked)."""
        core = self.sat.core()
        rule_lits = [lit for lit in self.hard_lits if lit in core]
        fixed = [lit for lit in base if lit not in self.lit_rules] + [extra]
        if minimal:
            rule_lits = self.sat.shrink(rule_lits, fixed)
        return tuple(sorted({self.lit_rules[lit] for lit in rule_lits if lit in self.lit_rules}))

    # ------------------------------------------------------------- explain

    def explain(
        self, assignment: Assignment, broken: Callable[[RuleView], bool]
    ) -> Conflict | None:
        """A minimal set of choices and rules that cannot hold together, or None if consistent.

        `broken(rule)`: whether the choices break a rule that reads only chosen slots.
        """
        choice_by_lit = {self.cnf.slot_lits[n][i]: n for n, i in assignment.items()}
        # Where the authored rules alone already conflict with the choices, explain with them
        # (they carry the domain fact); the built-in platform lists come in only when needed.
        authored = self.choice_lits(assignment) + [
            self.selectors[r.id] for r in self.hard if not r.builtin
        ]
        assumptions = self.choice_lits(assignment) + self.hard_lits
        if self.sat.solve(assumptions):
            return None
        direct = self._broken_rule_conflict(assignment, broken)
        if direct is not None:
            return direct
        if not self.sat.solve(authored):
            assumptions = authored
        else:
            self.sat.solve(assumptions)  # refresh the core of the full set
        core = self.sat.core()
        minimal = self.sat.shrink([lit for lit in assumptions if lit in core])
        choices = tuple(sorted(choice_by_lit[lit] for lit in minimal if lit in choice_by_lit))
        rules = tuple(sorted({self.lit_rules[lit] for lit in minimal if lit in self.lit_rules}))
        return Conflict(choices=choices, rules=rules)

    def _broken_rule_conflict(
        self, assignment: Assignment, broken: Callable[[RuleView], bool]
    ) -> Conflict | None:
        """The smallest explanation there is when the choices alone break a rule outright:
        that rule and the choices it reads (shrunk, in case fewer of them suffice).

        Authored rules before built-in ones, rules reading fewer slots first.
        """
        found = [rule for rule in self.hard if rule.slots <= assignment.keys() and broken(rule)]
        if not found:
            return None
        rule = min(found, key=lambda r: (r.builtin, len(r.slots), r.id))
        chosen = {name: assignment[name] for name in rule.slots}
        choice_by_lit = {self.cnf.slot_lits[n][i]: n for n, i in chosen.items()}
        kept = self.sat.shrink([*self.choice_lits(chosen), self.selectors[rule.id]])
        return Conflict(
            choices=tuple(sorted(choice_by_lit[lit] for lit in kept if lit in choice_by_lit)),
            rules=(rule.id,),
        )

    def derive(
        self, assignment: Assignment, conflict: Conflict, rule_slots: Mapping[str, Collection[str]]
    ) -> Derivation:
        """How the rules of a conflict force each other from its choices (see `derivation`).

        `rule_slots`: the slots each rule of the conflict reads.
        """
        choices = [
            (self._fact(name, assignment[name]), self.cnf.slot_lits[name][assignment[name]])
            for name in sorted(conflict.choices, key=self.order.__getitem__)
        ]
        rules = [
            RuleInput(
                id=rule_id,
                selector=self.selectors[rule_id],
                candidates=self._candidates(rule_slots[rule_id]),
            )
            for rule_id in conflict.rules
        ]
        return derive(self.sat, choices, rules)

    def _fact(self, name: str, index: int) -> Fact:
        if name in self.bool_slots:
            return Fact(name, "true", index == 1)
        return Fact(name, self.slot_values[name][index], True)

    def _candidates(self, slots: Collection[str]) -> list[tuple[Fact, int]]:
        """Every slot fact a rule reading `slots` may force: slot = value, slot != value."""
        out: list[tuple[Fact, int]] = []
        for name in sorted(slots, key=self.order.__getitem__):
            lits = self.cnf.slot_lits[name]
            if name in self.bool_slots:
                out += [(Fact(name, "true", True), lits[1]), (Fact(name, "true", False), lits[0])]
                continue
            values = self.slot_values[name]
            out += [(Fact(name, v, True), lits[i]) for i, v in enumerate(values)]
            out += [(Fact(name, v, False), -lits[i]) for i, v in enumerate(values)]
        return out
