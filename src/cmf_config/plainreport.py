"""The validate, build, options and explain reports written from plain values (no model
classes).

`report.py` writes every other report; these live here, in the standard library only (and the
plain conflict types of `derivation.py`), so that the fast path (`quick.py`) writes the very
same bytes as the full commands: both call these functions. `report.validate_text`,
`report.build_text`, `report.explanation`, ... pass the model's values in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from cmf_config.derivation import Applied, Chosen, Conflict, Derivation, Derived, Fact
from cmf_config.projectfile import CONFIG_NAME, PYPROJECT, TABLE

if TYPE_CHECKING:
    from cmf_config.questions import SlotOptions

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


# ------------------------------------------------------------------ options


def options_text(options: Mapping[str, SlotOptions], labels: Mapping[str, str]) -> str:
    """Per open slot: possible values, and excluded ones with the rules that exclude them.
    `labels`: each slot's label (its name where it has none)."""
    if not options:
        return "no open slot: every slot of the configuration is chosen (run `cmf-config validate` to check it)\n"
    lines = []
    for slot, found in options.items():
        lines.append(f"{labels[slot]} ({slot}): {len(found.possible)} possible")
        for value in found.possible:
            lines.append(f"  + {value}")
        for value, rule_ids in sorted(found.excluded.items()):
            lines.append(f"  - {value}  (excluded by {', '.join(rule_ids) or 'the choices alone'})")
    return "\n".join(lines) + "\n"


def options_json(options: Mapping[str, SlotOptions], consistent: bool) -> str:
    """{"consistent", "slots": {slot: {"possible": [...], "excluded": {id: [rule ids]}}}}."""
    return to_json(
        {
            "consistent": consistent,
            "slots": {
                slot: {
                    "possible": list(found.possible),
                    "excluded": {k: list(v) for k, v in sorted(found.excluded.items())},
                }
                for slot, found in options.items()
            },
        }
    )


def options_contradiction_text() -> str:
    """`options` on choices that already contradict the rules: the line before the table."""
    return "the choices already contradict the rules: no slot has a possible value (run `cmf-config explain`)\n"


# ------------------------------------------------------------------ explanations

Where = tuple[str, int, int]
"""A position: path, 1-based line and column (line 0: the path as a whole, or built in)."""


def where_text(where: Where) -> str:
    """path:line:column (errors.Span's words), or the path alone without a line."""
    path, line, col = where
    return f"{path}:{line}:{col}" if line > 0 else path


class RuleText(NamedTuple):
    """What an explanation says of a rule: its message (or description) and position."""

    message: str
    description: str
    where: Where


class SlotText(NamedTuple):
    """What an explanation says of a slot: its label (or name), whether it is a feature."""

    label: str
    is_bool: bool


def derivation_text(
    derivation: Derivation,
    *,
    choices: Callable[[Sequence[Fact]], str],
    rule: Callable[[str], str],
    fact: Callable[[Fact], str],
    conclusion: str,
) -> str:
    """A derivation as PubGrub words it: one sentence per step, "Because ..., and because ...,
    so ...", a cause per line. A step that only the next one uses is its implicit start
    ("And because ..."); a step used later or more than once gets a number, and the steps
    using it cite it.
    """
    steps = derivation.steps()
    users: dict[int, list[int]] = {}
    for index, step in enumerate(steps):
        for cause in step.premises:
            if isinstance(cause, Derived):
                users.setdefault(id(cause), []).append(index)
    numbers: dict[int, int] = {}
    for index, step in enumerate(steps):
        used_by = users.get(id(step), [])
        if len(used_by) > 1 or (used_by and used_by[0] != index + 1):
            numbers[id(step)] = len(numbers) + 1
    lines = []
    for index, step in enumerate(steps):
        chained = False
        chosen = [c.fact for c in step.causes if isinstance(c, Chosen)]
        parts = [choices(chosen)] if chosen else []
        for item in step.causes:
            if isinstance(item, Derived):
                if index > 0 and item is steps[index - 1] and id(item) not in numbers:
                    chained = True
                else:
                    assert item.fact is not None
                    parts.append(f"{fact(item.fact)} ({numbers[id(item)]})")
            elif isinstance(item, Applied):
                parts.append(rule(item.rule))
        end = conclusion if step.fact is None else fact(step.fact)
        clauses = [
            f"{'And because' if chained else 'Because'} {parts[0]},",
            *(f"    and because {part}," for part in parts[1:]),
            f"    so {end}.",
        ]
        number = numbers.get(id(step))
        if number is not None:
            clauses[0] = f"({number}) {clauses[0]}"
        lines += clauses
    return "\n".join(lines) + "\n"


def derivation_json(derivation: Derivation) -> list[dict[str, object]]:
    """The steps of a derivation: each with its causes (choices, rules, earlier steps by
    their 1-based index) and what follows from them (None: the conflict)."""
    steps = derivation.steps()
    index = {id(step): n for n, step in enumerate(steps, start=1)}
    out: list[dict[str, object]] = []
    for step in steps:
        because: list[dict[str, object]] = []
        for cause in step.causes:
            if isinstance(cause, Chosen):
                because.append({"choice": cause.fact.slot, "value": fact_value(cause.fact)})
            elif isinstance(cause, Applied):
                because.append({"rule": cause.rule})
            else:
                because.append({"step": index[id(cause)]})
        so = None if step.fact is None else step.fact._asdict()
        out.append({"step": index[id(step)], "because": because, "so": so})
    return out


def fact_value(fact: Fact) -> str:
    """The value a chosen fact gives its slot ('true'/'false' for a feature)."""
    if fact.value == "true" and not fact.holds:
        return "false"
    return fact.value


def and_words(items: Sequence[str]) -> str:
    """a; a and b; a, b and c."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def explanation(
    derivation: Derivation,
    slots: Mapping[str, SlotText],
    rules: Mapping[str, RuleText],
    chosen_at: Mapping[str, Where],
) -> str:
    """Why a configuration has no valid completion, step by step (see `derivation_text`).
    `chosen_at`: where the configuration makes each choice the derivation cites."""

    def choice_words(facts: Sequence[Fact]) -> str:
        named = []
        for f in facts:
            slot = slots[f.slot]
            where = where_text(chosen_at[f.slot])
            if slot.is_bool:
                named.append(f"feature '{f.slot}'{'' if f.holds else ' off'} ({where})")
            else:
                named.append(f"{slot.label} '{f.value}' ({where})")
        return "you chose " + and_words(named)

    def fact_words(f: Fact) -> str:
        if slots[f.slot].is_bool:
            return f"feature '{f.slot}' must be {'on' if f.holds else 'off'}"
        return f"{slots[f.slot].label} {'must' if f.holds else 'cannot'} be '{f.value}'"

    def rule_words(rule_id: str) -> str:
        rule = rules[rule_id]
        where = f" ({where_text(rule.where)})" if rule.where[1] else " (built in)"
        return f"rule '{rule_id}'{where} says: {rule.message or rule.description}"

    has_choices = any(True for _ in derivation.choices())
    return derivation_text(
        derivation,
        choices=choice_words,
        rule=rule_words,
        fact=fact_words,
        conclusion="no valid vehicle has these choices"
        if has_choices
        else "no vehicle at all satisfies these rules together",
    )


def consistent_text(path: str) -> str:
    """explain on a configuration that a valid vehicle completes."""
    return f"{path}: consistent: a valid vehicle completes these choices; nothing to explain\n"


def explain_json(
    conflict: Conflict | None,
    derivation: Derivation | None,
    slots: Mapping[str, SlotText],
    rules: Mapping[str, RuleText],
    chosen: Mapping[str, tuple[str, Where]],
) -> str:
    """{"consistent", "conflict": [...], "derivation": [...], "text"}. `chosen`: the value id
    of each choice of the configuration and where it is made."""
    if conflict is None:
        return to_json(
            {
                "consistent": True,
                "conflict": [],
                "text": "the configuration has a valid completion; nothing to explain",
            }
        )
    items: list[dict[str, object]] = []
    for slot in conflict.choices:
        value, where = chosen[slot]
        items.append(
            {"type": "choice", "id": slot, "slot": slot, "value": value, **_where_json(where)}
        )
    for rule_id in conflict.rules:
        rule = rules[rule_id]
        items.append(
            {
                "type": "rule",
                "id": rule_id,
                "slot": None,
                "message": rule.message,
                **_where_json(rule.where),
            }
        )
    chosen_at = {slot: where for slot, (_, where) in chosen.items()}
    return to_json(
        {
            "consistent": False,
            "conflict": items,
            "derivation": derivation_json(derivation) if derivation is not None else [],
            "text": explanation(derivation, slots, rules, chosen_at)
            if derivation is not None
            else "",
        }
    )


def _where_json(where: Where) -> dict[str, object]:
    return {"file": where[0], "line": where[1], "column": where[2]}
