"""Answers within a time budget, and honest about it: counts and least-cost completions.

On a large product line neither an exact count nor a proven least-cost completion can be had
within one interactive step (d4 does not compile the synthetic line of 1,500 values and
3,000 rules; RC2 does not finish its least-cost completion in minutes). So each answer says
what it is:

- `Count`: exact (d4's d-DNNF, or an enumeration that ran out of vehicles), or "at least N"
  (an enumeration of distinct valid vehicles that stopped at its bound), never a guess;
- `Completion`: a valid completion with its cost, and whether it is proven least (RC2
  finished, or its cost meets a lower bound), with that lower bound.

Both use one warm SAT solver (`WarmSolver`) holding the engine's CNF with every error rule as
a unit: queries are assumptions; the few clauses a query needs (blocking clauses of an
enumeration) are guarded by an activation literal and retired at once, and the solver is
rebuilt after a bounded number of them, so nothing accumulates with use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence

import attrs
from pysat.examples.rc2 import RC2Stratified
from pysat.formula import WCNF
from pysat.solvers import Solver

from cmf_config.problem import Problem
from cmf_config.reprs import shared_repr
from cmf_config.rules import Rule, holds
from cmf_config.sat import SOLVER
from cmf_config.solver import Engine

ENUMERATE = 1_000
"""An enumeration count stops after this many vehicles ("at least 1,000")."""

ENUMERATE_SECONDS = 0.015
"""...or after this long (then "at least" the number found so far)."""

PRODUCT_SECONDS = 0.015
"""Time the product lower bound may take (it checks rules in Python, value by value)."""

COMPLETE_SECONDS = 0.05
"""Time one least-cost completion may take before it answers with the best found."""

RC2_MAX_CLAUSES = 60_000
"""RC2 is tried only on formulas up to this size: loading a larger one alone takes longer than
a step's budget (about 0.5 s for the 267,617 clauses of the synthetic line)."""

CONFLICTS = 2_000
"""Conflicts one improving solver call may take (a bounded search, never an unbounded one)."""

RETIRED = 200_000
"""Guarded clauses the warm solver may have retired before it is rebuilt from the CNF."""


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Count:
    """How many valid complete vehicles extend the choices: `value` exactly, or at least."""

    value: int
    exact: bool
    how: str
    """"d4" (the compiled d-DNNF), "enumeration" (distinct vehicles found by the solver, all
    of them when exact) or "product" (independent single-slot changes of one valid vehicle,
    see `product_bound`)."""


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Completion:
    """A valid completion, its cost (integer weights) and how far it is proven."""

    assignment: Mapping[str, int]
    cost: int
    proven: bool
    """Least cost proven: RC2 finished, or `cost` meets `bound`."""
    bound: int
    """A lower bound on the least cost (equal to `cost` when proven)."""
    how: str
    """"rc2", "bound" (the cost meets the lower bound) or "improved" (best found in time)."""


class WarmSolver:
    """The engine's CNF with every error rule as a unit clause, kept warm for queries.

    Not thread-safe: the caller holds the stepper's lock.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._solver: Solver | None = None
        self._next = 0
        self._retired = 0
        self.rebuilds = 0

    def solver(self) -> Solver:
        """The solver, rebuilt when the encoding grew or too many clauses were retired."""
        encoding = self.engine.encoding
        if self._solver is None or self._next <= encoding.nvars or self._retired > RETIRED:
            if self._solver is not None:
                self._solver.delete()
            self._solver = Solver(name=SOLVER, bootstrap_with=encoding.clauses)
            for lit in self.engine.hard_lits():
                self._solver.add_clause([lit])
            self._next = encoding.nvars + 1
            self._retired = 0
            self.rebuilds += 1
        return self._solver

    def activation(self) -> int:
        """A fresh variable above every variable of the encoding."""
        self.solver()
        self._next += 1
        return self._next - 1

    def retire(self, activation: int, clauses: int) -> None:
        """Switch the clauses guarded by `activation` off for good."""
        assert self._solver is not None
        self._solver.add_clause([-activation])
        self._retired += clauses

    def close(self) -> None:
        """Free the solver."""
        if self._solver is not None:
            self._solver.delete()
            self._solver = None

    # ------------------------------------------------------------- counting

    def enumerate_count(
        self,
        assignment: Mapping[str, int],
        limit: int = ENUMERATE,
        seconds: float = ENUMERATE_SECONDS,
    ) -> Count:
        """Distinct valid vehicles extending the choices, up to `limit` or `seconds`.

        Exact when the solver runs out of vehicles first; else "at least" the number found.
        Each vehicle found is blocked on the open slots' value literals (the chosen slots are
        fixed and every other variable is defined by them, so two models differ there).
        """
        engine = self.engine
        solver = self.solver()
        lits = engine.encoding.slot_lits
        open_slots = [s.name for s in engine.problem.slots if s.name not in assignment]
        choices = engine.choice_lits(assignment)
        activation = self.activation()
        assumptions = [*choices, activation]
        found = 0
        deadline = time.perf_counter() + seconds
        exact = False
        try:
            while found < limit and time.perf_counter() < deadline:
                if not solver.solve(assumptions=assumptions):
                    exact = True
                    break
                found += 1
                if not open_slots:
                    exact = True
                    break
                model = solver.get_model() or []
                block = [-activation]
                for name in open_slots:
                    for lit in lits[name]:
                        if model[abs(lit) - 1] == lit:
                            block.append(-lit)
                            break
                solver.add_clause(block)
        finally:
            self.retire(activation, found)
        return Count(value=found, exact=exact, how="enumeration")

    # ------------------------------------------------------------- completing

    def first(
        self,
        assignment: Mapping[str, int],
        weights: Mapping[str, Sequence[int]],
        allowed: Mapping[str, Sequence[int]],
        start: Mapping[str, int] | None = None,
    ) -> dict[str, int] | None:
        """A valid completion that follows phases set to each open slot's cheapest allowed
        value (or to `start`, a completion known valid for fewer choices); None if none."""
        engine = self.engine
        solver = self.solver()
        lits = engine.encoding.slot_lits
        phases: list[int] = []
        for name, indices in allowed.items():
            preferred = (
                start[name]
                if start is not None
                else min(indices, key=lambda i: (weights[name][i], i))
            )
            phases += [lit if i == preferred else -lit for i, lit in enumerate(lits[name])]
        solver.set_phases(phases)
        if not solver.solve(assumptions=engine.choice_lits(assignment)):
            return None
        return engine.decode(solver.get_model() or [])

    def improve(
        self,
        assignment: Mapping[str, int],
        current: Mapping[str, int],
        weights: Mapping[str, Sequence[int]],
        allowed: Mapping[str, Sequence[int]],
        deadline: float,
    ) -> dict[str, int]:
        """A completion at most as costly as `current`, cheaper while time lasts.

        Improving calls under assumptions only (nothing is added to the solver): every open
        slot at most as costly as now, and one slot (the one with the most to gain first)
        strictly cheaper. A model is a strictly cheaper completion; "no" (or a call past its
        conflict budget) moves on to the next slot.
        """
        engine = self.engine
        solver = self.solver()
        lits = engine.encoding.slot_lits
        choices = engine.choice_lits(assignment)
        best = dict(current)
        refuted: set[str] = set()
        while time.perf_counter() < deadline:
            gains = [
                (weights[name][best[name]] - min(weights[name][i] for i in indices), name)
                for name, indices in allowed.items()
                if name not in refuted
            ]
            gains = [g for g in gains if g[0] > 0]
            if not gains:
                break
            _, target = max(gains)
            assumptions = list(choices)
            for name in allowed:
                ceiling = weights[name][best[name]]
                for i, lit in enumerate(lits[name]):
                    cost = weights[name][i]
                    if cost > ceiling or (name == target and cost >= ceiling):
                        assumptions.append(-lit)
            solver.conf_budget(CONFLICTS)
            if solver.solve_limited(assumptions=assumptions):
                best = engine.decode(solver.get_model() or [])
                refuted.clear()
            else:
                refuted.add(target)
        return best


def product_bound(
    problem: Problem,
    reading: Mapping[str, Sequence[Rule]],
    vehicle: Mapping[str, int],
    open_slots: Sequence[str],
    seconds: float = PRODUCT_SECONDS,
) -> int:
    """A lower bound on the valid vehicles that agree with `vehicle` (a valid one) on the
    chosen slots: the product, over open slots that no rule reads together, of how many
    values each can take alone with the rest of `vehicle` kept.

    Sound: a rule reads at most one slot of that set, so any combination of such single-slot
    changes keeps every rule true (each rule sees `vehicle` with at most one slot changed,
    to a value that was checked against exactly that rule), and all combinations differ.
    The set is chosen greedily, slots read by fewer rules first, while `seconds` last (the
    product over the slots taken so far is a bound too).
    """
    deadline = time.perf_counter() + seconds
    taken: set[str] = set()
    blocked: set[str] = set()
    total = 1
    for name in sorted(open_slots, key=lambda n: (len(reading.get(n, ())), n)):
        if time.perf_counter() > deadline:
            break
        if name in blocked:
            continue
        rules = reading.get(name, ())
        taken.add(name)
        for rule in rules:
            blocked |= rule.slots
        values = len(problem.slot(name).values)
        fine = 0
        for index in range(values):
            trial = {**vehicle, name: index}
            if all(holds(problem, rule, trial) for rule in rules):
                fine += 1
        total *= max(1, fine)
    return total


def rc2_completion(
    engine: Engine,
    assignment: Mapping[str, int],
    soft: Sequence[tuple[list[int], int]],
    seconds: float,
) -> list[int] | None:
    """RC2 (stratified) over the engine's CNF within `seconds`: an optimal model, or None
    when it did not finish in time (or there is no valid completion)."""
    wcnf = WCNF()
    wcnf.hard = [
        *engine.encoding.clauses,
        *engine.selector_units(),
        *([lit] for lit in engine.choice_lits(assignment)),
    ]
    wcnf.nv = engine.encoding.nvars
    for clause, weight in soft:
        wcnf.append(clause, weight=weight)
    with RC2Stratified(wcnf, solver=SOLVER) as rc2:
        timer = threading.Timer(seconds, rc2.interrupt)
        timer.start()
        try:
            model = rc2.compute(expect_interrupt=True)
        finally:
            timer.cancel()
        if model is None or rc2.interrupted:
            return None
        return list(model)


def shifted_soft(
    engine: Engine, weights: Mapping[str, Sequence[int]], assignment: Mapping[str, int]
) -> tuple[list[tuple[list[int], int]], int]:
    """Soft clauses of the open slots with each slot's cheapest value at 0, and the constant
    taken out (chosen slots' weights plus each open slot's minimum).

    Exactly one value per slot holds, so charging every value its weight minus the slot's
    minimum changes every completion's cost by the same constant; RC2 then has no trivial
    core per slot to find first.
    """
    lits = engine.encoding.slot_lits
    offset = 0
    soft: list[tuple[list[int], int]] = []
    for name, ws in sorted(weights.items()):
        if name in assignment:
            offset += ws[assignment[name]]
            continue
        low = min(ws)
        offset += low
        for lit, weight in zip(lits[name], ws, strict=True):
            if weight > low:
                soft.append(([-lit], weight - low))
    return soft, offset


def cost_of(weights: Mapping[str, Sequence[int]], assignment: Mapping[str, int]) -> int:
    """The summed weight of a complete assignment."""
    return sum(weights[name][index] for name, index in assignment.items() if name in weights)
