"""Loads a catalog, its rules and configuration files into one engine, and answers questions.

This is the analysis layer the commands call: it turns files into assignments, asks the
engine, and returns structured results (no wording: `report.py` writes the English).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import attrs

from cmf_config import cache
from cmf_config.derivation import Conflict, Derivation
from cmf_config.errors import Diagnostic, InputError, Severity, Span, UsageError
from cmf_config.load import load_catalog, load_vehicle_file
from cmf_config.model import (
    KINDS,
    BomLine,
    BrandId,
    BuiltVehicle,
    Catalog,
    PartLine,
    PlatformId,
    Vehicle,
    VehicleConfig,
)
from cmf_config.paths import bundled_dir, yaml_files
from cmf_config.problem import Problem, catalog_problem, choice_span, config_assignment
from cmf_config.reprs import shared_repr
from cmf_config.rules import Rule, holds, load_rules, platform_rules, year_rules
from cmf_config.solver import Change, Engine, SlotOptions
from cmf_config.suggest import did_you_mean
from cmf_config.variantbom import (
    CompiledPosition,
    compile_positions,
    owner_bom_lines,
    selected_by_owner,
)

if TYPE_CHECKING:
    from cmf_config.sharing import ProductBom

T = TypeVar("T")


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Violation:
    """A rule a configuration breaks, with the configuration lines it reads."""

    rule: Rule
    slots: tuple[str, ...]
    spans: tuple[Span, ...]
    suggestions: Mapping[str, tuple[str, ...]]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Verdict:
    """What validation found for one configuration."""

    config: VehicleConfig
    complete: bool
    violations: tuple[Violation, ...] = ()
    conflict: Conflict | None = None

    @property
    def is_valid(self) -> bool:
        """No error-severity rule broken and, if partial, a valid completion exists."""
        errors = [v for v in self.violations if v.rule.severity is Severity.ERROR]
        return not errors and self.conflict is None


class Workspace:
    """A catalog + rules + the configurations of one command, compiled once."""

    def __init__(
        self,
        catalog: Catalog,
        rules_dir: Path,
        configs: Sequence[VehicleConfig] = (),
        year: int | None = None,
    ) -> None:
        self.catalog = catalog
        self.year = year
        extra = [v.config for v in catalog.vehicles.values()]
        self.problem: Problem = catalog_problem(catalog, [*configs, *extra])
        loaded, positions = compiled(catalog, rules_dir, self.problem)
        self.rules: list[Rule] = platform_rules(catalog, self.problem) + loaded
        if year is not None:
            # "buildable in year" is a pair of engine constraints, not a filter on answers
            self.rules += year_rules(catalog, self.problem, year)
        self._rules_dir = rules_dir
        self._engine: Engine | None = None
        self.warning_rules = [r for r in self.rules if r.severity is Severity.WARNING]
        self.hard_rules = [r for r in self.rules if r.severity is Severity.ERROR]
        self.positions: list[CompiledPosition] = positions
        self.loaded: tuple[Vehicle, ...] = ()
        """The configuration files `open` loaded, in the order given."""

    @classmethod
    def open(
        cls,
        catalog_dir: Path | None,
        rules_dir: Path | None,
        config_paths: Sequence[Path] = (),
        year: int | None = None,
    ) -> tuple[Workspace, list[Vehicle]]:
        """Load everything; raise InputError with all diagnostics of every file."""
        catalog = load_catalog(catalog_dir)
        vehicles, diagnostics = load_configs(catalog, config_paths)
        if diagnostics:
            raise InputError(diagnostics)
        workspace = cls(
            catalog, rules_dir or bundled_dir("rules"), [v.config for v in vehicles], year
        )
        workspace.loaded = tuple(vehicles)
        return workspace, vehicles

    @property
    def engine(self) -> Engine:
        """The CNF engine, built (or read from the cache) when a question first needs it: the
        validity of a complete configuration needs none (see `validate`)."""
        if self._engine is None:
            self._engine = engine(self.catalog, self._rules_dir, self.problem, self.rules)
        return self._engine

    # ------------------------------------------------------------- helpers

    def assignment(self, config: VehicleConfig) -> dict[str, int]:
        """The slots a configuration fixes."""
        return config_assignment(self.problem, config)

    def is_complete(self, assignment: Mapping[str, int]) -> bool:
        """Whether every slot is fixed."""
        return all(s.name in assignment for s in self.problem.slots)

    def value_id(self, slot: str, index: int) -> str:
        """The id of a slot's value."""
        return self.problem.slot(slot).values[index].id

    # ------------------------------------------------------------- questions

    def validate(self, config: VehicleConfig) -> Verdict:
        """Check a configuration: every broken rule if complete, else whether it can be completed."""
        assignment = self.assignment(config)
        if self.is_complete(assignment):
            # Every slot is fixed, so the configuration is valid exactly when every error rule
            # evaluates to true on it (the CNF's auxiliary variables are all defined by the
            # slots: quick.py and orders.py rely on the same fact); no engine is built.
            violations = [
                self._violation(config, assignment, rule)
                for rule in self.rules
                if not holds(self.problem, rule, assignment)
            ]
            return Verdict(
                config=config, complete=True, violations=tuple(violations), conflict=None
            )
        conflict = self.engine.explain(assignment)
        return Verdict(config=config, complete=False, conflict=conflict)

    def _violation(
        self, config: VehicleConfig, assignment: Mapping[str, int], rule: Rule
    ) -> Violation:
        order = {s.name: i for i, s in enumerate(self.problem.slots)}
        slots = tuple(sorted(rule.slots, key=order.__getitem__))
        spans = tuple(choice_span(config, s) for s in slots)
        suggestions: dict[str, tuple[str, ...]] = {}
        if rule.severity is Severity.ERROR:
            hard = self.hard_rules
            for slot in slots:
                # Which single change of this slot makes the whole configuration valid?
                good = [
                    value.id
                    for index, value in enumerate(self.problem.slot(slot).values)
                    if index != assignment[slot]
                    and all(holds(self.problem, r, {**assignment, slot: index}) for r in hard)
                ]
                if good:
                    suggestions[slot] = tuple(good[:6])
        return Violation(rule=rule, slots=slots, spans=spans, suggestions=suggestions)

    def explain(self, config: VehicleConfig) -> Conflict | None:
        """A minimal conflict of choices and rules, or None when a valid completion exists."""
        return self.engine.explain(self.assignment(config))

    def derive(self, config: VehicleConfig, conflict: Conflict) -> Derivation:
        """How the rules of a conflict force each other from the configuration's choices."""
        return self.engine.derive(self.assignment(config), conflict)

    def options(self, config: VehicleConfig) -> dict[str, SlotOptions]:
        """Possible and excluded values of every open slot."""
        return self.engine.options(self.assignment(config))

    def fix(self, config: VehicleConfig) -> tuple[dict[str, int], list[Change]] | None:
        """The nearest valid configuration (fewest changes, then lowest module cost)."""
        return self.engine.fix(self.assignment(config), self.module_weights("cost"))

    def module_weights(self, measure: str) -> dict[str, list[float]]:
        """Per module slot, the cost or mass of each variant (the objective of optimisations)."""
        out: dict[str, list[float]] = {}
        for kind in KINDS:
            slot = self.problem.slot(kind)
            out[kind] = [v.cost if measure == "cost" else v.mass_kg for v in slot.values]
        return out

    def sharing_weights(self, reference: VehicleConfig) -> dict[str, list[float]]:
        """Per module slot, how many part numbers of the reference's BOM each variant carries."""
        reference_parts = {
            line.part for line in self.bom_lines(reference, self.assignment(reference))
        }
        out: dict[str, list[float]] = {}
        for kind in KINDS:
            slot = self.problem.slot(kind)
            out[kind] = [
                float(len({p.part for p in self.catalog.modules[v.id].parts} & reference_parts))
                for v in slot.values
            ]
        brand_slot = self.problem.slot("brand")
        out["brand"] = [
            float(len({p.part for p in self.catalog.brands[v.id].parts} & reference_parts))
            for v in brand_slot.values
        ]
        return out

    def complete(
        self, config: VehicleConfig, minimize: str = "cost", share_with: VehicleConfig | None = None
    ) -> dict[str, int] | None:
        """An optimal valid completion of a configuration, or None if none exists."""
        assignment = self.assignment(config)
        if share_with is not None:
            return self.engine.complete(assignment, self.sharing_weights(share_with), maximize=True)
        return self.engine.complete(assignment, self.module_weights(minimize))

    def config_from(
        self, config: VehicleConfig, assignment: Mapping[str, int], fill: bool = True
    ) -> VehicleConfig:
        """A configuration with the assignment's values (open slots stay open unless `fill`)."""

        def pick(slot: str, current: object) -> str | None:
            if current is None and not fill:
                return None
            return self.value_id(slot, assignment[slot]) if slot in assignment else None

        modules = {kind: pick(kind, config.modules.get(kind)) for kind in KINDS}
        options = config.options
        features = options.features
        if features is not None or fill:
            features = tuple(
                s.name for s in self.problem.slots if s.is_bool and assignment.get(s.name) == 1
            )
        battery = options.battery_kwh
        if battery is not None or fill:
            number = self.problem.slot("battery_kwh").values[assignment["battery_kwh"]].number
            battery = number
        wheelbase = options.wheelbase_mm
        if wheelbase is not None or fill:
            number = self.problem.slot("wheelbase_mm").values[assignment["wheelbase_mm"]].number
            wheelbase = int(number) if number is not None else None
        new_options = attrs.evolve(
            options,
            battery_kwh=battery,
            wheelbase_mm=wheelbase,
            drive=pick("drive", options.drive),
            steering=pick("steering", options.steering),
            market=pick("market", options.market),
            features=features,
        )
        return attrs.evolve(
            config,
            brand=_as(BrandId, pick("brand", config.brand)),
            platform=_as(PlatformId, pick("platform", config.platform)),
            segment=pick("segment", config.segment),
            body=pick("body", config.body),
            powertrain=pick("powertrain", config.powertrain),
            modules=attrs.evolve(config.modules, **modules),  # type: ignore[arg-type]
            options=new_options,
        )

    def bom_lines(self, config: VehicleConfig, assignment: Mapping[str, int]) -> list[BomLine]:
        """The bill of materials: each module's fixed parts and the alternatives its positions
        select for this configuration, then the brand's, then the vehicle's own parts."""
        selected = (
            selected_by_owner(self.problem, self.positions, assignment)
            if self.is_complete(assignment)
            else {}
        )
        owners: list[tuple[str, str, Sequence[PartLine]]] = []
        for kind in KINDS:
            module = self.catalog.modules[self.value_id(kind, assignment[kind])]
            owners.append((kind, module.id, module.parts))
        brand = self.catalog.brands[self.value_id("brand", assignment["brand"])]
        owners.append(("brand", brand.id, brand.parts))
        lines = owner_bom_lines(owners, selected)
        lines += [
            BomLine(
                part=p.part,
                name=p.name,
                module="vehicle",
                quantity=p.quantity,
                unit_cost=p.unit_cost,
                unit_mass_kg=p.unit_mass_kg,
            )
            for p in config.extra_parts
        ]
        return lines

    def build(self, config: VehicleConfig) -> BuiltVehicle | None:
        """Resolve a configuration (completing it at least cost if partial); None if invalid."""
        assignment = self.assignment(config)
        filled: dict[str, str] = {}
        if not self.is_complete(assignment):
            completed = self.complete(config)
            if completed is None:
                return None
            filled = {k: self.value_id(k, v) for k, v in completed.items() if k not in assignment}
            assignment = completed
        elif not all(holds(self.problem, r, assignment) for r in self.hard_rules):
            return None  # complete: valid exactly when every error rule holds (see `validate`)
        return BuiltVehicle(
            name=config.name,
            brand=self.value_id("brand", assignment["brand"]),
            platform=self.value_id("platform", assignment["platform"]),
            modules={kind: self.value_id(kind, assignment[kind]) for kind in KINDS},
            bom=tuple(self.bom_lines(config, assignment)),
            filled=filled,
        )

    def product(self, vehicle: Vehicle) -> ProductBom:
        """A vehicle's bill of materials as a sharing product (open slots completed at least
        cost). Raises UsageError when no valid vehicle completes it."""
        from cmf_config.sharing import bom_product  # the sharing commands only

        config = vehicle.config
        assignment = self.assignment(config)
        if not self.is_complete(assignment):
            completed = self.complete(config)
            if completed is None:
                raise UsageError(
                    f"vehicle '{vehicle.id}' has no valid completion, so it has no bill of materials",
                    f"run `cmf-config explain {config.span.path}`",
                )
            assignment = completed
        return bom_product(vehicle.id, self.bom_lines(config, assignment))

    def resolve_vehicle(self, ref: str, loaded: Mapping[str, Vehicle]) -> Vehicle:
        """A vehicle named by a loaded file path or a catalog vehicle id."""
        if ref in loaded:
            return loaded[ref]
        if ref in self.catalog.vehicles:
            return self.catalog.vehicles[ref]
        raise UsageError(
            f"'{ref}' is neither a configuration file nor a catalog vehicle id{did_you_mean(ref, self.catalog.vehicles)}",
            "give a path to a .yaml file or an id from `cmf-config catalog list`",
        )


def compiled(
    catalog: Catalog, rules_dir: Path, problem: Problem
) -> tuple[list[Rule], list[CompiledPosition]]:
    """The rules of `rules_dir` and the catalog's BOM positions, compiled against `problem`,
    or from the cache.

    Compiling reads the problem's slots, values and attribute types, which come from the
    catalog; the numbers that configurations add to numeric slots are never looked up (ids
    are checked on id slots only), so the result is a function of the catalog and rules files
    (and of the working directory, which the spans' paths are relative to): the cache key.
    Raises InputError, and stores nothing, when a rule or a condition does not compile.
    """

    def build(_: str) -> tuple[list[Rule], list[CompiledPosition]]:
        return load_rules(rules_dir, problem), compile_positions(catalog, problem)

    files = _sources(catalog, rules_dir)
    if not files:  # nothing to key on: load_rules says what is wrong
        return build("")
    with cache.gc_paused():
        return cache.cached("compiled", files, build, extra=_where(catalog, rules_dir), memo=True)


def engine(catalog: Catalog, rules_dir: Path, problem: Problem, rules: Sequence[Rule]) -> Engine:
    """The engine (the CNF encoding of the problem and the rules), or a copy from the cache.

    The encoding depends on the problem's slots and values, which configurations extend
    (their battery and wheelbase numbers), and on the rules (a year adds two), so the key
    holds every slot's value ids and every rule id besides the files. Each call gets its own
    copy (an engine grows as it answers), never one shared object.
    """
    files = _sources(catalog, rules_dir)
    if not files:
        return Engine(problem, rules)
    try:
        digest = cache.key("engine", files, _engine_extra(catalog, rules_dir, problem, rules))
    except OSError:  # a file vanished or cannot be read: compiled without the cache
        return Engine(problem, rules)
    with cache.gc_paused():
        found: Engine = cache.stored("engine", digest, lambda _: Engine(problem, rules))
    _LAST_ENGINE.clear()
    _LAST_ENGINE[digest] = _AsBuilt(found)
    return found


def engine_as_built(
    catalog: Catalog, rules_dir: Path, problem: Problem, rules: Sequence[Rule]
) -> Engine:
    """An engine whose CNF is as built, to read only: the one this run last got from `engine`
    for the same key, seen as it was then (`_AsBuilt.view`), else a copy from the cache
    (pickled as built) or a new one. Spares the fast path's store, after an `options` or
    `explain`, reading back the engine the run has just stored."""
    files = _sources(catalog, rules_dir)
    if files:
        with contextlib.suppress(OSError):
            key = cache.key("engine", files, _engine_extra(catalog, rules_dir, problem, rules))
            kept = _LAST_ENGINE.get(key)
            if kept is not None:
                return kept.view()
    return engine(catalog, rules_dir, problem, rules)


def _engine_extra(
    catalog: Catalog, rules_dir: Path, problem: Problem, rules: Sequence[Rule]
) -> tuple[str, ...]:
    shape = repr(
        ([(s.name, [v.id for v in s.values]) for s in problem.slots], [r.id for r in rules])
    )
    return (*_where(catalog, rules_dir), hashlib.sha256(shape.encode()).hexdigest())


class _AsBuilt:
    """An engine with its clause and variable counts when `engine` returned it. Questions
    only ever append clauses and add variables to an encoding, so its first clauses and
    variables are the ones built."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.clauses = len(engine.encoding.clauses)
        self.nvars = engine.encoding.nvars

    def view(self) -> Engine:
        """The engine as built: itself when nothing was added, else a shallow copy whose
        encoding holds the clauses and variables of then (to read only)."""
        encoding = self.engine.encoding
        if len(encoding.clauses) == self.clauses and encoding.nvars == self.nvars:
            return self.engine
        then = copy.copy(encoding)
        then.clauses = encoding.clauses[: self.clauses]
        then.nvars = self.nvars
        view = copy.copy(self.engine)
        view.encoding = then
        return view


_LAST_ENGINE: dict[str, _AsBuilt] = {}
"""The last engine `engine` returned, by its cache key (one: a server builds many)."""


def _sources(catalog: Catalog, rules_dir: Path) -> list[Path]:
    """The catalog and rules files, the cache key of what is compiled from them ([] if none)."""
    root = Path(catalog.root) if catalog.root else None
    try:
        files = yaml_files(root) if root else []
        rule_files = sorted(rules_dir.glob("*.yaml")) if rules_dir.is_dir() else []
    except (OSError, RuntimeError):
        return []
    return [*files, *rule_files] if files and rule_files else []


def _where(catalog: Catalog, rules_dir: Path) -> tuple[str, str, str]:
    """The folders and the working directory (spans hold paths relative to it)."""
    return (catalog.root, str(rules_dir.resolve()), os.path.realpath(os.getcwd()))


def load_configs(catalog: Catalog, paths: Sequence[Path]) -> tuple[list[Vehicle], list[Diagnostic]]:
    """Load configuration files; collect the diagnostics of all files instead of stopping."""
    vehicles: list[Vehicle] = []
    diagnostics: list[Diagnostic] = []
    for path in paths:
        try:
            vehicles.append(load_vehicle_file(path, catalog))
        except InputError as exc:
            diagnostics.extend(exc.diagnostics)
    return vehicles, diagnostics


def _as(kind: Callable[[str], T], value: str | None) -> T | None:
    """Wrap an id in its NewType, keeping None."""
    return None if value is None else kind(value)
