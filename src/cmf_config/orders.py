"""Order banks: each order row -> a complete assignment -> a verdict and a resolved BOM.

A complete order needs no SAT search: the compiled rules are evaluated on its assignment
(`rules.holds`), which the tests check against the engine's `validate`. Real banks repeat a
few thousand configurations millions of times, so a chunk is dictionary-encoded column by
column, each distinct cell parsed once, each distinct configuration checked once (and cached
across chunks), and the verdicts fanned back out to the rows with numpy. Demand is counted per
(group, configuration) and exploded into parts once at the end (`Tally`).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import cast

import attrs
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse

from cmf_config import cache as _cache  # noqa: F401  (MappingProxyType pickling)
from cmf_config.errors import Severity
from cmf_config.load import load_catalog
from cmf_config.model import (
    KINDS,
    BomLine,
    Brand,
    Catalog,
    ModuleVariant,
    VehicleConfig,
    VehicleOptions,
)
from cmf_config.orderio import TEXT, BankError, Coded, Columns
from cmf_config.paths import bundled_dir
from cmf_config.problem import Problem, catalog_problem
from cmf_config.reprs import shared_repr
from cmf_config.rules import Rule, holds, load_rules, platform_rules
from cmf_config.suggest import closest, did_you_mean
from cmf_config.variantbom import (
    CompiledPosition,
    compile_positions,
    owner_bom_lines,
    selected_by_owner,
)

ORDER_ID = "order_id"
FEATURES = "features"
FEATURE_PREFIX = "feature."
FIELDS: tuple[str, ...] = (
    "brand",
    "platform",
    "segment",
    "body",
    "powertrain",
    *KINDS,
    "drive",
    "steering",
    "market",
    "battery_kwh",
    "wheelbase_mm",
)
"""The configuration fields an order must give (one column each), in slot order."""
NUMERIC = frozenset({"battery_kwh", "wheelbase_mm"})
STATUSES = ("valid", "invalid", "malformed")
_CACHE_LIMIT = 200_000
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})
_KEY_LIMIT = 1 << 62


@shared_repr
@attrs.frozen(repr=False)
class Issue:
    """What is wrong with one cell of an order (column '' for the whole row)."""

    column: str
    message: str


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Outcome:
    """The verdict on one distinct configuration, shared by every order that has it."""

    status: str
    rules: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    problems: tuple[Issue, ...] = ()
    bom: str = ""
    configuration: tuple[tuple[str, str], ...] = ()


@shared_repr
@attrs.frozen(kw_only=True, cache_hash=True, repr=False)
class Layout:
    """What the columns of a bank file are: configuration fields, features, the rest."""

    fields: tuple[str, ...]
    features: bool
    feature_columns: tuple[tuple[str, str], ...]
    unknown: tuple[tuple[str, str], ...]
    passthrough: tuple[str, ...]

    @property
    def coded(self) -> frozenset[str]:
        """The columns a worker dictionary-encodes."""
        return frozenset(
            (
                *self.fields,
                *((FEATURES,) if self.features else ()),
                *(c for c, _ in self.feature_columns),
                *(c for c, _ in self.unknown),
            )
        )


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Example:
    """One invalid or malformed order, for the text report."""

    file: str
    row: int
    line: int | None
    order_id: str | None
    status: str
    detail: str


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Demand:
    """The valid orders of a chunk counted per (group, configuration), sparse: (group index,
    configuration index, orders) triples; `boms` are the configurations' BOM ids. Exploded
    into parts once, at the end of the run (`Tally.demand_table`): a chunk's pairs are far
    fewer than its (group, part) triples."""

    groups: tuple[tuple[str | None, ...], ...]
    boms: tuple[str, ...]
    rows: npt.NDArray[np.int64]
    configs: npt.NDArray[np.int64]
    orders: npt.NDArray[np.int64]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class ChunkResult:
    """What checking one chunk found; merged in chunk order by `Tally`."""

    verdicts: pa.Table
    counts: tuple[int, int, int]
    broken: Mapping[str, int]
    warned: Mapping[str, int]
    demand: Demand
    boms: Mapping[str, tuple[tuple[str, str], ...]]
    examples: tuple[Example, ...]


VERDICT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("file", pa.string()),
    ("row", pa.int64()),
    ("line", pa.int64()),
    (ORDER_ID, pa.string()),
    ("status", pa.string()),
    ("rules", pa.string()),
    ("messages", pa.string()),
    ("warnings", pa.string()),
    ("columns", pa.string()),
    ("problems", pa.string()),
    ("bom", pa.string()),
)


def verdict_schema(passthrough: Sequence[str]) -> pa.Schema:
    """The verdict table: one row per input row, then the user's own columns as text."""
    names = {n for n, _ in VERDICT_COLUMNS}
    return pa.schema(
        [
            *(
                pa.field(n, TEXT if t == pa.string() and n != ORDER_ID else t)
                for n, t in VERDICT_COLUMNS
            ),
            *(pa.field(c, TEXT) for c in passthrough if c not in names),
        ]
    )


class Checker:
    """A catalog and its rules, compiled for checking complete orders without the solver."""

    def __init__(
        self,
        catalog: Catalog,
        rules_dir: Path,
        catalog_label: str = "",
        rules_label: str = "",
    ) -> None:
        self.catalog = catalog
        self.catalog_label = catalog_label or catalog.root
        self.rules_label = rules_label or str(rules_dir)
        self.fingerprint = fingerprint(Path(catalog.root) if catalog.root else None, rules_dir)
        self._vehicle_configs = [v.config for v in catalog.vehicles.values()]
        self.problem: Problem = catalog_problem(catalog, self._vehicle_configs)
        self.rules: list[Rule] = platform_rules(catalog, self.problem) + load_rules(
            rules_dir, self.problem
        )
        self.errors = [r for r in self.rules if r.severity is Severity.ERROR]
        self.warning_rules = [r for r in self.rules if r.severity is Severity.WARNING]
        self.messages = {r.id: r.message or r.description for r in self.rules}
        self.positions: list[CompiledPosition] = compile_positions(catalog, self.problem)
        self.features = tuple(s.name for s in self.problem.slots if s.is_bool)
        self._ids = {
            name: {v.id: i for i, v in enumerate(self.problem.slot(name).values)}
            for name in FIELDS
            if not self.problem.slot(name).is_numeric
        }
        self.part_keys: list[tuple[str, str, float, float]] = _part_keys(catalog)
        self._part_index = {key: i for i, key in enumerate(self.part_keys)}
        self._vectors: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = {}
        self._problems: dict[tuple[float, float], Problem] = {}
        self._cells: dict[tuple[str, bool, type, object], object] = {}
        self._outcomes: dict[tuple[Layout, tuple[object, ...]], Outcome] = {}
        self._interned: dict[tuple[type, object], int] = {}
        self._by_key: dict[tuple[Layout, bytes], Outcome] = {}

    @classmethod
    def open(cls, catalog_dir: Path | None, rules_dir: Path | None) -> Checker:
        """Load a catalog and rules (the bundled ones by default); raise InputError if unusable."""
        catalog_path = catalog_dir or bundled_dir("catalog")
        rules_path = rules_dir or bundled_dir("rules")
        checker = cls(
            load_catalog(catalog_dir),
            rules_path,
            str(catalog_dir) if catalog_dir else f"the bundled catalog ({catalog_path})",
            str(rules_dir) if rules_dir else f"the bundled rules ({rules_path})",
        )
        return checker

    def __getstate__(self) -> dict[str, object]:
        """Pickled for the workers without its caches (each worker fills its own)."""
        state = dict(self.__dict__)
        for cache in ("_problems", "_cells", "_outcomes", "_vectors", "_interned", "_by_key"):
            state[cache] = {}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    # ------------------------------------------------------------- layout

    def layout(self, path: str, columns: Sequence[str]) -> Layout:
        """Sort a file's columns; raise BankError when a required column is absent."""
        present = set(columns)
        features = set(self.features)
        feature_columns: list[tuple[str, str]] = []
        unknown: list[tuple[str, str]] = []
        passthrough: list[str] = []
        known = {*FIELDS, ORDER_ID, FEATURES}
        missing = [f for f in (ORDER_ID, *FIELDS) if f not in present]
        for column in columns:
            if column in known:
                continue
            if column.startswith(FEATURE_PREFIX):
                fid = column[len(FEATURE_PREFIX) :]
                if fid in features:
                    feature_columns.append((column, fid))
                else:
                    unknown.append(
                        (
                            column,
                            f"unknown column '{column}': no feature '{fid}'{did_you_mean(fid, features)}",
                        )
                    )
                continue
            if FEATURES not in present and _typo(column, FEATURES):
                unknown.append((column, f"unknown column '{column}'; did you mean '{FEATURES}'?"))
                continue
            passthrough.append(column)
        if missing:
            hints = []
            for name in missing:
                near = [c for c in closest(name, columns) if c not in known]
                hints.append(f"'{name}'" + (f" (is it '{near[0]}'?)" if near else ""))
            raise BankError(
                f"{path}: no column {', '.join(hints)}: every order gives its id and every "
                "configuration field, so no order of this file can be scheduled",
                "add the columns (see docs/orders.md for the format) or rename them",
            )
        return Layout(
            fields=tuple(f for f in FIELDS if f in present),
            features=FEATURES in present,
            feature_columns=tuple(feature_columns),
            unknown=tuple(unknown),
            passthrough=tuple(passthrough),
        )

    # ------------------------------------------------------------- cells

    def cell(self, column: str, field: str, value: object, typed: bool) -> object:
        """A cell parsed into its canonical value, or an Issue (cached: cells repeat)."""
        key = (column, typed, type(value), value)
        found = self._cells.get(key)
        if found is None:
            found = self._parse(column, field, value, typed)
            if len(self._cells) > _CACHE_LIMIT:
                self._cells.clear()
            self._cells[key] = found
        return found

    def _parse(self, column: str, field: str, value: object, typed: bool) -> object:
        if field == FEATURES:
            return self._parse_features(column, value, typed)
        if field.startswith(FEATURE_PREFIX):
            return _parse_bool(column, value, typed)
        if value is None:
            return Issue(column, f"missing {field}: an order must be complete to be scheduled")
        if field in NUMERIC:
            return _parse_number(column, field, value, typed)
        if not isinstance(value, str):
            return Issue(column, f"wrong type: {field} is an id (text), not {_describe(value)}")
        text = value.strip()
        ids = self._ids[field]
        if text in ids:
            return text
        if field in KINDS and text in self.catalog.modules:
            other = self.catalog.modules[text].kind
            return Issue(
                column,
                f"module '{text}' is {_a(other)} variant, not {_a(field)} variant",
            )
        label = self.problem.slot(field).label or field
        return Issue(column, f"unknown {label} '{text}'{did_you_mean(text, ids)}")

    def _parse_features(self, column: str, value: object, typed: bool) -> object:
        if value is None:
            return frozenset()
        if isinstance(value, tuple) and typed:
            items = list(value)
        elif isinstance(value, str):
            items = [v for v in (s.strip() for s in value.split(";")) if v]
        else:
            return Issue(
                column,
                f"wrong type: features is a list of feature ids, not {_describe(value)}",
            )
        out: set[str] = set()
        known = set(self.features)
        for item in items:
            if not isinstance(item, str):
                return Issue(
                    column, f"wrong type: a feature is an id (text), not {_describe(item)}"
                )
            name = item.strip()
            if name not in known:
                return Issue(column, f"unknown feature '{name}'{did_you_mean(name, known)}")
            out.add(name)
        return frozenset(out)

    # ------------------------------------------------------------- configurations

    def outcome(self, layout: Layout, values: tuple[object, ...]) -> Outcome:
        """The verdict on one distinct row key (see `check_columns` for the key's parts)."""
        key = (layout, values)
        found = self._outcomes.get(key)
        if found is None:
            found = self._outcome(layout, values)
            if len(self._outcomes) > _CACHE_LIMIT:
                self._outcomes.clear()
            self._outcomes[key] = found
        return found

    def row_keys(
        self, columns: Sequence[tuple[npt.NDArray[np.int64], Sequence[object]]]
    ) -> list[bytes]:
        """One bytes key per row from (value index per row, values) columns: each value
        interned to a number this checker gives it for good, so equal rows of any chunk have
        equal keys (a dictionary lookup per distinct row, no tuple of values built)."""
        if not columns or not len(columns[0][0]):
            return []
        ids = [
            np.array([self._intern(v) for v in values], np.int64)[codes]
            for codes, values in columns
        ]
        table = np.ascontiguousarray(np.stack(ids, axis=1))
        rows = table.view(np.dtype((np.void, table.shape[1] * 8))).ravel().tolist()
        return cast(list[bytes], rows)

    def _intern(self, value: object) -> int:
        key = (type(value), value)
        found = self._interned.get(key)
        if found is None:
            found = self._interned[key] = len(self._interned)
        return found

    def outcome_by_key(
        self,
        layout: Layout,
        key: bytes,
        columns: Sequence[tuple[npt.NDArray[np.int64], Sequence[object]]],
        row: int,
    ) -> Outcome:
        """The verdict on a row by its `row_keys` key; `columns` give its values if it is
        the first such row."""
        found = self._by_key.get((layout, key))
        if found is None:
            found = self.outcome(layout, tuple(values[codes[row]] for codes, values in columns))
            if len(self._by_key) > _CACHE_LIMIT:
                self._by_key.clear()
            self._by_key[(layout, key)] = found
        return found

    @staticmethod
    def with_duplicate(outcome: Outcome, duplicate: object) -> Outcome:
        """The verdict on a row whose order id an earlier row has (`duplicate`: its Issue,
        None if it has none): malformed, the duplicate named first."""
        if isinstance(duplicate, Issue):
            return Outcome(status="malformed", problems=(duplicate, *outcome.problems))
        return outcome

    def _outcome(self, layout: Layout, values: tuple[object, ...]) -> Outcome:
        row_error = values[-1]
        if isinstance(row_error, str):
            return Outcome(status="malformed", problems=(Issue("", row_error),))
        problems = [v for v in values[:-1] if isinstance(v, Issue)]
        if problems:
            return Outcome(status="malformed", problems=tuple(problems))
        n = len(layout.fields)
        chosen = dict(zip(layout.fields, values[:n], strict=True))
        features: set[str] = set()
        position = n
        listed: frozenset[str] = frozenset()
        if layout.features:
            value = values[position]
            assert isinstance(value, frozenset)
            listed = value
            features |= listed
            position += 1
        for column, fid in layout.feature_columns:
            on = values[position]
            position += 1
            if on:
                features.add(fid)
            elif fid in listed:
                return Outcome(
                    status="malformed",
                    problems=(
                        Issue(column, f"{column} is false but the features list names '{fid}'"),
                    ),
                )
        configuration = self.configuration(chosen, features)
        broken, warned = self.evaluate(dict(configuration))
        if broken:
            return Outcome(
                status="invalid",
                rules=broken,
                warnings=warned,
                configuration=configuration,
            )
        return Outcome(
            status="valid",
            warnings=warned,
            bom=bom_id(configuration),
            configuration=configuration,
        )

    def configuration(
        self, chosen: Mapping[str, object], features: Iterable[str]
    ) -> tuple[tuple[str, str], ...]:
        """(slot, value id) for every slot, in slot order: the canonical form of an order."""
        on = set(features)
        out: list[tuple[str, str]] = []
        for slot in self.problem.slots:
            if slot.is_bool:
                out.append((slot.name, "true" if slot.name in on else "false"))
            elif slot.is_numeric:
                number = chosen[slot.name]
                assert isinstance(number, float)
                out.append((slot.name, _num_id(number)))
            else:
                value = chosen[slot.name]
                assert isinstance(value, str)
                out.append((slot.name, value))
        return tuple(out)

    def problem_for(self, configuration: Mapping[str, str]) -> Problem:
        """The problem whose numeric domains hold the order's numbers (as `validate` builds it)."""
        battery = float(configuration["battery_kwh"])
        wheelbase = float(configuration["wheelbase_mm"])
        base = self.problem
        if (
            base.slot("battery_kwh").index(configuration["battery_kwh"]) is not None
            and base.slot("wheelbase_mm").index(configuration["wheelbase_mm"]) is not None
        ):
            return base
        key = (battery, wheelbase)
        found = self._problems.get(key)
        if found is None:
            order = VehicleConfig(
                name="order",
                options=VehicleOptions(battery_kwh=battery, wheelbase_mm=int(wheelbase)),
            )
            found = catalog_problem(self.catalog, [*self._vehicle_configs, order])
            if len(self._problems) > 256:
                self._problems.clear()
            self._problems[key] = found
        return found

    def assignment(self, configuration: Mapping[str, str]) -> tuple[Problem, dict[str, int]]:
        """The complete assignment of a canonical configuration, and its problem."""
        problem = self.problem_for(configuration)
        out: dict[str, int] = {}
        for slot in problem.slots:
            index = slot.index(configuration[slot.name])
            assert index is not None, (slot.name, configuration[slot.name])
            out[slot.name] = index
        return problem, out

    def evaluate(self, configuration: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The error rules and the warning rules a complete configuration breaks."""
        problem, assignment = self.assignment(configuration)
        broken = tuple(r.id for r in self.errors if not holds(problem, r, assignment))
        warned = tuple(r.id for r in self.warning_rules if not holds(problem, r, assignment))
        return broken, warned

    def bom_vector(
        self, bom: str, configuration: Sequence[tuple[str, str]]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """A valid configuration's BOM as (part index, quantity) pairs."""
        found = self._vectors.get(bom)
        if found is None:
            merged: dict[int, int] = {}
            for line in self.bom(dict(configuration)):
                index = self._part_index[(line.part, line.name, line.unit_cost, line.unit_mass_kg)]
                merged[index] = merged.get(index, 0) + line.quantity
            ordered = sorted(merged.items())
            found = (
                np.array([i for i, _ in ordered], np.int64),
                np.array([q for _, q in ordered], np.int64),
            )
            if len(self._vectors) > _CACHE_LIMIT:
                self._vectors.clear()
            self._vectors[bom] = found
        return found

    def bom(self, configuration: Mapping[str, str]) -> list[BomLine]:
        """The resolved bill of materials of a valid configuration: each module's fixed parts
        and the alternatives its positions select, then the brand's (as `build` lists them)."""
        problem, assignment = self.assignment(configuration)
        selected = selected_by_owner(problem, self.positions, assignment)
        brand = self.catalog.brands[configuration["brand"]]
        owners = [
            *(
                (kind, m.id, m.parts)
                for kind, m in ((k, self.catalog.modules[configuration[k]]) for k in KINDS)
            ),
            ("brand", brand.id, brand.parts),
        ]
        return owner_bom_lines(owners, selected)


def fingerprint(catalog_dir: Path | None, rules_dir: Path) -> str:
    """SHA-256 of every file of the catalog and rules directories: what a summary checked."""
    digest = hashlib.sha256()
    for prefix, directory in (("catalog", catalog_dir), ("rules", rules_dir)):
        if directory is None or not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*")):
            rel = path.relative_to(directory)
            if path.is_file() and not any(p.startswith(".") for p in rel.parts):
                data = path.read_bytes()
                digest.update(f"{prefix}/{rel.as_posix()}\0{len(data)}\0".encode())
                digest.update(data)
    return digest.hexdigest()


# The workers receive the compiled Checker pickled (0.1 s) instead of compiling it again
# (1.5 s); the model's read-only mappings (MappingProxyType) pickle by cache.py's reducer,
# the only one: a second one here made every pickle written after `orders` was imported --
# the catalog cache's included -- name this module, so that a later `validate` unpickling
# the cache imported numpy, scipy and pyarrow.


def _part_keys(catalog: Catalog) -> list[tuple[str, str, float, float]]:
    """Every part line of the catalog (fixed parts and position alternatives) as a demand key,
    sorted: the same index in every process."""
    keys: set[tuple[str, str, float, float]] = set()
    owners: list[ModuleVariant | Brand] = [*catalog.modules.values(), *catalog.brands.values()]
    for owner in owners:
        keys |= {(p.part, p.name, p.unit_cost, p.unit_mass_kg) for p in owner.parts}
        for position in owner.positions:
            keys |= {(a.part, a.name, a.unit_cost, a.unit_mass_kg) for a in position.alternatives}
    return sorted(keys)


def bom_id(configuration: Sequence[tuple[str, str]]) -> str:
    """A stable id of a configuration's resolved BOM: the same whatever the run or worker."""
    text = ";".join(f"{k}={v}" for k, v in configuration)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def configuration_text(configuration: Sequence[tuple[str, str]]) -> str:
    """A configuration as one line: field=value..., features listed by id."""
    fields = [f"{k}={v}" for k, v in configuration if v not in ("true", "false")]
    features = [k for k, v in configuration if v == "true"]
    return ";".join([*fields, f"features={'+'.join(features)}"])


# ------------------------------------------------------------------ chunks


def check_columns(
    checker: Checker,
    layout: Layout,
    columns: Columns,
    group_by: Sequence[str],
    duplicates: Sequence[tuple[int, str]] = (),
) -> ChunkResult:
    """Check every row of a decoded chunk: verdicts, counts, demand pairs, examples.

    `duplicates` are (row in the file, message) of the chunk's rows whose order id an
    earlier row has (see `orderids`): malformed, whatever else they hold.
    """
    n = columns.size
    components: list[tuple[npt.NDArray[np.int64], list[object]]] = []
    typed = columns.typed
    for field in layout.fields:
        components.append(_canon(checker, columns.cells[field], field, field, typed))
    if layout.features:
        components.append(_canon(checker, columns.cells[FEATURES], FEATURES, FEATURES, typed))
    for column, _ in layout.feature_columns:
        components.append(_canon(checker, columns.cells[column], column, "feature.", typed))
    for column, message in layout.unknown:
        coded = columns.cells[column]
        components.append(
            (
                (coded.codes >= 0).astype(np.int64),
                [None, Issue(column, message)],
            )
        )
    order_ids = columns.plain_of(ORDER_ID)
    missing_id = np.asarray(pc.is_null(order_ids).to_numpy(zero_copy_only=False), dtype=np.int64)
    components.append((missing_id, [None, Issue(ORDER_ID, "missing order id")]))
    errors: list[object] = [None, *sorted(set(columns.row_errors.values()))]
    error_codes = np.zeros(n, np.int64)
    where = {text: i for i, text in enumerate(errors)}
    for row, text in columns.row_errors.items():
        error_codes[row] = where[text]
    components.append((error_codes, errors))
    repeated: list[object] = [None]  # last: see below
    if duplicates:
        repeat_codes = np.zeros(n, np.int64)
        where_repeat: dict[str, int] = {}
        for row, message in duplicates:
            code = where_repeat.get(message)
            if code is None:
                code = where_repeat[message] = len(repeated)
                repeated.append(Issue(ORDER_ID, message))
            repeat_codes[row - columns.start] = code
        components.append((repeat_codes, repeated))

    key = _combine([c for c, _ in components], [len(v) for _, v in components], n)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    checked = components[:-1] if duplicates else components
    keys = checker.row_keys([(codes[first], values) for codes, values in checked])
    outcomes = [
        checker.outcome_by_key(layout, key, checked, row)
        for key, row in zip(keys, first.tolist(), strict=True)
    ]
    if duplicates:
        codes, values = components[-1]
        outcomes = [
            checker.with_duplicate(outcome, values[codes[row]])
            for outcome, row in zip(outcomes, first.tolist(), strict=True)
        ]
    per_key = np.bincount(inverse, minlength=len(outcomes))
    status_of = np.array([STATUSES.index(o.status) for o in outcomes], np.int8)
    statuses = status_of[inverse]
    counts = np.bincount(statuses, minlength=3)
    broken: Counter[str] = Counter()
    warned: Counter[str] = Counter()
    for outcome, count in zip(outcomes, per_key.tolist(), strict=True):
        for rule in outcome.rules:
            broken[rule] += count
        for rule in outcome.warnings:
            warned[rule] += count
    verdicts = _verdicts(checker, layout, columns, outcomes, inverse, order_ids)
    demand = _demand(columns, group_by, outcomes, inverse, statuses)
    boms = {o.bom: o.configuration for o in outcomes if o.status == "valid"}
    return ChunkResult(
        verdicts=verdicts,
        counts=(int(counts[0]), int(counts[1]), int(counts[2])),
        broken=dict(broken),
        warned=dict(warned),
        demand=demand,
        boms=boms,
        examples=_examples(checker, columns, outcomes, inverse, statuses, order_ids),
    )


def _canon(
    checker: Checker, coded: Coded, column: str, field: str, typed: bool
) -> tuple[npt.NDArray[np.int64], list[object]]:
    """Row -> index of the cell's canonical value (equal parses share an index)."""
    values: list[object] = []
    index: dict[tuple[type, object], int] = {}
    mapping = np.empty(len(coded.uniques) + 1, np.int64)
    for i, raw in enumerate([None, *coded.uniques]):
        parsed = checker.cell(column, field, raw, typed)
        slot = index.get((type(parsed), parsed))
        if slot is None:
            slot = index[(type(parsed), parsed)] = len(values)
            values.append(parsed)
        mapping[i] = slot
    return mapping[coded.codes.astype(np.int64) + 1], values


def _combine(
    codes: Sequence[npt.NDArray[np.int64]], sizes: Sequence[int], n: int
) -> npt.NDArray[np.int64]:
    """One int64 key per row from several code columns (renumbered before it could overflow)."""
    key = np.zeros(n, np.int64)
    span = 1
    for column, count in zip(codes, sizes, strict=True):
        size = max(count, 1)
        if span * size >= _KEY_LIMIT:
            _, key = np.unique(key, return_inverse=True)
            key = key.reshape(-1).astype(np.int64)
            span = int(key.max()) + 1 if n else 1
        key = key * size + column
        span *= size
    return key


def _dictionary(words: Sequence[str | None], inverse: npt.NDArray[np.int64]) -> pa.Array:
    """Per-row text from per-key text: int32 indices into the distinct values, no copies."""
    distinct: dict[str, int] = {}
    remap = np.array(
        [-1 if w is None else distinct.setdefault(w, len(distinct)) for w in words], np.int32
    )
    indices = remap[inverse] if len(remap) else np.zeros(0, np.int32)
    mask = indices < 0
    return pa.DictionaryArray.from_arrays(
        pa.array(np.maximum(indices, 0), pa.int32(), mask=mask if mask.any() else None),
        pa.array(list(distinct), pa.string()),
    )


def _verdicts(
    checker: Checker,
    layout: Layout,
    columns: Columns,
    outcomes: Sequence[Outcome],
    inverse: npt.NDArray[np.int64],
    order_ids: pa.Array,
) -> pa.Table:
    n = columns.size
    rows = np.arange(columns.start + 1, columns.start + n + 1, dtype=np.int64)
    lines = (
        pa.array(columns.lines, pa.int64())
        if columns.lines is not None
        else pa.nulls(n, pa.int64())
    )
    data: dict[str, pa.Array] = {
        "file": pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(n, np.int32)), pa.array([columns.file])
        ),
        "row": pa.array(rows),
        "line": lines,
        ORDER_ID: order_ids.cast(pa.string()),
        "status": _dictionary([o.status for o in outcomes], inverse),
        "rules": _dictionary([";".join(o.rules) for o in outcomes], inverse),
        "messages": _dictionary(
            [" | ".join(checker.messages[r] for r in o.rules) for o in outcomes], inverse
        ),
        "warnings": _dictionary([";".join(o.warnings) for o in outcomes], inverse),
        "columns": _dictionary(
            [";".join(dict.fromkeys(p.column for p in o.problems)) for o in outcomes], inverse
        ),
        "problems": _dictionary([_problem_text(o.problems) for o in outcomes], inverse),
        "bom": _dictionary([o.bom or None for o in outcomes], inverse),
    }
    for column in layout.passthrough:
        if column not in data:
            data[column] = columns.text_of(column)
    return pa.table(data)


_FIRST_ROW = b"cmf-orders-first-row"
_NULL_LINES = b"cmf-orders-null-lines"


def pack_verdicts(table: pa.Table) -> pa.Table:
    """A chunk's verdicts as they travel from a worker to the merging process, about a third
    of the bytes: `row` (consecutive numbers) and an all-null `line` are left out and said
    in the schema's metadata, and each dictionary column's indices are as narrow as its
    dictionary allows (int8, int16). `unpack_verdicts` restores the table exactly."""
    if not table.num_rows:
        return table
    rows = table.column("row")
    first = int(rows[0].as_py())
    expected = np.arange(first, first + table.num_rows, dtype=np.int64)
    if rows.null_count or not np.array_equal(rows.to_numpy(), expected):
        return table  # never for a chunk (its rows are consecutive); kept whole if so
    null_lines = table.column("line").null_count == table.num_rows
    drop = ["row", "line"] if null_lines else ["row"]
    packed = table.drop_columns(drop)
    fields = []
    arrays = []
    for field, column in zip(packed.schema, packed.columns, strict=True):
        travelling = column
        if pa.types.is_dictionary(field.type) and field.type.index_type == pa.int32():
            whole = column.combine_chunks()
            size = len(whole.dictionary)
            narrow = pa.int8() if size <= 127 else pa.int16() if size <= 32_767 else None
            if narrow is not None:
                travelling = pa.DictionaryArray.from_arrays(
                    whole.indices.cast(narrow), whole.dictionary
                )
        fields.append(pa.field(field.name, travelling.type))
        arrays.append(travelling)
    metadata = {_FIRST_ROW: str(first).encode(), _NULL_LINES: b"1" if null_lines else b"0"}
    return pa.table(arrays, schema=pa.schema(fields, metadata=metadata))


def unpack_verdicts(table: pa.Table) -> pa.Table:
    """The verdicts `pack_verdicts` packed, column for column as they were."""
    metadata = table.schema.metadata or {}
    if _FIRST_ROW not in metadata:
        return table
    first = int(metadata[_FIRST_ROW])
    n = table.num_rows
    columns = []
    names = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_dictionary(field.type) and field.type.index_type != pa.int32():
            columns.append(column.cast(pa.dictionary(pa.int32(), field.type.value_type)))
        else:
            columns.append(column)
        names.append(field.name)
    columns.insert(1, pa.array(np.arange(first, first + n, dtype=np.int64)))
    names.insert(1, "row")
    if metadata.get(_NULL_LINES) == b"1":
        columns.insert(2, pa.nulls(n, pa.int64()))
        names.insert(2, "line")
    return pa.table(columns, names=names)


TEXT_COLUMNS = frozenset(
    {"file", "status", "rules", "messages", "warnings", "columns", "problems", "bom"}
)


def _problem_text(problems: Sequence[Issue]) -> str:
    return " | ".join(f"{p.column}: {p.message}" if p.column else p.message for p in problems)


def _demand(
    columns: Columns,
    group_by: Sequence[str],
    outcomes: Sequence[Outcome],
    inverse: npt.NDArray[np.int64],
    statuses: npt.NDArray[np.int8],
) -> Demand:
    """The chunk's valid orders counted per (group, configuration)."""
    valid = statuses == 0
    if not valid.any():
        return Demand(groups=(), boms=(), rows=_EMPTY_I64, configs=_EMPTY_I64, orders=_EMPTY_I64)
    codes: list[npt.NDArray[np.int64]] = []
    sizes: list[int] = []
    words: list[list[str | None]] = []
    for column in group_by:
        text = columns.text_of(column)
        indices = text.indices
        if indices.null_count:
            indices = pc.fill_null(indices, -1)
        codes.append(np.asarray(indices.to_numpy(zero_copy_only=False), np.int64) + 1)
        sizes.append(len(text.dictionary) + 1)
        words.append([None, *text.dictionary.to_pylist()])
    group_key = _combine(codes, sizes, columns.size)[valid]
    _, first, group_of = np.unique(group_key, return_index=True, return_inverse=True)
    rows = np.nonzero(valid)[0][first]
    names = tuple(
        tuple(w[int(c[row])] for w, c in zip(words, codes, strict=True)) for row in rows.tolist()
    )
    pair = group_of.reshape(-1).astype(np.int64) * len(outcomes) + inverse[valid]
    pairs, counts = np.unique(pair, return_counts=True)
    return Demand(
        groups=names,
        boms=tuple(o.bom for o in outcomes),
        rows=pairs // len(outcomes),
        configs=pairs % len(outcomes),
        orders=counts.astype(np.int64),
    )


_EMPTY_I64: npt.NDArray[np.int64] = np.zeros(0, np.int64)


def _examples(
    checker: Checker,
    columns: Columns,
    outcomes: Sequence[Outcome],
    inverse: npt.NDArray[np.int64],
    statuses: npt.NDArray[np.int8],
    order_ids: pa.Array,
    limit: int = 5,
) -> tuple[Example, ...]:
    out: list[Example] = []
    for status in (2, 1):
        for row in np.nonzero(statuses == status)[0][:limit].tolist():
            outcome = outcomes[int(inverse[row])]
            if outcome.problems:
                detail = _problem_text(outcome.problems)
            else:
                detail = " | ".join(f"{r}: {checker.messages[r]}" for r in outcome.rules)
            line = int(columns.lines[row]) if columns.lines is not None else None
            order = order_ids[row].as_py()
            out.append(
                Example(
                    file=columns.file,
                    row=columns.start + row + 1,
                    line=line,
                    order_id=None if order is None else str(order),
                    status=STATUSES[status],
                    detail=detail,
                )
            )
    return tuple(out)


# ------------------------------------------------------------------ merging


@shared_repr
@attrs.define(repr=False)
class Tally:
    """Chunk results merged in chunk order: counts, broken rules, demand, examples.

    Everything is an integer sum or first-seen order, so the result is the same bytes
    whatever the number of workers.
    """

    parts: int
    counts: list[int] = attrs.field(factory=lambda: [0, 0, 0])
    broken: Counter[str] = attrs.field(factory=Counter)
    warned: Counter[str] = attrs.field(factory=Counter)
    boms: dict[str, tuple[tuple[str, str], ...]] = attrs.field(factory=dict)
    examples: list[Example] = attrs.field(factory=list)
    example_limit: int = 10
    groups: dict[tuple[str | None, ...], int] = attrs.field(factory=dict)
    configs: dict[str, int] = attrs.field(factory=dict)
    _keys: list[npt.NDArray[np.int64]] = attrs.field(factory=list)
    _quantities: list[npt.NDArray[np.int64]] = attrs.field(factory=list)
    _pending: int = 0

    def add(self, result: ChunkResult) -> None:
        """Merge one chunk's result (call in chunk order)."""
        for i, count in enumerate(result.counts):
            self.counts[i] += count
        self.broken.update(result.broken)
        self.warned.update(result.warned)
        for key, configuration in result.boms.items():
            self.boms.setdefault(key, configuration)
        for example in result.examples:
            same = sum(1 for e in self.examples if e.status == example.status)
            if same < self.example_limit:
                self.examples.append(example)
        demand = result.demand
        if len(demand.rows):
            groups = np.array(
                [self.groups.setdefault(g, len(self.groups)) for g in demand.groups], np.int64
            )
            configs = np.array(
                [self.configs.setdefault(b, len(self.configs)) for b in demand.boms], np.int64
            )
            self._keys.append((groups[demand.rows] << 32) | configs[demand.configs])
            self._quantities.append(demand.orders)
            self._pending += len(demand.rows)
            if self._pending > 4_000_000:
                self._compact()

    def _compact(self) -> None:
        """Sum equal (group, configuration) keys: memory stays that of the pairs seen."""
        if len(self._keys) <= 1:
            return
        keys = np.concatenate(self._keys)
        quantities = np.concatenate(self._quantities)
        unique, inverse = np.unique(keys, return_inverse=True)
        summed = np.zeros(len(unique), np.int64)
        np.add.at(summed, inverse.reshape(-1), quantities)
        self._keys, self._quantities = [unique], [summed]
        self._pending = len(unique)

    @property
    def orders(self) -> int:
        """Rows read."""
        return sum(self.counts)

    def bom_table(self, checker: Checker) -> pa.Table:
        """Every distinct valid configuration's resolved BOM, one row per line, by BOM id."""
        names = (
            "bom",
            "line",
            "module",
            "position",
            "part",
            "name",
            "quantity",
            "unit_cost",
            "unit_mass_kg",
            "configuration",
        )
        data: dict[str, list[object]] = {k: [] for k in names}
        for key in sorted(self.boms):
            configuration = self.boms[key]
            text = configuration_text(configuration)
            for number, line in enumerate(checker.bom(dict(configuration)), start=1):
                data["bom"].append(key)
                data["line"].append(number)
                data["module"].append(line.module)
                data["position"].append(line.position)
                data["part"].append(line.part)
                data["name"].append(line.name)
                data["quantity"].append(line.quantity)
                data["unit_cost"].append(line.unit_cost)
                data["unit_mass_kg"].append(line.unit_mass_kg)
                data["configuration"].append(text)
        schema = pa.schema(
            [
                ("bom", pa.string()),
                ("line", pa.int64()),
                ("module", pa.string()),
                ("position", pa.string()),
                ("part", pa.string()),
                ("name", pa.string()),
                ("quantity", pa.int64()),
                ("unit_cost", pa.float64()),
                ("unit_mass_kg", pa.float64()),
                ("configuration", pa.string()),
            ]
        )
        return pa.table(data, schema=schema)

    def demand_table(self, checker: Checker, group_by: Sequence[str]) -> pa.Table:
        """Part demand over the valid orders, per group (sorted), then part number: the
        (group, configuration) order counts times the configurations' BOMs, one sparse
        product."""
        self._compact()
        pairs = self._keys[0] if self._keys else _EMPTY_I64
        counts = self._quantities[0] if self._quantities else _EMPTY_I64
        bom_of = sorted(self.configs, key=self.configs.__getitem__)
        vectors = [
            checker.bom_vector(b, self.boms[b]) if b else (_EMPTY_I64, _EMPTY_I64) for b in bom_of
        ]
        boms = scipy.sparse.csr_matrix(
            (
                np.concatenate([q for _, q in vectors]) if vectors else _EMPTY_I64,
                np.concatenate([p for p, _ in vectors]) if vectors else _EMPTY_I64,
                np.cumsum([0, *(len(p) for p, _ in vectors)]),
            ),
            shape=(len(vectors), self.parts),
        )
        orders = scipy.sparse.csr_matrix(
            (counts, (pairs >> 32, pairs & 0xFFFFFFFF)),
            shape=(len(self.groups), len(vectors)),
        )
        product = (orders @ boms).tocoo()
        keys = product.row.astype(np.int64) * self.parts + product.col.astype(np.int64)
        quantities = product.data.astype(np.int64)
        names = {gid: group for group, gid in self.groups.items()}
        ranked = sorted(names, key=lambda g: _group_order(names[g]))
        rank = np.zeros(len(names), np.int64)
        rank[np.array(ranked, np.int64)] = np.arange(len(ranked), dtype=np.int64)
        group_ids = keys // self.parts
        part_ids = keys % self.parts
        order = np.lexsort((part_ids, rank[group_ids])) if len(keys) else _EMPTY_I64
        group_ids, part_ids = group_ids[order], part_ids[order]
        counts = quantities[order]
        data: dict[str, pa.Array] = {}
        for i, column in enumerate(group_by):
            values = pa.array([names[g][i] for g in range(len(names))], pa.string())
            data[column] = values.take(pa.array(group_ids))
        parts = checker.part_keys
        data["part"] = pa.array([k[0] for k in parts], pa.string()).take(pa.array(part_ids))
        data["name"] = pa.array([k[1] for k in parts], pa.string()).take(pa.array(part_ids))
        data["quantity"] = pa.array(counts, pa.int64())
        unit_cost = [parts[i][2] for i in part_ids.tolist()]
        unit_mass = [parts[i][3] for i in part_ids.tolist()]
        amounts = counts.tolist()
        # Python's round (correctly rounded decimal), as before: numpy's may differ in the
        # last place
        data["cost"] = pa.array(
            [round(q * c, 2) for q, c in zip(amounts, unit_cost, strict=True)], pa.float64()
        )
        data["mass_kg"] = pa.array(
            [round(q * m, 3) for q, m in zip(amounts, unit_mass, strict=True)], pa.float64()
        )
        return pa.table(data)


def _group_order(group: tuple[str | None, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((v is not None, v or "") for v in group)


# ------------------------------------------------------------------ cell parsing


def _parse_number(column: str, field: str, value: object, typed: bool) -> object:
    """A number, or text that reads as one (CSV, and banks that store every column as text)."""
    del typed
    number: float
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return Issue(column, f"wrong type: {field} is a number, not {_describe(value)}")
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return Issue(column, f"wrong type: {field} is a number, not {_describe(value)}")
    else:
        number = float(value)
    if not math.isfinite(number) or number < 0:
        return Issue(column, f"{field} must be a finite number, zero or more, not {value}")
    if field == "wheelbase_mm" and not number.is_integer():
        return Issue(column, f"wheelbase_mm is a whole number of millimetres, not {value}")
    return number


def _parse_bool(column: str, value: object, typed: bool) -> object:
    if value is None:
        return Issue(column, f"missing {column}: write true or false")
    del typed
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return Issue(column, f"wrong type: {column} is true or false, not {_describe(value)}")


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text '{value}'"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, tuple):
        return "a list"
    return "a JSON object"


def _a(kind: str) -> str:
    words = kind.replace("_", " ")
    return f"an {words}" if words[0] in "aeiou" else f"a {words}"


def _num_id(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _typo(column: str, field: str) -> bool:
    """A column name one or two edits from a missing field's name (likely a misspelling)."""
    import difflib

    return difflib.SequenceMatcher(None, column.lower(), field.lower()).ratio() >= 0.8
