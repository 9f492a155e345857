"""The catalog engine: every question about configurations of a catalog, asked of `sat.py`.

A `sat.Session` decides satisfiability under assumptions and gives minimal cores; `sat.maxsat`
(RC2) finds the nearest fix and optimal completions; `count.count_models` (d4) counts. Rules are
switched on through selector literals (as assumptions), so the same clauses answer 'is it
valid' and 'which rules are to blame'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from cmf_config.derivation import Conflict, Derivation, Fact, RuleInput, derive
from cmf_config.encode import Encoding
from cmf_config.errors import Severity
from cmf_config.problem import Assignment, Problem
from cmf_config.rules import IR, Rule, holds
from cmf_config.sat import Session, maxsat


@attrs.frozen(kw_only=True)
class SlotOptions:
    """What an open slot may still take, and why the rest is excluded."""

    possible: tuple[str, ...]
    excluded: Mapping[str, tuple[str, ...]]


@attrs.frozen(kw_only=True)
class Change:
    """One changed choice of a fix."""

    slot: str
    before: str | None
    after: str


class Engine:
    """Compiled catalog + rules, ready for questions about assignments."""

    def __init__(self, problem: Problem, rules: Sequence[Rule]) -> None:
        self.problem = problem
        self.rules = list(rules)
        self.hard = [r for r in self.rules if r.severity is Severity.ERROR]
        self.encoding = Encoding(problem)
        self.rule_lits = {r.id: self.encoding.lit(r.formula) for r in self.rules}
        # A fresh selector per rule (selector -> rule), so that a rule whose literal happens
        # to equal a choice's literal is still told apart in cores and explanations.
        self.selectors: dict[str, int] = {}
        for rule in self.rules:
            selector = self.encoding.new_var()
            self.encoding.clauses.append([-selector, self.rule_lits[rule.id]])
            self.selectors[rule.id] = selector
        self._lit_rules: dict[int, list[str]] = {self.selectors[r.id]: [r.id] for r in self.hard}
        self._hard_lits = [self.selectors[r.id] for r in self.hard]
        self._session: Session | None = None

    # ------------------------------------------------------------- plumbing

    @property
    def sat(self) -> Session:
        """One incremental session holding the definitions; rules arrive as assumptions.

        Clauses that later `literal` calls add to the encoding are sent before each use.
        """
        if self._session is None:
            self._session = Session.following(self.encoding.clauses)
        return self._session

    def literal(self, ir: IR) -> int:
        """A literal equivalent to an expression (its definition joins the live solver)."""
        return self.encoding.lit(ir)

    def witness(self, assumptions: Sequence[int]) -> dict[str, int] | None:
        """A valid configuration under extra assumption literals (all error rules on), or None."""
        model = self.solve([*self.hard_lits(), *assumptions])
        return self.decode(model) if model is not None else None

    def close(self) -> None:
        """Free the solver."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def hard_lits(self) -> list[int]:
        """The selectors of the error-severity rules (assume them to switch the rules on)."""
        return self._hard_lits

    def selector_units(self) -> list[list[int]]:
        """Units fixing every selector: hard rules on, the others off (no free variable)."""
        hard = {r.id for r in self.hard}
        return [[sel if rid in hard else -sel] for rid, sel in self.selectors.items()]

    def choice_lits(self, assignment: Assignment) -> list[int]:
        """One literal per fixed slot."""
        return [self.encoding.slot_lits[name][index] for name, index in sorted(assignment.items())]

    def decode(self, model: Sequence[int]) -> dict[str, int]:
        """The assignment a model describes."""
        true = {lit for lit in model if lit > 0}
        out: dict[str, int] = {}
        for slot in self.problem.slots:
            lits = self.encoding.slot_lits[slot.name]
            for index, lit in enumerate(lits):
                if (lit > 0 and lit in true) or (lit < 0 and -lit not in true):
                    out[slot.name] = index
                    break
        return out

    def solve(self, assumptions: Sequence[int]) -> list[int] | None:
        """A model under the assumption literals (switch rules on with `hard_lits`), or None."""
        return self.sat.solution(assumptions)

    # ------------------------------------------------------------- questions

    def complete_any(self, assignment: Assignment) -> dict[str, int] | None:
        """Some valid completion of the assignment, or None."""
        model = self.solve(self.hard_lits() + self.choice_lits(assignment))
        return self.decode(model) if model is not None else None

    def is_consistent(self, assignment: Assignment) -> bool:
        """Whether a valid completion exists."""
        return self.solve(self.hard_lits() + self.choice_lits(assignment)) is not None

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
        base = self.hard_lits() + self.choice_lits(assignment)
        open_slots = (
            [s.name for s in self.problem.slots if s.name not in assignment]
            if slots is None
            else list(slots)
        )
        seen: dict[str, set[int]] = {name: set() for name in open_slots}
        first = self.solve(base)
        if first is None:
            return {name: SlotOptions(possible=(), excluded={}) for name in open_slots}
        self._mark(seen, first)
        unseen = {
            self.encoding.slot_lits[name][index]: (name, index)
            for name in open_slots
            for index in range(len(self.problem.slot(name).values))
            if index not in seen[name]
        }
        while unseen:
            activation = self.encoding.new_var()
            self.encoding.clauses.append([-activation, *unseen])
            # Ask the solver to prefer the values not seen yet, so one model covers many.
            self.sat.set_phases(list(unseen))
            model = self.solve([*base, activation])
            self.encoding.clauses.append([-activation])  # retire the query for good
            if model is None:
                break
            self._mark(seen, model)
            unseen = {lit: item for lit, item in unseen.items() if item[1] not in seen[item[0]]}
        out: dict[str, SlotOptions] = {}
        for name in open_slots:
            slot = self.problem.slot(name)
            lits = self.encoding.slot_lits[name]
            excluded: dict[str, tuple[str, ...]] = {}
            for index, value in enumerate(slot.values):
                if index in seen[name]:
                    continue
                if reasons:
                    refuted = self.solve([*base, lits[index]])
                    assert refuted is None, "a covering query missed a possible value"
                    excluded[value.id] = self._blame(base, lits[index], minimal)
                else:
                    excluded[value.id] = ()
            possible = tuple(v.id for i, v in enumerate(slot.values) if i in seen[name])
            out[name] = SlotOptions(possible=possible, excluded=excluded)
        return out

    def _mark(self, seen: dict[str, set[int]], model: Sequence[int]) -> None:
        decoded = self.decode(model)
        for name, values in seen.items():
            values.add(decoded[name])

    def _blame(self, base: Sequence[int], extra: int, minimal: bool) -> tuple[str, ...]:
        """The rules of a core of base + extra (shrunk to a minimal set when asked)."""
        core = self.sat.core()
        rule_lits = [lit for lit in self.hard_lits() if lit in core]
        fixed = [lit for lit in base if lit not in self._lit_rules] + [extra]
        if minimal:
            rule_lits = self.sat.shrink(rule_lits, fixed)
        return tuple(sorted({rid for lit in rule_lits for rid in self._lit_rules.get(lit, [])[:1]}))

    def explain(self, assignment: Assignment) -> Conflict | None:
        """A minimal set of choices and rules that cannot hold together, or None if consistent."""
        choice_by_lit = {self.encoding.slot_lits[n][i]: n for n, i in assignment.items()}
        # Where the authored rules alone already conflict with the choices, explain with them
        # (they carry the domain fact); the built-in platform lists come in only when needed.
        authored = self.choice_lits(assignment) + [
            self.selectors[r.id] for r in self.hard if not r.builtin
        ]
        assumptions = self.choice_lits(assignment) + self.hard_lits()
        if self.sat.solve(assumptions):
            return None
        direct = self._broken_rule_conflict(assignment)
        if direct is not None:
            return direct
        if not self.sat.solve(authored):
            assumptions = authored
        else:
            self.sat.solve(assumptions)  # refresh the core of the full set
        core = self.sat.core()
        minimal = self.sat.shrink([lit for lit in assumptions if lit in core])
        choices = tuple(sorted(choice_by_lit[lit] for lit in minimal if lit in choice_by_lit))
        rules = tuple(
            sorted({self._lit_rules[lit][0] for lit in minimal if lit in self._lit_rules})
        )
        return Conflict(choices=choices, rules=rules)

    def _broken_rule_conflict(self, assignment: Assignment) -> Conflict | None:
        """The smallest explanation there is when the choices alone break a rule outright:
        that rule and the choices it reads (shrunk, in case fewer of them suffice).

        Authored rules before built-in ones, rules reading fewer slots first.
        """
        broken = [
            rule
            for rule in self.hard
            if rule.slots <= assignment.keys() and not holds(self.problem, rule, assignment)
        ]
        if not broken:
            return None
        rule = min(broken, key=lambda r: (r.builtin, len(r.slots), r.id))
        chosen = {name: assignment[name] for name in rule.slots}
        choice_by_lit = {self.encoding.slot_lits[n][i]: n for n, i in chosen.items()}
        kept = self.sat.shrink([*self.choice_lits(chosen), self.selectors[rule.id]])
        return Conflict(
            choices=tuple(sorted(choice_by_lit[lit] for lit in kept if lit in choice_by_lit)),
            rules=(rule.id,),
        )

    def derive(self, assignment: Assignment, conflict: Conflict) -> Derivation:
        """How the rules of a conflict force each other from its choices (see `derivation`)."""
        choices = [
            (self._fact(name, assignment[name]), self.encoding.slot_lits[name][assignment[name]])
            for name in sorted(conflict.choices, key=self.encoding.order.__getitem__)
        ]
        by_id = {r.id: r for r in self.rules}
        rules = [
            RuleInput(
                id=rule_id,
                selector=self.selectors[rule_id],
                candidates=self._candidates(by_id[rule_id].slots),
            )
            for rule_id in conflict.rules
        ]
        return derive(self.sat, choices, rules)

    def _fact(self, name: str, index: int) -> Fact:
        slot = self.problem.slot(name)
        if slot.is_bool:
            return Fact(name, "true", index == 1)
        return Fact(name, slot.values[index].id, True)

    def _candidates(self, slots: frozenset[str]) -> list[tuple[Fact, int]]:
        """Every slot fact a rule reading `slots` may force: slot = value, slot != value."""
        out: list[tuple[Fact, int]] = []
        for name in sorted(slots, key=self.encoding.order.__getitem__):
            slot = self.problem.slot(name)
            lits = self.encoding.slot_lits[name]
            if slot.is_bool:
                out += [(Fact(name, "true", True), lits[1]), (Fact(name, "true", False), lits[0])]
                continue
            out += [(Fact(name, v.id, True), lits[i]) for i, v in enumerate(slot.values)]
            out += [(Fact(name, v.id, False), -lits[i]) for i, v in enumerate(slot.values)]
        return out

    def fix(
        self, assignment: Assignment, tie_cost: Mapping[str, Sequence[float]] | None = None
    ) -> tuple[dict[str, int], list[Change]] | None:
        """The nearest valid assignment: fewest changed choices, ties broken by `tie_cost`.

        Returns None when no configuration at all is valid.
        """
        costs = int_weights(tie_cost or {})
        big = 1 + sum(max(ws, default=0) for ws in costs.values())
        keep = [
            ([self.encoding.slot_lits[name][index]], big)
            for name, index in sorted(assignment.items())
        ]
        model = self._maxsat(self.selector_units(), [*keep, *self.cost_clauses(costs)])
        if model is None:
            return None
        fixed = self.decode(model)
        return fixed, self.changes(assignment, fixed)

    def changes(self, assignment: Assignment, fixed: Mapping[str, int]) -> list[Change]:
        """The chosen slots whose value `fixed` changes, in slot order."""
        return [
            Change(
                slot=name,
                before=self.problem.slot(name).values[index].id,
                after=self.problem.slot(name).values[fixed[name]].id,
            )
            for name, index in sorted(assignment.items(), key=lambda kv: self.encoding.order[kv[0]])
            if fixed[name] != index
        ]

    def complete(
        self, assignment: Assignment, weights: Mapping[str, Sequence[float]], maximize: bool = False
    ) -> dict[str, int] | None:
        """An optimal valid completion: minimise (or maximise) the summed value weights."""
        hard = self.selector_units() + [[lit] for lit in self.choice_lits(assignment)]
        model = self._maxsat(hard, self.cost_clauses(int_weights(weights), maximize=maximize))
        return self.decode(model) if model is not None else None

    def _maxsat(
        self, extra_hard: list[list[int]], soft: Sequence[tuple[list[int], int]]
    ) -> list[int] | None:
        """RC2 over the encoding plus `extra_hard`, minimising the broken soft clauses."""
        return maxsat([*self.encoding.clauses, *extra_hard], soft, self.encoding.nvars)

    def cost_clauses(
        self, costs: Mapping[str, Sequence[int]], maximize: bool = False
    ) -> list[tuple[list[int], int]]:
        """Soft clauses charging each value its weight (or rewarding it, when maximising)."""
        out: list[tuple[list[int], int]] = []
        for name, weights in sorted(costs.items()):
            lits = self.encoding.slot_lits[name]
            for lit, weight in zip(lits, weights, strict=True):
                if weight > 0:
                    out.append(([lit] if maximize else [-lit], weight))
        return out

    def enumerate(self, assignment: Assignment, limit: int) -> list[dict[str, int]]:
        """Up to `limit` distinct valid completions."""
        out: list[dict[str, int]] = []
        with Session(self.encoding.clauses) as session:
            session.add_clauses(self.selector_units())
            session.add_clauses([lit] for lit in self.choice_lits(assignment))
            while len(out) < limit and session.solve():
                decoded = self.decode(session.model())
                out.append(decoded)
                session.add_clauses([[-self.encoding.slot_lits[n][i] for n, i in decoded.items()]])
        return out

    def count(self, assignment: Assignment) -> int:
        """The exact number of valid complete configurations extending the assignment (d4)."""
        units = self.selector_units() + [[lit] for lit in self.choice_lits(assignment)]
        from cmf_config.count import count_models  # d4 and its subprocesses: counting only

        return count_models(self.encoding.clauses + units, self.encoding.nvars)

    def rule_can_fail(self, rule_id: str, others: Sequence[str] | None = None) -> bool:
        """Whether some configuration breaks the rule while the rules `others` hold.

        `others` defaults to every other error rule.
        """
        chosen = [r.id for r in self.hard if r.id != rule_id] if others is None else list(others)
        assumptions = [-self.rule_lits[rule_id], *(self.selectors[rid] for rid in chosen)]
        return self.solve(assumptions) is not None

    def rule_can_hold(self, rule_id: str) -> bool:
        """Whether some configuration satisfies the rule together with all hard rules."""
        return self.solve([*self.hard_lits(), self.selectors[rule_id]]) is not None


def int_weights(weights: Mapping[str, Sequence[float]]) -> dict[str, list[int]]:
    """Per-value weights in hundredths, as the integers MaxSAT needs (negatives count 0)."""
    return {name: [max(0, round(w * 100)) for w in ws] for name, ws in weights.items()}
