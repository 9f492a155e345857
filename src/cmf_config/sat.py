"""One SAT session over PySAT: the only module that names a solver.

Every yes/no question about configurations (the catalog engine, the feature-model analyses,
the variant-BOM checks) goes through a `SatBackend`: clauses added incrementally (or followed
from a growing list), rules switched on by selector literals given as assumptions, the core of
an unsatisfiable call, that core shrunk to a minimal one, and preferred phases. Keeping the
solver behind this small Protocol means another one can sit beside it without the analyses
changing. `maxsat` is the optimisation counterpart (RC2 over the same solver).

Solvers (PySAT names), chosen per workload and named only here:
- `SOLVER` (Glucose 4.1): decisions, cores and explanations; it follows the phases it is given
  (CaDiCaL ignores them), which the covering queries of `options` and the backbone search of
  the feature-model lint rely on.
- `BULK_SOLVER` (CaDiCaL 1.9.5): long runs of satisfiable calls over a large formula, as the
  variant-BOM checks make (35,000-part benchmark: 22 s against 29 s for Glucose 4).

Glucose 4.1 is driven through PySAT's extension module (`pysolvers`), with the very calls
`pysat.solvers.Glucose4` makes (`Glucose41`): importing `pysat.solvers` costs a process about
15 ms (PySAT's formula, engine and utility modules), as much as the fast path's whole answer
to `options` (docs/cli.md). tests/test_sat.py holds the two call for call equal; where the
extension lacks those calls (another PySAT build), PySAT's own class serves.
"""

from __future__ import annotations

import atexit
import weakref
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

SOLVER = "g4"
"""Glucose 4.1: the default session's solver (and RC2's)."""

BULK_SOLVER = "cd19"
"""CaDiCaL 1.9.5: for sessions that ask many satisfiable questions of one large formula."""


class SatBackend(Protocol):
    """What the analyses need of a SAT solver: the primitives. `shrink` and `minimal_core`
    are built on them, so another solver only has to provide these."""

    def add_clauses(self, clauses: Iterable[Sequence[int]]) -> None:
        """Add clauses for good."""

    def add_guarded(self, selector: int, clauses: Iterable[Sequence[int]]) -> None:
        """Add clauses that hold only when `selector` is assumed."""

    def solve(self, assumptions: Sequence[int] = ()) -> bool:
        """Whether the clauses hold together with the assumption literals."""

    def model(self) -> list[int]:
        """The model of the last satisfiable call (one literal per variable)."""

    def core(self) -> set[int]:
        """Assumption literals of the last unsatisfiable call that suffice for it."""

    def set_phases(self, literals: Sequence[int]) -> None:
        """Preferred values for the next calls."""

    def close(self) -> None:
        """Free the solver."""


class Glucose41:
    """Glucose 4.1 as `pysat.solvers.Glucose4` drives it, on PySAT's extension module: the same
    C calls with the same arguments (the main-thread flag lets Ctrl-C interrupt a search), so
    the same answers, without importing `pysat.solvers`. The methods a `Session` uses."""

    FUNCTIONS = (
        "glucose41_new",
        "glucose41_add_cl",
        "glucose41_solve",
        "glucose41_solve_lim",
        "glucose41_cbudget",
        "glucose41_model",
        "glucose41_core",
        "glucose41_propagate",
        "glucose41_setphases",
        "glucose41_del",
    )

    def __init__(self, clauses: Iterable[Sequence[int]], module: Any) -> None:
        import threading

        self._main = threading.main_thread
        self._current = threading.current_thread
        self._c = module
        self._glucose: Any = module.glucose41_new()
        self.status: bool | None = None
        for clause in clauses:
            self.add_clause(clause)

    def _in_main(self) -> int:
        return int(self._current() is self._main())

    def add_clause(self, clause: Sequence[int]) -> None:
        """Add a clause (a clause false at the root makes the formula unsatisfiable)."""
        if self._c.glucose41_add_cl(self._glucose, clause) is False:
            self.status = False

    def solve(self, assumptions: Sequence[int] = ()) -> bool | None:
        """Decide the clauses under the assumption literals."""
        self.status = self._c.glucose41_solve(self._glucose, assumptions, self._in_main())
        return self.status

    def solve_limited(self, assumptions: Sequence[int] = ()) -> bool | None:
        """`solve` within the budget set; None when it ran out."""
        self.status = self._c.glucose41_solve_lim(self._glucose, assumptions, self._in_main(), 0)
        return self.status

    def conf_budget(self, budget: int) -> None:
        """Limit the conflicts of the next `solve_limited`."""
        self._c.glucose41_cbudget(self._glucose, budget)

    def get_model(self) -> list[int] | None:
        """The model of the last call, if it was satisfiable."""
        if self.status is not True:
            return None
        model: list[int] | None = self._c.glucose41_model(self._glucose)
        return model if model is not None else []

    def get_core(self) -> list[int] | None:
        """The failed assumptions of the last call, if it was unsatisfiable."""
        if self.status is not False:
            return None
        core: list[int] | None = self._c.glucose41_core(self._glucose)
        return core

    def propagate(self, assumptions: Sequence[int] = ()) -> tuple[bool, list[int]]:
        """Unit propagation from the assumptions (no phase saving)."""
        ok, implied = self._c.glucose41_propagate(self._glucose, assumptions, 0, self._in_main())
        return bool(ok), implied if implied is not None else []

    def set_phases(self, literals: Sequence[int] = ()) -> None:
        """Preferred values for the next calls."""
        self._c.glucose41_setphases(self._glucose, literals)

    def delete(self) -> None:
        """Free the solver."""
        if self._glucose:
            self._c.glucose41_del(self._glucose)
            self._glucose = None

    def __del__(self) -> None:
        # as PySAT's classes do: a solver nobody holds any more is freed with it
        if getattr(self, "_glucose", None):
            self.delete()


def _solver(name: str, clauses: Iterable[Sequence[int]]) -> Any:
    """A solver called `name` holding `clauses`: Glucose 4.1 through `Glucose41` (no import
    of `pysat.solvers`) where PySAT's extension has its calls, else PySAT's class."""
    if name == SOLVER:
        import pysolvers

        if all(hasattr(pysolvers, f) for f in Glucose41.FUNCTIONS):
            return Glucose41(clauses, pysolvers)
    from pysat.solvers import Solver

    return Solver(name=name, bootstrap_with=clauses)


_OPEN: weakref.WeakSet[Session] = weakref.WeakSet()
"""The sessions not yet freed: freed at exit, while PySAT is still there to free them (it is
imported on first use, so the interpreter's exit may tear it down before a session that a
module still holds, whose solver would then fail to free itself)."""


@atexit.register
def _close_open_sessions() -> None:
    for session in list(_OPEN):
        session.close()


class Session:
    """A PySAT solver holding clauses, asked questions under assumptions.

    `follow` binds the session to a list of clauses that grows meanwhile (an encoding that
    defines new literals on demand): the clauses added to it since the last call are sent
    before each call. `nvars` pads models so that variables in no clause read as false.
    """

    def __init__(
        self, clauses: Iterable[Sequence[int]] = (), *, solver: str = SOLVER, nvars: int = 0
    ) -> None:
        # PySAT is imported here, at the first session: importing this module (the conflict
        # types of derivation.py and the reports that word them need it) costs nothing.
        self._solver = _solver(solver, clauses)
        _OPEN.add(self)
        self._followed: list[list[int]] | None = None
        self._sent = 0
        self.nvars = nvars

    @classmethod
    def following(cls, clauses: list[list[int]], *, solver: str = SOLVER) -> Session:
        """A session over `clauses` that also receives every clause appended to it later."""
        session = cls(clauses, solver=solver)
        session._followed = clauses
        session._sent = len(clauses)
        return session

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _catch_up(self) -> None:
        followed = self._followed
        if followed is not None and self._sent < len(followed):
            for clause in followed[self._sent :]:
                self._solver.add_clause(clause)
            self._sent = len(followed)

    def add_clauses(self, clauses: Iterable[Sequence[int]]) -> None:
        """Add clauses for good."""
        for clause in clauses:
            self._solver.add_clause(list(clause))

    def add_guarded(self, selector: int, clauses: Iterable[Sequence[int]]) -> None:
        """Add clauses that hold only when `selector` is assumed (a rule switched on by it)."""
        for clause in clauses:
            self._solver.add_clause([-selector, *clause])

    def solve(self, assumptions: Sequence[int] = ()) -> bool:
        """Whether the clauses hold together with the assumption literals."""
        self._catch_up()
        return bool(self._solver.solve(assumptions=list(assumptions)))

    def model(self) -> list[int]:
        """The model of the last satisfiable call, padded to `nvars` variables."""
        model = list(self._solver.get_model() or [])
        if len(model) < self.nvars:
            model += [-v for v in range(len(model) + 1, self.nvars + 1)]
        return model

    def solution(self, assumptions: Sequence[int] = ()) -> list[int] | None:
        """A model under the assumptions, or None when there is none."""
        return self.model() if self.solve(assumptions) else None

    def core(self) -> set[int]:
        """Assumption literals of the last unsatisfiable call that suffice for it."""
        return set(self._solver.get_core() or [])

    def solve_limited(self, assumptions: Sequence[int], conflicts: int) -> bool | None:
        """`solve` within a budget of conflicts: None when the search ran out of it."""
        self._catch_up()
        self._solver.conf_budget(conflicts)
        answer = self._solver.solve_limited(assumptions=list(assumptions))
        return None if answer is None else bool(answer)

    def propagate(self, assumptions: Sequence[int]) -> tuple[bool, list[int]]:
        """Unit propagation only (no search) from the assumption literals, in order: False
        when it meets a conflict (then the clauses and the assumptions cannot hold together),
        with the literals it assigned (the assumptions included, the root level's not)."""
        self._catch_up()
        ok, implied = self._solver.propagate(assumptions=list(assumptions))
        return bool(ok), list(implied)

    def shrink(self, candidates: Sequence[int], fixed: Sequence[int] = ()) -> list[int]:
        """See the module function `shrink`."""
        return shrink(self, candidates, fixed)

    def minimal_core(
        self, assumptions: Sequence[int], fixed: Sequence[int] = ()
    ) -> list[int] | None:
        """See the module function `minimal_core`."""
        return minimal_core(self, assumptions, fixed)

    def set_phases(self, literals: Sequence[int]) -> None:
        """Preferred values for the next calls (the solver tries these first)."""
        self._catch_up()
        self._solver.set_phases(list(literals))

    def close(self) -> None:
        """Free the solver."""
        self._solver.delete()


def shrink(backend: SatBackend, candidates: Sequence[int], fixed: Sequence[int] = ()) -> list[int]:
    """A minimal subset of `candidates` still unsatisfiable together with `fixed`.

    Deletion-based: drop one literal at a time and keep the drop when the rest is still
    unsatisfiable (then keep only the rest's core). `candidates` + `fixed` must be
    unsatisfiable; the order of `candidates` decides which minimal set is found.
    """
    kept = list(candidates)
    i = 0
    while i < len(kept):
        trial = kept[:i] + kept[i + 1 :]
        if not backend.solve([*fixed, *trial]):
            core = backend.core()
            kept = [lit for lit in trial if lit in core]
            # the literals before i were necessary; keep scanning from the same position
            i = min(i, len(kept))
            continue
        i += 1
    return kept


def shrink_by_propagation(
    session: Session, candidates: Sequence[int], fixed: Sequence[int], budget: int
) -> list[int]:
    """A subset of `candidates` that unit propagation still refutes together with `fixed`.

    `fixed` + `candidates` must be refuted by propagation alone. Deletion as in `shrink`,
    but each test is one propagation (no search: a cone of the formula, not all of it), and
    at most `budget` tests: past it the rest is kept, which is still a true refutation, only
    perhaps not a minimal one. A propagation conflict proves unsatisfiability, so every
    subset returned is a real core.
    """
    kept = list(candidates)
    i = 0
    while i < len(kept) and budget > 0:
        budget -= 1
        trial = kept[:i] + kept[i + 1 :]
        no_conflict, _ = session.propagate([*fixed, *trial])
        if not no_conflict:
            kept = trial
            continue
        i += 1
    return kept


def minimal_core(
    backend: SatBackend, assumptions: Sequence[int], fixed: Sequence[int] = ()
) -> list[int] | None:
    """None when `fixed` + `assumptions` hold together, else a minimal subset of
    `assumptions` that cannot hold with `fixed` (in the order of `assumptions`)."""
    if backend.solve([*fixed, *assumptions]):
        return None
    core = backend.core()
    return shrink(backend, [lit for lit in assumptions if lit in core], fixed)


def maxsat(
    hard: Sequence[Sequence[int]], soft: Iterable[tuple[Sequence[int], int]], nvars: int
) -> list[int] | None:
    """A model of the hard clauses that minimises the summed weight of broken soft clauses
    (RC2 MaxSAT), or None when the hard clauses have no model."""
    from pysat.examples.rc2 import RC2  # the optimiser: only fix, complete and build load it
    from pysat.formula import WCNF

    wcnf = WCNF()
    # handed over in one list: appending 300,000 clauses one by one costs a second
    wcnf.hard = [list(c) for c in hard]
    wcnf.nv = nvars
    for clause, weight in soft:
        wcnf.append(list(clause), weight=weight)
    with RC2(wcnf, solver=SOLVER) as rc2:
        model = rc2.compute()
        return list(model) if model is not None else None
