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
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence

import attrs
import py_d4

from cmf_config.model import KINDS, BomLine, BuiltVehicle, VehicleConfig
from cmf_config.sharing import BomLine as ShareLine
from cmf_config.sharing import ProductBom, compare
from cmf_config.solver import Conflict, SlotOptions, _quiet_stdout
from cmf_config.workspace import Workspace

SHRINK_BUDGET = 12
"""At most this many extra solver calls shrink one excluded value's core (a bounded shrink)."""

CACHE_STATES = 256
"""How many states' steps each process remembers."""

CACHE_REASONS_PER_VALUE = 8
"""How many (choices, rules) reasons each value remembers for later states."""


@attrs.frozen(kw_only=True)
class ModuleTotal:
    """Cost and mass of one module's (or the brand's, or the vehicle's own) BOM lines."""

    module: str
    variant: str
    parts: int
    cost: float
    mass_kg: float


@attrs.frozen(kw_only=True)
class Similar:
    """A catalog vehicle and the headline sharing ratio (Dice over part numbers) with it."""

    vehicle: str
    name: str
    ratio: float
    shared: int


@attrs.frozen(kw_only=True)
class Step:
    """Everything the page shows for one state.

    `options` covers every slot: for an open slot, what it may take under the choices; for
    a chosen slot, what it could be changed to with the other choices kept. `completion`
    is the least-cost valid completion (None when the choices conflict), `count` the
    number of valid complete vehicles extending the choices (None when not compiled).
    """

    assignment: Mapping[str, int]
    consistent: bool
    options: Mapping[str, SlotOptions]
    completion: Mapping[str, int] | None
    count: int | None


class Counter:
    """Exact counts under choices from a d-DNNF that d4 compiles once (classic branching)."""

    def __init__(self, clauses: Sequence[Sequence[int]], nvars: int) -> None:
        options = py_d4.dump_options_to_dict(py_d4.OptionDpllStyleMethod())
        options["branching"]["branchingHeuristicType"] = "classic"
        cleaned = [sorted(set(c)) for c in clauses]
        cleaned = [c for c in cleaned if not any(-lit in c for lit in c)]
        with _quiet_stdout():
            solver = py_d4.Solver(cleaned, nvars, py_d4.load_options_from_dict(options))
            self._compiled = solver.compile()
        self.nodes = int(self._compiled.getNbNodes())

    def count(self, lits: Sequence[int]) -> int:
        """Models of the compiled formula that make every literal of `lits` true."""
        return int(str(self._compiled.count(list(lits))).strip().split()[-1])


class Configurator:
    """A workspace kept warm for interactive steps; thread-safe (one lock per process)."""

    def __init__(self, workspace: Workspace, *, count: bool = True) -> None:
        self.workspace = workspace
        self.engine = workspace.engine
        self.problem = workspace.problem
        self.lock = threading.RLock()
        engine = self.engine
        self._hard = list(engine.hard_lits())
        self._rule_of = {engine.selectors[r.id]: r.id for r in engine.hard}
        self._lit_item = {
            lit: (name, index)
            for name, lits in engine.encoding.slot_lits.items()
            for index, lit in enumerate(lits)
        }
        self._steps: OrderedDict[frozenset[tuple[str, int]], Step] = OrderedDict()
        self._reasons: dict[int, list[tuple[frozenset[int], tuple[str, ...]]]] = {}
        self._cost = workspace.module_weights("cost")
        self.counter: Counter | None = None
        if count:
            units = engine._selector_units()
            self.counter = Counter([*engine.encoding.clauses, *units], engine.encoding.nvars)
        self._products = {
            vid: _product(vid, workspace.bom_lines(v.config, self._resolved(v.config)))
            for vid, v in sorted(workspace.catalog.vehicles.items())
            if self._resolvable(v.config)
        }

    # ------------------------------------------------------------- set-up helpers

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

    # ------------------------------------------------------------- the step

    def step(self, assignment: Mapping[str, int]) -> Step:
        """Options of every slot, the least-cost completion and the count, for one state."""
        key = frozenset(assignment.items())
        with self._locked():
            cached = self._steps.get(key)
            if cached is not None:
                self._steps.move_to_end(key)
                return cached
            step = self._compute(dict(assignment))
            self._steps[key] = step
            if len(self._steps) > CACHE_STATES:
                self._steps.popitem(last=False)
            return step

    def _compute(self, assignment: dict[str, int]) -> Step:
        engine = self.engine
        consistent = engine.is_consistent(assignment)
        options: dict[str, SlotOptions] = {}
        if consistent:
            open_slots = [s.name for s in self.problem.slots if s.name not in assignment]
            options.update(self.options(assignment, open_slots))
            for name in sorted(assignment, key=engine.encoding.order.__getitem__):
                others = {k: v for k, v in assignment.items() if k != name}
                options.update(self.options(others, [name]))
        completion = engine.complete(assignment, self._cost) if consistent else None
        count = None
        if self.counter is not None:
            count = self.counter.count(engine.choice_lits(assignment)) if consistent else 0
        ordered = {s.name: options[s.name] for s in self.problem.slots if s.name in options}
        return Step(
            assignment=assignment,
            consistent=consistent,
            options=ordered,
            completion=completion,
            count=count,
        )

    def options(
        self, assignment: Mapping[str, int], slots: Sequence[str]
    ) -> dict[str, SlotOptions]:
        """Possible values of `slots` under the choices, and the rules excluding the others.

        Exact (backtrack-free): a value is possible when the solver finds a valid vehicle
        with it, excluded when the solver proves none exists. Adds no clause to the solver.
        """
        engine = self.engine
        sat = engine.sat
        choices = engine.choice_lits(assignment)
        base = [*choices, *self._hard]
        seen: dict[str, set[int]] = {name: set() for name in slots}
        model = engine._solve(base)
        if model is None:
            return {name: SlotOptions(possible=(), excluded={}) for name in slots}
        self._mark(seen, model)
        # Models that prefer unseen values vouch for many values at once.
        for _ in range(4):
            unseen = self._unseen(seen)
            if not unseen:
                break
            sat.set_phases(unseen)
            model = engine._solve(base)
            if model is None or not self._mark(seen, model):
                break
        chosen = set(choices)
        excluded: dict[str, dict[str, tuple[str, ...]]] = {name: {} for name in slots}
        for lit in self._unseen(seen):
            name, index = self._lit_item[lit]
            if index in seen[name]:
                continue  # a model found for an earlier value covered this one
            known = self._known_reason(lit, chosen)
            if known is not None:
                excluded[name][self.problem.slot(name).values[index].id] = known
                continue
            model = engine._solve([lit, *base])
            if model is not None:
                self._mark(seen, model)
                continue
            rules = self._reason(lit, choices)
            excluded[name][self.problem.slot(name).values[index].id] = rules
        out: dict[str, SlotOptions] = {}
        for name in slots:
            values = self.problem.slot(name).values
            out[name] = SlotOptions(
                possible=tuple(v.id for i, v in enumerate(values) if i in seen[name]),
                excluded=dict(sorted(excluded[name].items())),
            )
        return out

    def _unseen(self, seen: Mapping[str, set[int]]) -> list[int]:
        lits = self.engine.encoding.slot_lits
        return [
            lit
            for name, indices in seen.items()
            for index, lit in enumerate(lits[name])
            if index not in indices
        ]

    def _mark(self, seen: dict[str, set[int]], model: Sequence[int]) -> bool:
        decoded = self.engine.decode(model)
        grew = False
        for name, indices in seen.items():
            if decoded[name] not in indices:
                indices.add(decoded[name])
                grew = True
        return grew

    def _known_reason(self, lit: int, chosen: set[int]) -> tuple[str, ...] | None:
        for needed, rules in self._reasons.get(lit, ()):
            if needed <= chosen:
                return rules
        return None

    def _reason(self, lit: int, choices: Sequence[int]) -> tuple[str, ...]:
        """The rules of a core of (choices, value), shrunk with at most SHRINK_BUDGET calls.

        Any unsatisfiable subset is a true reason; the shrink only makes it shorter.
        """
        sat = self.engine.sat
        core = set(sat.get_core() or [])
        needed = frozenset(c for c in choices if c in core)
        kept = [s for s in self._hard if s in core]
        fixed = [lit, *needed]
        budget = SHRINK_BUDGET
        i = 0
        while i < len(kept) and budget > 0 and len(kept) > 1:
            budget -= 1
            trial = kept[:i] + kept[i + 1 :]
            if not sat.solve(assumptions=[*fixed, *trial]):
                smaller = set(sat.get_core() or [])
                kept = [s for s in trial if s in smaller]
                i = min(i, len(kept))
                continue
            i += 1
        rules = tuple(sorted(self._rule_of[s] for s in kept))
        remembered = self._reasons.setdefault(lit, [])
        if len(remembered) < CACHE_REASONS_PER_VALUE:
            remembered.append((needed, rules))
        return rules

    # ------------------------------------------------------------- questions

    def explain(self, assignment: Mapping[str, int]) -> Conflict | None:
        """A minimal conflict of the choices (the engine's explain), or None."""
        with self._locked():
            return self.engine.explain(assignment)

    def fix(self, assignment: Mapping[str, int]) -> tuple[dict[str, int], list[object]] | None:
        """The nearest valid choices: the engine's fix, restricted to the slots chosen."""
        with self._locked():
            found = self.engine.fix(assignment, self._cost)
        if found is None:
            return None
        fixed, changes = found
        return {name: fixed[name] for name in assignment}, list(changes)

    def complete(
        self, assignment: Mapping[str, int], minimize: str = "cost", share_with: str | None = None
    ) -> dict[str, int] | None:
        """An optimal completion: least cost or mass, or most parts shared with a catalog vehicle."""
        with self._locked():
            ws = self.workspace
            if share_with is not None:
                reference = ws.catalog.vehicles[share_with].config
                weights = ws.sharing_weights(reference)
                return self.engine.complete(assignment, weights, maximize=True)
            return self.engine.complete(assignment, ws.module_weights(minimize))

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


def _product(name: str, lines: Sequence[BomLine]) -> ProductBom:
    return ProductBom(
        name=name,
        lines=tuple(
            ShareLine(
                part=line.part,
                quantity=float(line.quantity),
                unit_cost=line.unit_cost,
                unit_mass_kg=line.unit_mass_kg,
                module=line.module,
            )
            for line in lines
        ),
    )
