"""The validate and build reports written from plain values (no model classes).

`report.py` writes every other report; these two live here, in the standard library only,
so that the fast path (`quick.py`) writes the very same bytes as the full commands: both call
these functions. `report.validate_text`, `report.build_text`, ... pass the model's values in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from cmf_config.projectfile import CONFIG_NAME, PYPROJECT, TABLE

KINDS: tuple[str, ...] = (
    "engine_compartment",
    "cockpit",
    "front_underbody",
    "rear_underbody",
    "ee_architecture",
)
"""The five big-module kinds in report order (model.KINDS; a test keeps the two equal)."""

BomRow = tuple[str, str, str, int, float, float]
"""A bill-of-materials line: part, name, module, quantity, unit cost, unit mass (kg)."""


class DataDirView(Protocol):
    """What the sources line reads of a catalog or rules folder (`project.DataDir`)."""

    @property
    def origin(self) -> str: ...

    @property
    def shown(self) -> str: ...


class ProjectView(Protocol):
    """What the sources line reads of a project file (`project.Project`)."""

    @property
    def shown(self) -> str: ...


class SourcesView(Protocol):
    """What the sources line reads of a run's sources (`project.Sources`)."""

    @property
    def project(self) -> ProjectView | None: ...

    @property
    def catalog(self) -> DataDirView: ...

    @property
    def rules(self) -> DataDirView: ...


def sources_line(sources: SourcesView, rules: bool = True) -> str:
    """One line for text reports: what this run checked against, and why."""
    catalog, rule_dir = sources.catalog, sources.rules
    if catalog.origin == "bundled" and (not rules or rule_dir.origin == "bundled"):
        what = "catalog and rules" if rules else "catalog"
        unused = ""
        if (Path.cwd() / "catalog" / "kinds.yaml").is_file():
            unused = f"; the catalog/ folder here is NOT used: name it in {CONFIG_NAME}"
        return (
            f"catalog: the bundled demo {what} (no {CONFIG_NAME} or [{TABLE}] in {PYPROJECT} "
            f"found here or above; `cmf-config init` starts a project{unused})"
        )
    if not rules:
        return f"catalog: {catalog.shown}/ (from {_why(sources, catalog, '--catalog')})"
    if catalog.origin == rule_dir.origin and catalog.origin != "option":
        why = _why(sources, catalog, "")
        return f"catalog: {catalog.shown}/, rules: {rule_dir.shown}/ (from {why})"
    return (
        f"catalog: {catalog.shown}/ (from {_why(sources, catalog, '--catalog')}), "
        f"rules: {rule_dir.shown}/ (from {_why(sources, rule_dir, '--rules')})"
    )


def _why(sources: SourcesView, data: DataDirView, option: str) -> str:
    if data.origin == "option":
        return option
    if data.origin == "project" and sources.project is not None:
        return sources.project.shown
    return "the bundled demo data"


def error_lines(message: str, hint: str | None = None) -> str:
    """A usage or environment error on stderr: what is wrong, then what to do."""
    return f"cmf-config: error: {message}\n" + (f"  hint: {hint}\n" if hint else "")


def internal_error_lines(kind: str, detail: str) -> str:
    """A real bug (exit 3): what happened, and how to report it."""
    return (
        f"cmf-config: internal error: {kind}: {detail}\n"
        "  this is a bug in cmf-config; rerun with --debug and report the traceback\n"
    )


def timing_line(command: str, milliseconds: float, catalog_cache: object) -> str:
    """--verbose: how long the command took and how the catalog cache served it."""
    return f"cmf-config: {command} took {milliseconds:.0f} ms; catalog cache: {catalog_cache}\n"


def to_json(document: object) -> str:
    """Stable, readable JSON (sorted where the data is a mapping we built).

    The one place JSON is written: a number that is not finite (a sum that overflowed, a
    ratio of two zero costs) becomes null, and `allow_nan=False` makes sure no `Infinity` or
    `NaN`, which are not JSON, ever gets out.
    """
    return json.dumps(finite(document), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def finite(document: object) -> object:
    """`document` with every non-finite float replaced by None."""
    if isinstance(document, float):
        return document if math.isfinite(document) else None
    if isinstance(document, dict):
        return {key: finite(value) for key, value in document.items()}
    if isinstance(document, list | tuple):
        return [finite(value) for value in document]
    return document


# ------------------------------------------------------------------ validate


def validate_text(
    results: Sequence[tuple[str, bool, Sequence[str]]], unchecked: Collection[str] = ()
) -> str:
    """Human output of validate: each file's rendered diagnostics, then its verdict. The files
    in `unchecked` could not be used (exit 2), so no rule was checked: they are not called
    INVALID (which means rules broken, exit 1)."""
    out = []
    for path, valid, rendered in results:
        if rendered:
            out.append("\n".join(rendered))
        verdict = "valid" if valid else "INVALID"
        if path in unchecked:
            verdict = "could not be checked (see the errors above)"
        out.append(f"{path}: {verdict}")
    return "\n".join(out) + "\n"


def validate_json(results: Sequence[tuple[str, bool, Sequence[object]]]) -> str:
    """The validate document: {"files": [{"file", "valid", "diagnostics": [...]}]}."""
    return to_json(
        {
            "files": [
                {"file": path, "valid": valid, "diagnostics": list(diags)}
                for path, valid, diags in results
            ]
        }
    )


# ------------------------------------------------------------------ provenance

PROVENANCE_NOTES = {
    "illustrative": "provenance: illustrative data: the catalog's part numbers, costs and masses are invented (no public bill of materials exists; docs/catalog.md §1), so these figures are not published ones",
    "catalog": "provenance: the catalog's own part data",
    "bom-table": "provenance: the BOM table given",
}


def provenance_text(provenance: str) -> str:
    """One line saying where the figures above come from."""
    return PROVENANCE_NOTES.get(provenance, f"provenance: {provenance}") + "\n"


# ------------------------------------------------------------------ build


def totals(bom: Sequence[BomRow]) -> tuple[int, float, float]:
    """Pieces, cost (rounded to cents) and mass (to grams) of a bill of materials."""
    return (
        sum(row[3] for row in bom),
        round(sum(row[3] * row[4] for row in bom), 2),
        round(sum(row[3] * row[5] for row in bom), 3),
    )


def build_json(
    *,
    name: str,
    brand: str,
    platform: str,
    modules: Mapping[str, str],
    filled: Mapping[str, str],
    bom: Sequence[BomRow],
    provenance: str,
) -> str:
    """The documented build document."""
    parts, cost, mass = totals(bom)
    return to_json(
        {
            "provenance": provenance,
            "name": name,
            "brand": brand,
            "platform": platform,
            "modules": dict(modules),
            "filled": dict(filled),
            "bom": [
                {
                    "part": part,
                    "name": part_name,
                    "module": module,
                    "quantity": quantity,
                    "unit_cost": unit_cost,
                    "unit_mass_kg": unit_mass_kg,
                }
                for part, part_name, module, quantity, unit_cost, unit_mass_kg in bom
            ],
            "totals": {"parts": parts, "cost": cost, "mass_kg": mass},
        }
    )


def build_text(
    *,
    name: str,
    brand: tuple[str, str],
    platform: tuple[str, str],
    modules: Mapping[str, tuple[str, str]],
    filled: Mapping[str, str],
    bom: Sequence[BomRow],
    provenance: str,
) -> str:
    """A readable vehicle sheet with its bill of materials. `brand` and `platform` are
    (id, name); `modules` maps each kind to its variant's (id, name)."""
    lines = [
        f"{name}",
        f"  brand:    {brand[1]} ({brand[0]})",
        f"  platform: {platform[1]} ({platform[0]})",
        "  modules:",
    ]
    for kind in KINDS:
        module_id, module_name = modules[kind]
        note = "  [filled in at least cost]" if kind in filled else ""
        lines.append(f"    {kind:<19} {module_id:<28} {module_name}{note}")
    others = {k: v for k, v in filled.items() if k not in KINDS}
    if others:
        lines.append("  filled in: " + ", ".join(f"{k}={v}" for k, v in sorted(others.items())))
    lines.append("  bill of materials:")
    lines.append(
        f"    {'part':<16} {'name':<36} {'module':<19} {'qty':>4} {'unit cost':>10} {'unit kg':>8}"
    )
    for part, part_name, module, quantity, unit_cost, unit_mass_kg in bom:
        lines.append(
            f"    {part:<16} {part_name[:36]:<36} {module:<19} {quantity:>4} {unit_cost:>10.2f} {unit_mass_kg:>8.3f}"
        )
    parts, cost, mass = totals(bom)
    lines.append(
        f"  totals: {parts} pieces, {cost:.2f} EUR, {mass:.3f} kg"
        + (" (illustrative)" if provenance == "illustrative" else "")
    )
    return "\n".join(lines) + "\n" + provenance_text(provenance)
