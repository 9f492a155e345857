"""One step of interactive configuration: a choice in; options with reasons, BOM and count out.

A server keeps one `Configurator` per process, warm. Unlike `Engine.options`, which adds an
activation variable and clauses per covering query (a warm engine slows down with use), a
step here never adds a clause: it asks the engine's incremental SAT solver under assumptions
only. The count comes from a d-DNNF that d4 compiles once at start (with every error rule
switched on) and conditions on the choices per step. Results are cached per state (LRU), and
the reasons found for an excluded value are reused for any later state that makes at least
the choices of their core.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import operator
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence

import attrs
import numpy as np
import numpy.typing as npt
import py_d4
from pysat.solvers import Solver

from cmf_config.bounded import (
    COMPLETE_SECONDS,
    RC2_MAX_CLAUSES,
    Completion,
    Count,
    WarmSolver,
    cost_of,
    product_bound,
    rc2_completion,
    shifted_soft,
)
from cmf_config.count import quiet_stdout
from cmf_config.derivation import Conflict, Derivation
from cmf_config.guarded import RuleSolver
from cmf_config.model import KINDS, BuiltVehicle, VehicleConfig
from cmf_config.reprs import shared_repr
from cmf_config.rules import Rule, holds
from cmf_config.sat import SOLVER, Session, shrink_by_propagation
from cmf_config.sharing import bom_product as _product
from cmf_config.sharing import compare
from cmf_config.solver import Change, Engine, SlotOptions, int_weights
from cmf_config.workspace import Workspace

ACTIVATIONS = 20_000
"""Covering queries (each a fresh variable in the second solver) before it is rebuilt."""

CONFLICT_BUDGET = 10_000
"""Conflicts one search for a reason's core may take before it is tried without a budget
(a reason is owed for every excluded value), and each search that shrinks a core."""

SHRINK_PROPAGATIONS = 32
"""A core that propagation refutes is shrunk by deletion (one propagation per test) when
it has at most this many choices and rules; a larger one is shown as found (it is still a
true reason: on the synthetic line such cores are long chains of rules, nearly minimal
already, and their shrinking cost a propagation per member for little gain)."""

SHRINK_BUDGET = 4
"""At most this many bounded searches shrink one core that propagation does not refute."""

RECENT_REASONS = 3
"""How many reasons just found are tried (one propagation each) on the next excluded value."""

POOL_MODELS = 1024
"""How many valid vehicles (models of the second solver) are kept to vouch for values."""

CACHE_STATES = 256
"""How many states' steps each process remembers."""

CACHE_REASONS_PER_VALUE = 8
"""How many (choices, rules) reasons each value remembers for later states (LRU)."""

ACTION_SECONDS = 2.0
"""Time a fix or a completion that a user asked for may take before it answers with the
best found (the engine's RC2 alone takes minutes on a large line)."""


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class ModuleTotal:
    """Cost and mass of one module's (or the brand's, or the vehicle's own) BOM lines."""

    module: str
    variant: str
    parts: int
    cost: float
    mass_kg: float


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Similar:
    """A catalog vehicle and the headline sharing ratio (Dice over part numbers) with it."""

    vehicle: str
    name: str
    ratio: float
    shared: int


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Step:
    """Everything the page shows for one state.

    `options` covers every slot: for an open slot, what it may take under the choices; for
    a chosen slot, what it could be changed to with the other choices kept. `completion`
    is the least-cost valid completion found within the step's budget (None when the
    choices conflict; `least` says whether it is proven least), `count` the exact number of
    valid complete vehicles extending the choices (None when it is not known exactly;
    `counted` then says "at least N").
    """

    assignment: Mapping[str, int]
    consistent: bool
    options: Mapping[str, SlotOptions]
    completion: Mapping[str, int] | None
    count: int | None
    counted: Count | None = None
    """The count as far as it goes: exact (d4, or an enumeration that ran out) or at least."""
    least: Completion | None = None
    """`completion` with its cost, whether it is proven least, and a lower bound."""


class Counter:
    """Exact counts under choices from a d-DNNF that d4 compiles once (classic branching)."""

    def __init__(self, clauses: Sequence[Sequence[int]], nvars: int) -> None:
        with quiet_stdout():
            self._compiled = _compile(_clean(clauses), nvars)
        self.nodes = int(self._compiled.getNbNodes())

    @classmethod
    def within(cls, clauses: Sequence[Sequence[int]], nvars: int, seconds: float) -> Counter | None:
        """A counter, or None when d4 cannot compile the formula within `seconds`.

        The compilation is tried first in a forked child under the time limit (d4 cannot be
        interrupted in process); only a formula that compiles in time is compiled here.
        """
        ctx = multiprocessing.get_context("fork")
        receiver, sender = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_compile_child, args=(clauses, nvars, sender))
        child.start()
        sender.close()
        try:
            if not receiver.poll(seconds):
                return None
            try:
                receiver.recv()
            except EOFError:  # the child died (d4 crashed or ran out of memory)
                return None
        finally:
            if child.is_alive():
                child.kill()
            child.join()
            receiver.close()
        return cls(clauses, nvars)

    def count(self, lits: Sequence[int]) -> int:
        """Models of the compiled formula that make every literal of `lits` true."""
        return int(str(self._compiled.count(list(lits))).strip().split()[-1])


def _clean(clauses: Sequence[Sequence[int]]) -> list[list[int]]:
    """Literals deduplicated, tautologies dropped (d4 has crashed on repeated literals)."""
    cleaned = [sorted(set(c)) for c in clauses]
    return [c for c in cleaned if not any(-lit in c for lit in c)]


def _compile(clauses: list[list[int]], nvars: int) -> py_d4.CompileResult:
    options = py_d4.dump_options_to_dict(py_d4.OptionDpllStyleMethod())
    options["branching"]["branchingHeuristicType"] = "classic"
    return py_d4.Solver(clauses, nvars, py_d4.load_options_from_dict(options)).compile()


def _compile_child(
    clauses: Sequence[Sequence[int]], nvars: int, sender: multiprocessing.connection.Connection
) -> None:
    with quiet_stdout():
        nodes = _compile(_clean(clauses), nvars).getNbNodes()
    sender.send(int(nodes))


class Stepper:
    """An engine kept warm for interactive steps: options with reasons, completion, count.

    Thread-safe (one lock). Adds no clause or variable to the engine's solver.
    `weights` is the objective of the completion (per slot, per value; least total wins).
    With `alternatives`, a step also tells for each chosen slot which other values it could
    take with the other choices kept (the page shows them); without, only open slots.
    """

    def __init__(
        self,
        engine: Engine,
        weights: Mapping[str, Sequence[float]],
        *,
        count_seconds: float | None = 30.0,
        alternatives: bool = True,
        complete_seconds: float = COMPLETE_SECONDS,
    ) -> None:
        self.engine = engine
        self.complete_seconds = complete_seconds
        self.rc2_max_clauses = RC2_MAX_CLAUSES
        """RC2 is tried on formulas up to this many clauses (0: the anytime path only)."""
        self.alternatives = alternatives
        self.problem = engine.problem
        self.weights = weights
        self.lock = threading.RLock()
        self._hard = list(engine.hard_lits())
        self._lit_item = {
            lit: (name, index)
            for name, lits in engine.encoding.slot_lits.items()
            for index, lit in enumerate(lits)
        }
        self._steps: OrderedDict[frozenset[tuple[str, int]], Step] = OrderedDict()
        self._reasons: dict[int, list[tuple[frozenset[int], tuple[str, ...]]]] = {}
        self._completions: OrderedDict[frozenset[tuple[str, int]], Completion] = OrderedDict()
        given = int_weights(weights)
        self._int_weights = {
            slot.name: given.get(slot.name) or [0] * len(slot.values) for slot in self.problem.slots
        }
        self._value_index = {
            slot.name: {v.id: i for i, v in enumerate(slot.values)} for slot in self.problem.slots
        }
        self.warm = WarmSolver(engine)
        self._reading: dict[str, list[Rule]] = {}
        for rule in engine.hard:
            for slot in rule.slots:
                self._reading.setdefault(slot, []).append(rule)
        """A warm solver for bounded counts and anytime completions (built on first use)."""
        self._units: Solver | None = None
        self._units_vars = 0
        self._next_activation = 0
        self.rebuilds = 0
        """How often the second solver was built (once, then once per ACTIVATIONS queries)."""
        self.unbounded = 0
        """How many reason searches ran past CONFLICT_BUDGET (and then without a budget)."""
        # Every value's literal, slot by slot: a model's values are one vector over them.
        lits_of = engine.encoding.slot_lits
        flat = [lit for s in self.problem.slots for lit in lits_of[s.name]]
        self._flat = np.array(flat, dtype=np.int64)
        self._position = {lit: i for i, lit in enumerate(flat)}
        self._span: dict[str, slice] = {}
        for s in self.problem.slots:
            first = self._position[lits_of[s.name][0]] if lits_of[s.name] else 0
            self._span[s.name] = slice(first, first + len(lits_of[s.name]))
        self._top = max((abs(lit) for lit in flat), default=0)
        self._read = operator.itemgetter(*(abs(lit) - 1 for lit in flat), 0)
        self._models = np.zeros((POOL_MODELS, len(flat)), dtype=bool)
        self._stored = 0
        self._next_model = 0
        self._orders: dict[str, list[int]] = {}
        # Per slot, the error rules reading it with the slots they read (authored rules and
        # rules reading fewer slots first: they make the plainest reasons).
        reading: dict[str, list[tuple[Rule, frozenset[str]]]] = {}
        for rule in sorted(engine.hard, key=lambda r: (r.builtin, len(r.slots), r.id)):
            read = rule.slots
            for slot in read:
                reading.setdefault(slot, []).append((rule, read))
        self._rules_reading = reading
        self._reading_ids = {
            slot: [rule.id for rule, _read in rules] for slot, rules in reading.items()
        }
        self._neighbours: dict[str, set[str]] = {}
        for slot, rules in reading.items():
            self._neighbours[slot] = set().union(*(read for _rule, read in rules)) - {slot}
        # deletion order of a core's rules: the rules least worth showing are dropped first
        width = {r.id: len(read) for rules in reading.values() for r, read in rules}
        preference = sorted(engine.hard, key=lambda r: (not r.builtin, -width.get(r.id, 0), r.id))
        self._rank = {r.id: i for i, r in enumerate(preference)}
        self._guard: RuleSolver | None = None
        self._recent: list[list[int]] = []
        """Reasons found in this options call (choices and selectors), tried on the next
        values first: one choice often excludes several values for the same rules."""
        self.counter: Counter | None = None
        if count_seconds is not None:
            clauses = [*engine.encoding.clauses, *engine.selector_units()]
            self.counter = Counter.within(clauses, engine.encoding.nvars, count_seconds)

    def step(self, assignment: Mapping[str, int]) -> Step:
        """Options of every slot, the least-cost completion and the count, for one state."""
        key = frozenset(assignment.items())
        with self.lock:
            cached = self._steps.get(key)
            if cached is not None:
                self._steps.move_to_end(key)
                return cached
            step = self._compute(dict(assignment))
            self._steps[key] = step
            if len(self._steps) > CACHE_STATES:
                self._steps.popitem(last=False)
            return step

    def clear(self) -> None:
        """Forget the cached steps, reasons and completions (benchmarks measure cold steps)."""
        with self.lock:
            self._steps.clear()
            self._reasons.clear()
            self._completions.clear()
            self._stored = 0
            self.warm.close()

    def _compute(self, assignment: dict[str, int]) -> Step:
        engine = self.engine
        consistent = self.consistent(assignment)
        options: dict[str, SlotOptions] = {}
        if consistent:
            open_slots = [s.name for s in self.problem.slots if s.name not in assignment]
            options.update(self.options(assignment, open_slots))
            chosen = sorted(assignment, key=engine.encoding.order.__getitem__)
            for name in chosen if self.alternatives else ():
                others = {k: v for k, v in assignment.items() if k != name}
                options.update(self.options(others, [name]))
        allowed = {
            name: [self._value_index[name][v] for v in found.possible]
            for name, found in options.items()
            if name not in assignment
        }
        least = self.least_cost(assignment, allowed) if consistent else None
        counted = (
            self.count(assignment, least.assignment if least is not None else None)
            if consistent
            else Count(value=0, exact=True, how="sat")
        )
        ordered = {s.name: options[s.name] for s in self.problem.slots if s.name in options}
        return Step(
            assignment=assignment,
            consistent=consistent,
            options=ordered,
            completion=dict(least.assignment) if least is not None else None,
            count=counted.value if counted.exact else None,
            counted=counted,
            least=least,
        )

    def consistent(self, assignment: Mapping[str, int]) -> bool:
        """Whether a valid vehicle makes the choices (a kept model, else the units solver)."""
        choices = self.engine.choice_lits(assignment)
        if self._agreeing(choices).any():
            return True
        units = self._units_solver()
        if not units.solve(assumptions=choices):
            return False
        self._keep(units.get_model() or [])
        return True

    def count(
        self, assignment: Mapping[str, int], vehicle: Mapping[str, int] | None = None
    ) -> Count:
        """Valid complete vehicles extending the choices: exact from the d-DNNF when d4
        compiled the rules at start, else a bounded enumeration (exact only when it ran out
        of vehicles before its bound); when that stops, "at least" the larger of what it
        found and the product bound around `vehicle` (a valid completion of the choices)."""
        if self.counter is not None:
            exact = self.counter.count(self.engine.choice_lits(assignment))
            return Count(value=exact, exact=True, how="d4")
        enumerated = self.warm.enumerate_count(assignment)
        if enumerated.exact or vehicle is None:
            return enumerated
        open_slots = [s.name for s in self.problem.slots if s.name not in assignment]
        product = product_bound(self.problem, self._reading, vehicle, open_slots)
        if product > enumerated.value:
            return Count(value=product, exact=False, how="product")
        return enumerated

    def least_cost(
        self,
        assignment: Mapping[str, int],
        allowed: Mapping[str, Sequence[int]] | None = None,
        seconds: float | None = None,
    ) -> Completion | None:
        """The valid completion of least total weight found within `seconds` (the stepper's
        `complete_seconds` by default), or None when there is none.

        Anytime: RC2 (stratified, the cheapest value of each slot at zero) when the formula is
        small enough to load within a step and it finishes in time (proven least); else a
        first completion following the cheapest allowed values, improved by solver calls
        while time lasts, proven least only when its cost meets the lower bound (chosen
        weights plus each open slot's cheapest value in `allowed`, the values still possible;
        all values when not given). A completion proven least for fewer choices stays proven
        least for more choices that it agrees with (it is valid, and nothing cheaper can
        appear); one not proven is reused there as the starting point. Cached per state.
        """
        key = frozenset(assignment.items())
        with self.lock:
            cached = self._completions.get(key)
            if cached is not None:
                self._completions.move_to_end(key)
                return cached
            found = self._least_cost(assignment, allowed, seconds)
            if found is not None:
                self._completions[key] = found
                if len(self._completions) > CACHE_STATES:
                    self._completions.popitem(last=False)
            return found

    def optimize(
        self,
        assignment: Mapping[str, int],
        weights: Mapping[str, Sequence[int]],
        seconds: float,
    ) -> Completion | None:
        """The valid completion of least total `weights` (integers, per slot and value; a
        slot not given costs nothing) found within `seconds`, or None when there is none.
        The same anytime search as `least_cost`, for another objective (nothing cached):
        proven least when RC2 finishes or the cost meets the lower bound.
        """
        objective = {
            slot.name: list(weights.get(slot.name) or [0] * len(slot.values))
            for slot in self.problem.slots
        }
        with self.lock:
            return self._least_cost(assignment, None, seconds, objective)

    def _least_cost(
        self,
        assignment: Mapping[str, int],
        allowed: Mapping[str, Sequence[int]] | None,
        seconds: float | None,
        objective: Mapping[str, Sequence[int]] | None = None,
    ) -> Completion | None:
        engine = self.engine
        weights = self._int_weights if objective is None else objective
        budget = self.complete_seconds if seconds is None else seconds
        deadline = time.perf_counter() + budget
        if len(assignment) == len(self.problem.slots):
            if not engine.is_consistent(assignment):
                return None
            cost = cost_of(weights, assignment)
            return Completion(
                assignment=dict(assignment), cost=cost, proven=True, bound=cost, how="bound"
            )
        start: dict[str, int] | None = None
        earlier_ones = list(self._completions.items()) if objective is None else []
        for earlier_key, earlier in reversed(earlier_ones):
            if earlier_key <= assignment.items() and all(
                earlier.assignment[k] == v for k, v in assignment.items()
            ):
                if earlier.proven:
                    return earlier
                start = dict(earlier.assignment) if start is None else start
        values = {
            name: list(allowed[name])
            if allowed is not None and name in allowed and allowed[name]
            else list(range(len(slot.values)))
            for slot in self.problem.slots
            if (name := slot.name) not in assignment
        }
        bound = cost_of(weights, assignment) + sum(
            min(weights[name][i] for i in indices) for name, indices in values.items()
        )
        found = self.warm.first(assignment, weights, values, start)
        if found is None:
            return None
        cost = cost_of(weights, found)
        if cost <= bound:
            return Completion(assignment=found, cost=cost, proven=True, bound=cost, how="bound")
        soft, _ = shifted_soft(engine, weights, assignment)
        if soft and len(engine.encoding.clauses) <= self.rc2_max_clauses:
            model = rc2_completion(
                engine, assignment, soft, max(0.0, deadline - time.perf_counter())
            )
            if model is not None:
                found = engine.decode(model)
                cost = cost_of(weights, found)
                return Completion(assignment=found, cost=cost, proven=True, bound=cost, how="rc2")
        found = self.warm.improve(assignment, found, weights, values, deadline)
        cost = cost_of(weights, found)
        if cost <= bound:
            return Completion(assignment=found, cost=cost, proven=True, bound=cost, how="bound")
        return Completion(assignment=found, cost=cost, proven=False, bound=bound, how="improved")

    def options(
        self, assignment: Mapping[str, int], slots: Sequence[str], reasons: bool = True
    ) -> dict[str, SlotOptions]:
        """Possible values of `slots` under the choices, and the rules excluding the others.

        Exact (backtrack-free): a value is possible when a valid vehicle with the choices
        uses it, excluded when the units solver proves that none does. First, one unit
        propagation from the choices excludes every value it falsifies; then the models kept
        from earlier calls that agree with the choices vouch for the values they use; then
        covering queries ask for any valid vehicle using a value not seen yet (preferring
        unseen values and avoiding seen ones: phases), until the first unsatisfiable one
        proves every value left excluded. The engine's own clauses and variables are never
        touched; the covering clauses live in the second solver and are retired at once.
        Every excluded value gets its reason (`_reason`): none is left out. Without
        `reasons`, the excluded values come with no rules (only the sets are wanted).
        """
        units = self._units_solver()
        choices = self.engine.choice_lits(assignment)
        self._recent.clear()
        no_conflict, implied = units.propagate(assumptions=choices)
        if not no_conflict:
            return {name: SlotOptions(possible=(), excluded={}) for name in slots}
        wanted = np.zeros(len(self._flat), dtype=bool)
        for name in slots:
            wanted[self._span[name]] = True
        falsified = np.zeros(len(self._flat), dtype=bool)
        position = self._position
        for lit in implied:
            at = position.get(-lit)
            if at is not None:
                falsified[at] = True
        seen = self._agreeing(choices)
        open_ = wanted & ~falsified & ~seen
        while open_.any():
            unseen = self._flat[open_].tolist()
            activation = self._activation()
            units.add_clause([-activation, *unseen])
            units.set_phases([*unseen, *(-self._flat[seen & wanted]).tolist()])
            found = units.solve(assumptions=[*choices, activation])
            model = units.get_model() if found else None
            units.add_clause([-activation])  # retired for good
            if not model:
                break
            seen |= self._keep(model)
            open_ &= ~seen
        if slots and not (seen & wanted).any():
            # no valid vehicle at all with the choices (see the covering clause)
            return {name: SlotOptions(possible=(), excluded={}) for name in slots}
        chosen = set(choices)
        out: dict[str, SlotOptions] = {}
        for name in slots:
            values = self.problem.slot(name).values
            span = self._span[name]
            lits = self.engine.encoding.slot_lits[name]
            marks = seen[span].tolist()
            excluded: dict[str, tuple[str, ...]] = {}
            for index, value in enumerate(values):
                if marks[index]:
                    continue
                lit = lits[index]
                rules = self._known_reason(lit, chosen) if reasons else ()
                if rules is None:
                    rules = self._reason(lit, assignment, choices)
                excluded[value.id] = rules
            out[name] = SlotOptions(
                possible=tuple(v.id for i, v in enumerate(values) if marks[i]),
                excluded=dict(sorted(excluded.items())),
            )
        return out

    def _agreeing(self, choices: Sequence[int]) -> npt.NDArray[np.bool_]:
        """The values used by a kept model that makes every choice (each is a valid vehicle
        with the choices, so it vouches for all of its values)."""
        kept = self._models[: self._stored]
        if not len(kept):
            return np.zeros(len(self._flat), dtype=bool)
        at = [self._position[lit] for lit in choices]
        agree = kept[:, at].all(axis=1) if at else np.ones(len(kept), dtype=bool)
        return np.asarray(kept[agree].any(axis=0), dtype=bool)

    def _keep(self, model: Sequence[int]) -> npt.NDArray[np.bool_]:
        """The values a model uses (a PySAT model lists variable v at position v - 1); the
        model joins the bounded ring of kept models."""
        if len(model) < self._top:  # variables in no clause: false
            model = [*model, *(-v for v in range(len(model) + 1, self._top + 1))]
        used: npt.NDArray[np.bool_] = np.asarray(self._read(model)[:-1]) == self._flat
        self._models[self._next_model] = used
        self._next_model = (self._next_model + 1) % POOL_MODELS
        self._stored = min(self._stored + 1, POOL_MODELS)
        return used

    def _units_solver(self) -> Solver:
        """A second solver: the engine's CNF with every error rule as a unit clause.

        Its propagation starts from a formula already simplified by the rules, so value
        queries cost a fraction of the engine's (which switches rules on as assumptions, to
        name them in cores). Covering queries add a clause guarded by a fresh activation
        variable and retire it with a unit at once (satisfied clauses are deleted by the
        solver); after ACTIVATIONS of them, or when the engine's encoding has grown, the
        solver is rebuilt, so that neither clauses nor variables accumulate with use.
        """
        encoding = self.engine.encoding
        if (
            self._units is None
            or self._units_vars != encoding.nvars
            or self._next_activation > encoding.nvars + ACTIVATIONS
        ):
            if self._units is not None:
                self._units.delete()
            if self._units_vars != encoding.nvars:
                self._stored = 0  # models of another formula: forget them
            self._units = Solver(name=SOLVER, bootstrap_with=encoding.clauses)
            for selector in self._hard:
                self._units.add_clause([selector])
            self._units_vars = encoding.nvars
            self._next_activation = encoding.nvars + 1
            self.rebuilds += 1
        return self._units

    def _activation(self) -> int:
        """A fresh variable of the second solver, above every variable of the encoding."""
        self._next_activation += 1
        return self._next_activation - 1

    def _guarded(self) -> RuleSolver:
        """The error rules with all their clauses under their selectors (built on first use)."""
        if self._guard is None:
            self._guard = RuleSolver(self.problem, self.engine.hard)
            assert self._guard.slot_lits == self.engine.encoding.slot_lits
        return self._guard

    def _known_reason(self, lit: int, chosen: set[int]) -> tuple[str, ...] | None:
        """A reason found earlier whose choices are all made now (most recently used first)."""
        remembered = self._reasons.get(lit)
        if remembered is None:
            return None
        for i, (needed, rules) in enumerate(remembered):
            if needed <= chosen:
                if i:
                    remembered.insert(0, remembered.pop(i))
                return rules
        return None

    def _selector_order(self, name: str) -> list[int]:
        """Every error rule's selector, nearest to slot `name` first (the rules reading it,
        then the rules reading a slot those read, then the rest), so that a refutation by
        propagation meets its conflict after few rules."""
        found = self._orders.get(name)
        if found is not None:
            return found
        reading = self._reading_ids
        selectors = self._guarded().selectors
        near = reading.get(name, [])
        position = self.engine.encoding.order
        neighbours = sorted(self._neighbours.get(name, set()), key=lambda n: position[n])
        every = (r.id for r in self.engine.hard)
        ids = dict.fromkeys([*near, *(rid for n in neighbours for rid in reading[n]), *every])
        order = [selectors[rid] for rid in ids]
        self._orders[name] = order
        return order

    def _reason(
        self, lit: int, assignment: Mapping[str, int], choices: Sequence[int]
    ) -> tuple[str, ...]:
        """Rules that, with (some of) the choices, exclude the value of `lit`.

        First a rule that the choices and the value break outright (one rule: the shortest
        reason there is). Else the core of one call of the engine's solver (rules switched on
        as assumptions, nearest rules first): any unsatisfiable core is a true reason. It is
        shrunk by deletion, choices first (fewer choices: reusable in more states), then the
        rules least worth showing: by unit propagation when propagation refutes the core
        (cheap: at most SHRINK_PROPAGATIONS tests), else by at most SHRINK_BUDGET bounded
        searches. Past a budget the core is kept as it is: larger, never wrong. Remembered
        with the choices it needs, for later states.
        """
        name, index = self._lit_item[lit]
        trial = {**assignment, name: index}
        for rule, read in self._rules_reading.get(name, ()):
            if read <= trial.keys() and not holds(self.problem, rule, trial):
                lits = self.engine.encoding.slot_lits
                needed = frozenset(lits[s][trial[s]] for s in read if s != name)
                self._share([*needed, self._guarded().selectors[rule.id]])
                return self._remember(lit, needed, (rule.id,))
        guard = self._guarded()
        sat = guard.session
        chosen = set(choices)
        for earlier in self._recent:
            no_conflict, _ = sat.propagate([lit, *earlier])
            if not no_conflict:  # the same choices and rules exclude this value too
                kept = (
                    shrink_by_propagation(sat, earlier, [lit], len(earlier))
                    if len(earlier) <= SHRINK_PROPAGATIONS
                    else earlier
                )
                needed = frozenset(c for c in kept if c in chosen)
                return self._remember(
                    lit, needed, tuple(sorted(guard.rule_of[s] for s in kept if s not in chosen))
                )
        assumptions = [lit, *choices, *self._selector_order(name)]
        found = sat.solve_limited(assumptions, CONFLICT_BUDGET)
        if found is None:  # a long search: it is still owed a reason, so no budget now
            self.unbounded += 1
            found = sat.solve(assumptions)
        if found:
            raise AssertionError("a value found possible that the units solver refuted")
        core = sat.core()
        # deletion order: choices, then the rules least worth showing (built-in, wide)
        rank, rule_of = self._rank, guard.rule_of
        candidates = [c for c in choices if c in core] + sorted(
            (s for s in core if s in rule_of), key=lambda s: rank[rule_of[s]]
        )
        no_conflict, _ = sat.propagate([lit, *candidates])
        if not no_conflict:
            kept = (
                shrink_by_propagation(sat, candidates, [lit], SHRINK_PROPAGATIONS)
                if len(candidates) <= SHRINK_PROPAGATIONS
                else candidates
            )
        else:
            kept = self._shrink_by_search(sat, lit, candidates)
        needed = frozenset(c for c in kept if c in chosen)
        rules = tuple(sorted(rule_of[s] for s in kept if s not in chosen))
        self._share(kept)
        return self._remember(lit, needed, rules)

    def _share(self, reason: list[int]) -> None:
        self._recent.insert(0, reason)
        del self._recent[RECENT_REASONS:]

    def _shrink_by_search(self, sat: Session, lit: int, candidates: list[int]) -> list[int]:
        """Deletion with at most SHRINK_BUDGET bounded searches (a core that propagation
        alone does not refute)."""
        kept = list(candidates)
        budget = SHRINK_BUDGET
        i = 0
        while i < len(kept) and budget > 0 and len(kept) > 1:
            budget -= 1
            smaller = kept[:i] + kept[i + 1 :]
            if sat.solve_limited([lit, *smaller], CONFLICT_BUDGET) is False:
                still = sat.core()
                kept = [s for s in smaller if s in still]
                i = min(i, len(kept))
                continue
            i += 1
        return kept

    def _remember(
        self, lit: int, needed: frozenset[int], rules: tuple[str, ...]
    ) -> tuple[str, ...]:
        remembered = self._reasons.setdefault(lit, [])
        remembered.insert(0, (needed, rules))
        del remembered[CACHE_REASONS_PER_VALUE:]  # the least recently used go
        return rules


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Fix:
    """The nearest valid choices found: the chosen slots' values, the changes, and whether
    no valid configuration changes fewer choices (proven) or time ran out first."""

    assignment: Mapping[str, int]
    changes: tuple[Change, ...]
    proven: bool


class Configurator(Stepper):
    """A catalog workspace kept warm: steps, plus explain, fix, complete, BOM and sharing."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        count_seconds: float | None = 30.0,
        action_seconds: float = ACTION_SECONDS,
    ) -> None:
        super().__init__(
            workspace.engine, workspace.module_weights("cost"), count_seconds=count_seconds
        )
        self.workspace = workspace
        self.action_seconds = action_seconds
        """Time a fix or a completion asked for (a click, an API call) may take."""
        self._cost = workspace.module_weights("cost")
        self._products = {
            vid: _product(vid, workspace.bom_lines(v.config, self._resolved(v.config)))
            for vid, v in sorted(workspace.catalog.vehicles.items())
            if self._resolvable(v.config)
        }

    def _resolvable(self, config: VehicleConfig) -> bool:
        return self.engine.complete_any(self.workspace.assignment(config)) is not None

    def _resolved(self, config: VehicleConfig) -> dict[str, int]:
        assignment = self.workspace.assignment(config)
        if self.workspace.is_complete(assignment):
            return assignment
        completed = self.workspace.complete(config)
        assert completed is not None  # _resolvable said so
        return completed

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self.lock:
            yield

    # ------------------------------------------------------------- questions

    def explain(self, assignment: Mapping[str, int]) -> tuple[Conflict, Derivation] | None:
        """A minimal conflict of the choices and its derivation (the engine's), or None."""
        with self._locked():
            conflict = self.engine.explain(assignment)
            if conflict is None:
                return None
            return conflict, self.engine.derive(assignment, conflict)

    def fix(self, assignment: Mapping[str, int]) -> Fix | None:
        """The nearest valid choices (fewest changed, ties at least cost, as the engine's
        `fix`), restricted to the slots chosen, found within `action_seconds`; None when no
        configuration at all is valid.

        The engine's fix runs RC2 to the end, which on a large line takes minutes; here the
        same objective (a change costs more than every tie cost together) goes through the
        anytime search of `optimize`, so a page or an API call always answers in time, and
        says whether the fix is proven nearest.
        """
        ties = int_weights(self._cost)
        big = 1 + sum(max(ws, default=0) for ws in ties.values())
        objective = {
            slot.name: [
                ties.get(slot.name, [0] * len(slot.values))[index]
                + (big if slot.name in assignment and assignment[slot.name] != index else 0)
                for index in range(len(slot.values))
            ]
            for slot in self.problem.slots
        }
        found = self.optimize({}, objective, self.action_seconds)
        if found is None:
            return None
        fixed = {name: found.assignment[name] for name in assignment}
        return Fix(
            assignment=fixed,
            changes=tuple(self.engine.changes(assignment, found.assignment)),
            proven=found.proven,
        )

    def complete(
        self, assignment: Mapping[str, int], minimize: str = "cost", share_with: str | None = None
    ) -> Completion | None:
        """An optimal completion, found within `action_seconds`: least cost or mass, or most
        parts shared with a catalog vehicle; None when the choices have no valid completion.

        Anytime (`optimize`): proven optimal on the bundled catalog, the best found in time
        (labelled not proven) on lines too large for RC2 to finish.
        """
        ws = self.workspace
        if share_with is not None:
            reference = ws.catalog.vehicles[share_with].config
            gains = int_weights(ws.sharing_weights(reference))
            # most shared = least of (the slot's best gain - the value's gain): one value per
            # slot, so the shift per slot keeps the order of completions
            objective = {}
            for slot in self.problem.slots:
                gain = gains.get(slot.name) or [0] * len(slot.values)
                objective[slot.name] = [max(gain) - value for value in gain]
        else:
            objective = int_weights(ws.module_weights(minimize))
        return self.optimize(assignment, objective, self.action_seconds)

    def built(
        self, config: VehicleConfig, assignment: Mapping[str, int], completion: Mapping[str, int]
    ) -> BuiltVehicle:
        """The vehicle a completion resolves to, its BOM, and which slots were filled in."""
        ws = self.workspace
        with self._locked():
            lines = ws.bom_lines(config, completion)
        return BuiltVehicle(
            name=config.name,
            brand=ws.value_id("brand", completion["brand"]),
            platform=ws.value_id("platform", completion["platform"]),
            modules={kind: ws.value_id(kind, completion[kind]) for kind in KINDS},
            bom=tuple(lines),
            filled={k: ws.value_id(k, v) for k, v in completion.items() if k not in assignment},
        )

    def similar(self, built: BuiltVehicle, top: int = 3) -> list[Similar]:
        """The catalog vehicles sharing the most part numbers (headline ratio, best first)."""
        own = _product(built.name, built.bom)
        mine = {line.part for line in own.lines}
        scored = []
        for vid, product in self._products.items():
            theirs = {line.part for line in product.lines}
            shared = len(mine & theirs)
            total = len(mine) + len(theirs)
            ratio = 2 * shared / total if total else 0.0
            scored.append((-ratio, vid, shared))
        scored.sort()
        out = []
        for negative, vid, shared in scored[:top]:
            # the headline ratio of `sharing.compare` (the same definition, asserted by tests)
            name = self.workspace.catalog.vehicles[vid].config.name
            out.append(Similar(vehicle=vid, name=name, ratio=-negative, shared=shared))
        return out

    def compare_with(self, built: BuiltVehicle, vehicle: str) -> object:
        """The full pairwise sharing of the vehicle being built with a catalog vehicle."""
        return compare(_product(built.name, built.bom), self._products[vehicle])


def module_totals(built: BuiltVehicle) -> list[ModuleTotal]:
    """Per module kind, then brand and vehicle: pieces, cost and mass of its BOM lines."""
    order = [*KINDS, "brand", "vehicle"]
    out = []
    for module in order:
        lines = [line for line in built.bom if line.module == module]
        if not lines and module == "vehicle":
            continue
        variant = (
            built.modules.get(module, "")
            if module in KINDS
            else (built.brand if module == "brand" else "")
        )
        out.append(
            ModuleTotal(
                module=module,
                variant=variant,
                parts=sum(line.quantity for line in lines),
                cost=round(sum(line.quantity * line.unit_cost for line in lines), 2),
                mass_kg=round(sum(line.quantity * line.unit_mass_kg for line in lines), 3),
            )
        )
    return out
