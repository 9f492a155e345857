"""The catalog engine: every question about configurations of a catalog, asked of `sat.py`.

A `sat.Session` decides satisfiability under assumptions and gives minimal cores; `sat.maxsat`
(RC2) finds the nearest fix and optimal completions; `count.count_models` (d4) counts. Rules are
switched on through selector literals (as assumptions), so the same clauses answer 'is it
valid' and 'which rules are to blame'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from cmf_config.derivation import Conflict, Derivation
from cmf_config.encode import Encoding
from cmf_config.errors import Severity
from cmf_config.problem import Assignment, Problem
from cmf_config.questions import Questions, RuleView, SlotOptions
from cmf_config.reprs import shared_repr
from cmf_config.rules import IR, Rule, holds
from cmf_config.sat import Session, maxsat

__all__ = ["Change", "Engine", "SlotOptions", "int_weights"]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
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
        self.questions = Questions(
            self.encoding,
            {s.name: tuple(v.id for v in s.values) for s in problem.slots},
            [s.name for s in problem.slots if s.is_bool],
            self.hard,
            self.selectors,
        )
        """options, explain and derive: the algorithms the fast path runs too (questions.py)."""

    # ------------------------------------------------------------- plumbing

    @property
    def sat(self) -> Session:
        """One incremental session holding the definitions; rules arrive as assumptions.

        Clauses that later `literal` calls add to the encoding are sent before each use.
        """
        return self.questions.sat

    def literal(self, ir: IR) -> int:
        """A literal equivalent to an expression (its definition joins the live solver)."""
        return self.encoding.lit(ir)

    def witness(self, assumptions: Sequence[int]) -> dict[str, int] | None:
        """A valid configuration under extra assumption literals (all error rules on), or None."""
        model = self.solve([*self.hard_lits(), *assumptions])
        return self.decode(model) if model is not None else None

    def close(self) -> None:
        """Free the solver."""
        self.questions.close()

    def hard_lits(self) -> list[int]:
        """The selectors of the error-severity rules (assume them to switch the rules on)."""
        return self.questions.hard_lits

    def selector_units(self) -> list[list[int]]:
        """Units fixing every selector: hard rules on, the others off (no free variable)."""
        hard = {r.id for r in self.hard}
        return [[sel if rid in hard else -sel] for rid, sel in self.selectors.items()]

    def choice_lits(self, assignment: Assignment) -> list[int]:
        """One literal per fixed slot."""
        return self.questions.choice_lits(assignment)

    def decode(self, model: Sequence[int]) -> dict[str, int]:
        """The assignment a model describes."""
        return self.questions.decode(model)

    def solve(self, assumptions: Sequence[int]) -> list[int] | None:
        """A model under the assumption literals (switch rules on with `hard_lits`), or None."""
        return self.questions.solve(assumptions)

    # ------------------------------------------------------------- questions

    def complete_any(self, assignment: Assignment) -> dict[str, int] | None:
        """Some valid completion of the assignment, or None."""
        model = self.solve(self.hard_lits() + self.choice_lits(assignment))
        return self.decode(model) if model is not None else None

    def is_consistent(self, assignment: Assignment) -> bool:
        """Whether a valid completion exists."""
        return self.questions.is_consistent(assignment)

    def options(
        self, assignment: Assignment, slots: Sequence[str] | None = None, **how: bool
    ) -> dict[str, SlotOptions]:
        """For each open slot: the values that have a valid completion, and why others do not
        (`Questions.options`, backtrack-free; `how`: its `minimal` and `reasons`)."""
        return self.questions.options(assignment, slots, **how)

    def explain(self, assignment: Assignment) -> Conflict | None:
        """A minimal set of choices and rules that cannot hold together, or None if consistent
        (`Questions.explain`)."""

        def broken(rule: RuleView) -> bool:
            assert isinstance(rule, Rule)
            return not holds(self.problem, rule, assignment)

        return self.questions.explain(assignment, broken)

    def derive(self, assignment: Assignment, conflict: Conflict) -> Derivation:
        """How the rules of a conflict force each other from its choices (see `derivation`)."""
        return self.questions.derive(assignment, conflict, {r.id: r.slots for r in self.rules})

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
