"""The public Python API: what a script needs, and what the command line itself calls.

Open a workspace from a catalog folder and a rules folder (with the configuration files to
check), then ask it questions; each function returns data (attrs classes), never prints, and
raises only `CmfConfigError`s: `InputError` (unusable files, with every positioned
`Diagnostic`) or `UsageError` (an unknown id or option). `cmf_config.__all__` re-exports these
names; see docs/api.md for examples and the stability promise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from cmf_config import report
from cmf_config.derivation import Conflict, Derivation
from cmf_config.errors import Diagnostic, UsageError
from cmf_config.load import load_catalog
from cmf_config.model import KINDS, BomLine, BuiltVehicle, Catalog, Vehicle, VehicleConfig
from cmf_config.paths import bundled_dir, display_path
from cmf_config.reprs import shared_repr
from cmf_config.rules import K, Rule, bind, rules_by_id
from cmf_config.solver import Change, SlotOptions
from cmf_config.suggest import did_you_mean
from cmf_config.workspace import Verdict, Workspace, load_configs

if TYPE_CHECKING:  # for types only: each is imported by the function that uses it, so that
    # validate, explain and options load neither numpy nor the model analyses nor UVL
    from cmf_config.diagram import RuleState  # graphviz: not imported for a type
    from cmf_config.featuremodel import FeatureAnalysis, Selection
    from cmf_config.fmodel import FeatureModel
    from cmf_config.sharing import (
        CommonRule,
        FamilyIndices,
        Measure,
        PairShare,
        ProductBom,
        SimilarityMatrix,
    )
    from cmf_config.uvlexport import Export

PathLike = str | os.PathLike[str]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Explanation:
    """Why a configuration has no valid completion: the minimal conflict (choices and rules),
    its derivation (how the rules force each other) and that derivation in words."""

    conflict: Conflict
    derivation: Derivation
    text: str


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Fix:
    """The nearest valid configuration: the changed choices and the configuration with them
    (open slots stay open)."""

    changes: tuple[Change, ...]
    config: VehicleConfig


def _path(value: PathLike | None) -> Path | None:
    return None if value is None else Path(value)


def open_workspace(
    catalog: PathLike | None = None,
    rules: PathLike | None = None,
    configs: Sequence[PathLike] = (),
    *,
    year: int | None = None,
) -> Workspace:
    """Load a catalog folder, a rules folder (the bundled ones when None) and configuration
    files, compiled once for every question; the configurations are `workspace.loaded`.
    With `year`, every answer is for what was buildable that year (platform launch years and
    E/E eras, as two built-in rules).

    Raises InputError with every diagnostic of every file.
    """
    workspace, _ = Workspace.open(
        _path(catalog), _path(rules), [Path(c) for c in configs], year=year
    )
    return workspace


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class FileResult:
    """What validation found in one configuration file: `usable` false when the file itself
    could not be read (its diagnostics say why), `valid` when it breaks no error rule."""

    path: str
    usable: bool
    valid: bool
    diagnostics: tuple[Diagnostic, ...]


def validate_files(
    files: Sequence[PathLike], catalog: PathLike | None = None, rules: PathLike | None = None
) -> list[FileResult]:
    """Validate configuration files, one result per file in the order given; a file that
    cannot be read does not stop the others.

    Raises InputError when the catalog or the rules are unusable.
    """
    loaded_catalog = load_catalog(_path(catalog))
    paths = [Path(f) for f in files]
    vehicles, problems = load_configs(loaded_catalog, paths)
    by_file: dict[str, list[Diagnostic]] = {}
    for diag in problems:
        by_file.setdefault(diag.span.path, []).append(diag)
    workspace = Workspace(
        loaded_catalog, _path(rules) or bundled_dir("rules"), [v.config for v in vehicles]
    )
    by_path = {v.config.span.path: v for v in vehicles}
    out: list[FileResult] = []
    for path in paths:
        shown = display_path(path)
        if shown not in by_path and shown not in by_file:
            shown = str(path)
        vehicle = by_path.get(shown)
        if vehicle is None:
            out.append(
                FileResult(
                    path=shown,
                    usable=False,
                    valid=False,
                    diagnostics=tuple(by_file.get(shown, [])),
                )
            )
            continue
        verdict = workspace.validate(vehicle.config)
        out.append(
            FileResult(
                path=shown,
                usable=True,
                valid=verdict.is_valid,
                diagnostics=tuple(diagnostics(workspace, verdict)),
            )
        )
    return out


def validate(workspace: Workspace, config: VehicleConfig) -> Verdict:
    """Check a configuration: every broken rule if complete, else whether a valid vehicle
    completes it (`Verdict.is_valid`); `report.verdict_diagnostics` turns it into diagnostics."""
    return workspace.validate(config)


def diagnostics(workspace: Workspace, verdict: Verdict) -> list[Diagnostic]:
    """A verdict as positioned diagnostics (E301/W301 broken rules, E302 no completion)."""
    return report.verdict_diagnostics(verdict, workspace.problem, rules_by_id(workspace.rules))


def explain(workspace: Workspace, config: VehicleConfig) -> Explanation | None:
    """Why no valid vehicle completes the configuration, or None when one does."""
    conflict = workspace.explain(config)
    if conflict is None:
        return None
    derivation = workspace.derive(config, conflict)
    text = report.explanation(derivation, workspace.problem, rules_by_id(workspace.rules), config)
    return Explanation(conflict=conflict, derivation=derivation, text=text)


def fix(workspace: Workspace, config: VehicleConfig) -> Fix | None:
    """The nearest valid configuration (fewest changed choices, then the lowest module cost),
    or None when the catalog and rules admit no vehicle at all."""
    found = workspace.fix(config)
    if found is None:
        return None
    assignment, changes = found
    return Fix(changes=tuple(changes), config=workspace.config_from(config, assignment, fill=False))


def complete(
    workspace: Workspace,
    config: VehicleConfig,
    minimize: str = "cost",
    share_with: VehicleConfig | None = None,
) -> VehicleConfig | None:
    """The configuration with every open slot filled at least `minimize` ('cost' or 'mass'),
    or most parts shared with `share_with`; None when no valid vehicle completes it."""
    completed = workspace.complete(config, minimize, share_with)
    if completed is None:
        return None
    return workspace.config_from(config, completed, fill=True)


def options(workspace: Workspace, config: VehicleConfig) -> dict[str, SlotOptions]:
    """For each open slot, the values some valid vehicle completes it with, and for each other
    value the rules that exclude it (backtrack-free)."""
    return workspace.options(config)


def build(workspace: Workspace, config: VehicleConfig) -> BuiltVehicle | None:
    """The configuration resolved into module variants and a bill of materials (open slots at
    least cost), or None when it is invalid."""
    return workspace.build(config)


def bill_of_materials(
    workspace: Workspace, config: VehicleConfig, *, build_open: bool = True
) -> list[BomLine] | None:
    """The bill of materials as chosen when every module and the brand are chosen; else, with
    `build_open`, as `build` resolves it (None when invalid), without it None."""
    assignment = workspace.assignment(config)
    if all(slot in assignment for slot in (*KINDS, "brand")):
        return workspace.bom_lines(config, assignment)
    if not build_open:
        return None
    built = build(workspace, config)
    return list(built.bom) if built is not None else None


def broken_rules(workspace: Workspace, verdict: Verdict) -> list[Rule]:
    """The rules a verdict blames: those a complete configuration breaks, or those of the
    minimal conflict of a partial one that cannot be completed (none when it can)."""
    if verdict.complete:
        return [v.rule for v in verdict.violations]
    if verdict.conflict is None:
        return []
    by_id = rules_by_id(workspace.rules)
    return [by_id[r] for r in verdict.conflict.rules if r in by_id]


def rule_states(workspace: Workspace, config: VehicleConfig) -> dict[str, RuleState]:
    """How each rule fares on a configuration, by rule id: 'satisfied', 'violated', or 'open'
    when the open slots of a partial one leave it undecided. The rules of the minimal
    conflict of a partial configuration that cannot be completed count as violated."""
    assignment = workspace.assignment(config)
    states: dict[str, RuleState] = {}
    for rule in workspace.rules:
        bound = bind(workspace.problem, rule.formula, assignment)
        if isinstance(bound, K):
            states[rule.id] = "satisfied" if bound.value else "violated"
        else:
            states[rule.id] = "open"
    if not workspace.is_complete(assignment):
        conflict = workspace.explain(config)
        for rule_id in conflict.rules if conflict is not None else ():
            states[rule_id] = "violated"
    return states


def count_vehicles(workspace: Workspace, fixed: Mapping[str, str] | None = None) -> int:
    """The exact number of valid vehicles (d4), those with the `fixed` slot values only
    (e.g. {"platform": "cmf-bev"}). Raises UsageError for an unknown slot or value."""
    return workspace.engine.count(assignment_of(workspace, fixed or {}))


def enumerate_vehicles(
    workspace: Workspace, limit: int, fixed: Mapping[str, int] | None = None
) -> list[dict[str, str]]:
    """Up to `limit` distinct valid vehicles extending the `fixed` assignment (slot -> value
    index), each as slot -> value id."""
    found = workspace.engine.enumerate(dict(fixed or {}), limit)
    return [
        {s.name: workspace.value_id(s.name, a[s.name]) for s in workspace.problem.slots}
        for a in found
    ]


def assignment_of(workspace: Workspace, values: Mapping[str, str]) -> dict[str, int]:
    """Slot values by id as the engine's assignment; UsageError for an unknown slot or value."""
    out: dict[str, int] = {}
    for slot, value in values.items():
        if not workspace.problem.has(slot):
            names = [s.name for s in workspace.problem.slots]
            raise UsageError(f"unknown slot '{slot}'{did_you_mean(slot, names)}")
        index = workspace.problem.slot(slot).index(value)
        if index is None:
            known = [v.id for v in workspace.problem.slot(slot).values]
            raise UsageError(
                f"unknown {slot} '{value}'{did_you_mean(value, known)}",
                f"the {slot}s are {', '.join(known)}",
            )
        out[slot] = index
    return out


def share(workspace: Workspace, a: Vehicle | str, b: Vehicle | str) -> PairShare:
    """Parts sharing between two vehicles (loaded ones, or catalog vehicle ids), each resolved
    into its bill of materials (open slots completed at least cost)."""
    from cmf_config.sharing import compare

    return compare(
        workspace.product(_vehicle(workspace, a)), workspace.product(_vehicle(workspace, b))
    )


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class FleetShare:
    """Parts sharing across a fleet: the product x product matrix (and its clustered order),
    the family commonality indices, the same per group, and every pair (none above
    `PAIRS_UP_TO` products)."""

    matrix: SimilarityMatrix
    order: tuple[int, ...]
    indices: FamilyIndices
    groups: Mapping[str, FamilyIndices]
    pairs: tuple[PairShare, ...]


PAIRS_UP_TO = 200
"""Above this many products, `share_fleet` leaves out the pairwise comparisons."""


def share_fleet(
    products: Sequence[ProductBom],
    measure: Measure = "ratio",
    common: CommonRule = "all",
    groups: Mapping[str, Sequence[str]] | None = None,
) -> FleetShare:
    """Parts sharing across products (`workspace.product(vehicle)`, or a CSV table read with
    `read_bom_table`); `groups` maps a group name to product names (per platform, per brand).
    Raises UsageError for fewer than two products."""
    if len(products) < 2:
        raise UsageError("a fleet needs at least two products", "name more vehicles, or use --all")
    from cmf_config.sharing import cluster_order, compare, family_indices, fleet_matrix

    matrix = fleet_matrix(products, measure)
    by_name = {p.name: p for p in products}
    pairs = (
        tuple(
            compare(products[i], products[j])
            for i in range(len(products))
            for j in range(i + 1, len(products))
        )
        if len(products) <= PAIRS_UP_TO
        else ()
    )
    return FleetShare(
        matrix=matrix,
        order=tuple(cluster_order(matrix)),
        indices=family_indices(products, common),
        groups={
            key: family_indices([by_name[n] for n in names], common)
            for key, names in (groups or {}).items()
        },
        pairs=pairs,
    )


def _vehicle(workspace: Workspace, ref: Vehicle | str) -> Vehicle:
    return ref if isinstance(ref, Vehicle) else workspace.resolve_vehicle(ref, {})


def bom_check(workspace: Workspace) -> list[Diagnostic]:
    """The variant-BOM checks (uniqueness B101, completeness B102, superfluous part B103) of
    every position, each finding with a witness configuration where one exists."""
    from cmf_config.variantbom import check

    return check(workspace.engine, workspace.positions)


def lint_catalog(workspace: Workspace) -> list[Diagnostic]:
    """Catalog lint: dead values, vacuous, unsatisfiable and redundant rules, reference vehicles
    that are incomplete or break rules (codes L000-L302)."""
    from cmf_config.lint import lint

    return lint(workspace)


def import_model(path: PathLike) -> FeatureModel:
    """Read a UVL or DIMACS feature model (by extension, else by its first line).

    Raises InputError with every positioned diagnostic.
    """
    from cmf_config.dimacs import load_dimacs  # numpy: imported only when a model is read
    from cmf_config.uvl import load_uvl

    file = Path(path)
    display = display_path(file)
    suffix = file.suffix.lower()
    if suffix in (".dimacs", ".cnf"):
        return load_dimacs(file, display)
    if suffix == ".uvl":
        return load_uvl(file, display)
    if file.is_file():
        with file.open("rb") as handle:
            head = handle.read(4096).lstrip()
        if head.startswith((b"p cnf", b"c ")):
            return load_dimacs(file, display)
    return load_uvl(file, display)


def analyse_model(model: FeatureModel) -> FeatureAnalysis:
    """A feature model compiled for questions: `is_satisfiable`, `count`, `core_dead`,
    `forced`, `lint`, `explain` and `derive` under a selection (feature -> selected)."""
    from cmf_config.featuremodel import FeatureAnalysis, compile_model

    return FeatureAnalysis(compile_model(model))


def export_uvl(workspace: Workspace, *, source: str = "", namespace: str = "CMF") -> Export:
    """The workspace's catalog and rules as UVL text, with the rules written as constraints
    and those UVL cannot express skipped (id, reason); `source` names the catalog in the
    header comment."""
    from cmf_config.uvlexport import export_uvl as export

    return export(workspace.problem, workspace.rules, namespace=namespace, source=source)


def model_uvl(model: FeatureModel) -> str:
    """A feature model read with `import_model` (UVL or DIMACS) as normalised UVL text with
    the same number of configurations."""
    from cmf_config.uvlexport import feature_model_uvl

    return feature_model_uvl(model)


# ------------------------------------------------------------------ the catalog alone


def open_catalog(catalog: PathLike | None = None, *, year: int | None = None) -> Catalog:
    """Load a catalog folder (the bundled one when None), without rules or a solver. With
    `year`, only what was buildable that year: launched platforms, the E/E generations then
    built, the vehicles then built.

    Raises InputError with every diagnostic of every catalog file.
    """
    loaded = load_catalog(_path(catalog))
    if year is None:
        return loaded
    return attrs.evolve(
        loaded,
        platforms={
            k: p
            for k, p in loaded.platforms.items()
            if p.launch_year is not None and p.launch_year <= year
        },
        modules={
            k: m
            for k, m in loaded.modules.items()
            if m.kind != "ee_architecture" or (m.era is not None and m.era.contains(year))
        },
        vehicles={k: v for k, v in loaded.vehicles.items() if v.built_in(year)},
    )


def schema_kinds() -> tuple[str, ...]:
    """The kinds of catalog and rules file `json_schema` describes besides 'vehicle'."""
    from cmf_config.schema import FILE_KINDS

    return tuple(FILE_KINDS)


def json_schema(kind: str = "vehicle", catalog: Catalog | None = None) -> dict[str, object]:
    """The JSON Schema (draft 2020-12) of vehicle configuration files, with `catalog`'s ids as
    choices (the bundled catalog when None), or of one kind of catalog or rules file
    (`schema_kinds`). Raises UsageError for an unknown kind."""
    from cmf_config.schema import FILE_KINDS, config_schema, file_schema

    if kind == "vehicle":
        return config_schema(catalog if catalog is not None else load_catalog(None))
    if kind not in FILE_KINDS:
        known = ["vehicle", *FILE_KINDS]
        raise UsageError(
            f"unknown schema kind '{kind}'{did_you_mean(kind, known)}",
            f"the kinds are {', '.join(known)}",
        )
    return file_schema(kind)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Starter:
    """What starts a project in a folder: every file with its content (the project settings,
    copies of the bundled catalog and rules, the JSON Schemas, an example configuration), and
    the pre-commit hooks, written only where no .pre-commit-config.yaml is yet."""

    files: Mapping[Path, bytes]
    hooks: str


def starter_project(target: PathLike) -> Starter:
    """The files `cmf-config init` writes into `target` (nothing is written here)."""
    from cmf_config.projectfile import CONFIG_NAME
    from cmf_config.schema import FILE_KINDS, config_schema, file_schema

    folder = Path(target)
    starter = bundled_dir("starter")
    files: dict[Path, bytes] = {folder / CONFIG_NAME: (starter / "cmf-config.toml").read_bytes()}
    for name in ("catalog", "rules"):
        source = bundled_dir(name)
        for path in sorted(source.rglob("*.yaml")):
            relative = Path(name) / path.relative_to(source)
            kind = _schema_kind(relative)
            up = "../" * (len(relative.parts) - 1)
            modeline = f"# yaml-language-server: $schema={up}schemas/{kind}.schema.json\n"
            files[folder / relative] = modeline.encode() + path.read_bytes()
    files[folder / "schemas" / "vehicle.schema.json"] = report.to_json(
        config_schema(load_catalog(bundled_dir("catalog")))
    ).encode()
    for kind in FILE_KINDS:
        files[folder / "schemas" / f"{kind}.schema.json"] = report.to_json(
            file_schema(kind)
        ).encode()
    files[folder / "configs" / "example.yaml"] = (starter / "example.yaml").read_bytes()
    hooks = (starter / "pre-commit-config.yaml").read_text(encoding="utf-8")
    return Starter(files=files, hooks=hooks)


def _schema_kind(relative: Path) -> str:
    """Which schema a copied catalog or rules file follows."""
    if relative.parts[0] == "rules":
        return "rules"
    if len(relative.parts) > 2:  # catalog/vehicles/*.yaml
        return "vehicle"
    stem = relative.stem
    return "modules" if stem.startswith("modules") else stem


# ------------------------------------------------------------------ vehicles and their files


def resolve_vehicle(
    workspace: Workspace, ref: str, files: Mapping[str, Vehicle] | None = None
) -> Vehicle:
    """A vehicle named as on the command line: one of `files` (the path as given -> the
    vehicle loaded from it) or a catalog vehicle id. Raises UsageError otherwise."""
    return workspace.resolve_vehicle(ref, files or {})


def has_completion(workspace: Workspace, config: VehicleConfig) -> bool:
    """Whether some valid vehicle extends the configuration's choices (error rules only)."""
    return workspace.engine.is_consistent(workspace.assignment(config))


def open_slots(workspace: Workspace, config: VehicleConfig) -> list[str]:
    """The slots the configuration leaves open, in slot order."""
    assignment = workspace.assignment(config)
    return [s.name for s in workspace.problem.slots if s.name not in assignment]


def filled_values(
    workspace: Workspace, before: VehicleConfig, after: VehicleConfig
) -> dict[str, str]:
    """The slots open in `before`, each with the value id `after` gives it (slot order)."""
    completed = workspace.assignment(after)
    return {
        slot: workspace.value_id(slot, completed[slot]) for slot in open_slots(workspace, before)
    }


def edit_config_file(vehicle: Vehicle, config: VehicleConfig) -> str:
    """The text of the vehicle's configuration file with the values of `config`: only the
    changed values differ, comments and layout are kept."""
    from cmf_config.dump import config_to_data
    from cmf_config.roundtrip import edit_config
    from cmf_config.source import parse_file

    document = parse_file(Path(vehicle.config.span.path))
    return edit_config(document, config_to_data(vehicle.config), config_to_data(config))


def rule_index(workspace: Workspace) -> dict[str, Rule]:
    """The workspace's rules by id (the built-in ones included)."""
    return rules_by_id(workspace.rules)


def bom_positions(workspace: Workspace) -> tuple[int, int]:
    """How many variant-BOM positions `bom_check` checks, and their alternatives in all."""
    alternatives = sum(len(p.position.alternatives) for p in workspace.positions)
    return len(workspace.positions), alternatives


# ------------------------------------------------------------------ sharing from parts lists


def bom_product(name: str, lines: Sequence[BomLine]) -> ProductBom:
    """A bill of materials (from `bill_of_materials` or `build`) as a sharing product."""
    from cmf_config.sharing import bom_product as convert

    return convert(name, lines)


def compare_products(a: ProductBom, b: ProductBom) -> PairShare:
    """Parts sharing between two products (ratio, Dice, Jaccard, overlap, per module)."""
    from cmf_config.sharing import compare

    return compare(a, b)


def similarity_matrix(
    products: Sequence[ProductBom], measure: Measure = "ratio"
) -> SimilarityMatrix:
    """The product x product matrix of one sharing measure (no clustering, no indices)."""
    from cmf_config.sharing import fleet_matrix

    return fleet_matrix(products, measure)


def read_bom_table(path: PathLike) -> list[ProductBom]:
    """Products from a plain product,part,quantity CSV table (docs/sharing.md).

    Raises InputError with every positioned diagnostic of the table.
    """
    from cmf_config.bomtable import read_bom_table as read

    return read(Path(path))


# ------------------------------------------------------------------ feature models


def count_model(
    analysis: FeatureAnalysis, selection: Selection | None = None, seconds: float = 0.0
) -> tuple[int | None, str]:
    """The exact count of a model's configurations extending `selection`, and the counter
    used; (None, counter) when it takes more than `seconds` (<= 0: no limit).

    With a limit the count runs in a forked child, so that a counter that does not finish
    can be stopped; without one it runs in this process.
    """
    chosen = selection or {}
    if seconds <= 0:
        total = analysis.count(chosen)
        return total, analysis.last_counter
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            total = analysis.count(chosen)
            sender.send(("ok", str(total), analysis.last_counter))
        except Exception as exc:  # a bug: say so in the parent, not "did not finish in time"
            sender.send(("error", f"{type(exc).__name__}: {exc}", analysis.last_counter))

    process = ctx.Process(target=child)
    process.start()
    sender.close()
    try:
        if receiver.poll(seconds):
            try:
                status, text, counter = receiver.recv()
            except EOFError:
                raise RuntimeError("the model counter died without an answer") from None
            if status != "ok":
                raise RuntimeError(f"the model counter failed: {text}")
            return int(text), str(counter)
    finally:
        if process.is_alive():
            process.kill()
        process.join()
    return None, "d4"


def allow_count_digits() -> None:
    """Let counts of any size the counters return be printed and parsed (process-wide: Python
    limits int <-> str conversions to 4300 digits by default)."""
    from cmf_config.count import allow_count_digits as allow

    allow()


# ------------------------------------------------------------------ order banks


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class OrdersResult:
    """What `check_orders` found: how many orders it read, how many are valid, and the
    summary document (counts per class, the rules broken most often, the sources)."""

    orders: int
    valid: int
    summary: dict[str, object]

    @property
    def all_valid(self) -> bool:
        """Every order read is valid (the command's exit 0)."""
        return self.valid == self.orders


def check_orders(
    files: Sequence[PathLike],
    *,
    catalog: PathLike | None = None,
    rules: PathLike | None = None,
    group_by: Sequence[str] = (),
    verdicts: PathLike | None = None,
    demand: PathLike | None = None,
    boms: PathLike | None = None,
    summary: PathLike | None = None,
    workers: int = 1,
    dask: str | None = None,
    chunk_rows: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> OrdersResult:
    """Check order banks (CSV, JSON Lines, Parquet; docs/orders.md) against the catalog and
    rules, explode the valid orders into part demand, and write the outputs named (each
    atomically, by extension: .parquet, .csv, .jsonl, .json).

    `workers` processes on this machine (0: one per core), or a Dask cluster (`dask`:
    "local" or a scheduler address). `progress(rows, total)` is called as chunks finish
    (total None when the files do not say). Raises InputError for an unusable catalog or
    bank, UsageError for a --group-by column a file lacks; OSError when an output cannot be
    written. Switches this process's Arrow allocator to jemalloc unless
    ARROW_DEFAULT_MEMORY_POOL names one (`orderio.lean_memory_pool`: a lower peak).
    """
    from cmf_config.orderio import CHUNK_ROWS, lean_memory_pool
    from cmf_config.orderrun import (
        Outputs,
        execute,
        plan,
        results_dask,
        results_here,
        results_pool,
    )
    from cmf_config.orders import Checker

    lean_memory_pool()
    count = workers or os.cpu_count() or 1
    checker = Checker.open(_path(catalog), _path(rules))
    run = plan(checker, [Path(f) for f in files], tuple(group_by))
    outputs = Outputs(
        verdicts=_path(verdicts), demand=_path(demand), boms=_path(boms), summary=_path(summary)
    )
    if dask:
        results = results_dask(checker, dask, count)
    elif count > 1:
        results = results_pool(checker, count)
    else:
        results = results_here(checker)
    total = run.rows

    def tick(rows: int) -> None:
        if progress is not None:
            progress(rows, total)

    tally, document = execute(
        checker, run, outputs, results, chunk_rows or CHUNK_ROWS, tick if progress else None
    )
    return OrdersResult(orders=tally.orders, valid=tally.counts[0], summary=document)
