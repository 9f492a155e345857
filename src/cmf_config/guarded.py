"""Rules whose every clause is switched on by the rule's selector: cheap cores and shrinks.

The engine's CNF defines each rule's literals with clauses that always hold (only the rule's
root is guarded by its selector), so any propagation from a choice runs through the decision
diagrams of every rule that reads the chosen slot, switched on or not. Here each error rule is
encoded on its own (no gate shared with another rule) and *all* of its clauses carry its
selector: a propagation visits only the rules assumed on. A core search assuming the rules
nearest the value first meets its conflict after few of them, and the shrinking of a core by
propagation costs a cone of a few rules, not the whole formula.

Sound: with a set of selectors on, the clauses in force are a subset of the engine's (one
rule's definitions plus its root), so an unsatisfiable core here is one there too. Complete:
with every selector on, the formula says what the engine's says about the slot values.
"""

from __future__ import annotations

from collections.abc import Sequence

from cmf_config.encode import Encoding
from cmf_config.problem import Problem
from cmf_config.rules import Rule
from cmf_config.sat import Session


class RuleSolver:
    """A SAT session over the slot values and every rule guarded by its own selector."""

    def __init__(self, problem: Problem, rules: Sequence[Rule]) -> None:
        encoding = Encoding(problem)
        self.slot_lits = encoding.slot_lits
        """The value literals: the same numbers as any `Encoding` of the problem."""
        clauses = list(encoding.clauses)  # exactly one value per slot, and the constant
        self.selectors: dict[str, int] = {}
        guarded: list[tuple[int, int, int]] = []  # selector, first clause, root
        for rule in rules:
            encoding.forget()
            first = len(encoding.clauses)
            root = encoding.lit(rule.formula)
            selector = encoding.new_var()
            self.selectors[rule.id] = selector
            guarded.append((selector, first, root))
        ends = [first for _sel, first, _root in guarded[1:]] + [len(encoding.clauses)] * bool(
            guarded
        )
        for (selector, first, root), end in zip(guarded, ends, strict=True):
            clauses.append([-selector, root])
            clauses += ([-selector, *clause] for clause in encoding.clauses[first:end])
        self.rule_of = {selector: rid for rid, selector in self.selectors.items()}
        self.nvars = encoding.nvars
        self.session = Session(clauses, nvars=encoding.nvars)

    def close(self) -> None:
        """Free the solver."""
        self.session.close()
