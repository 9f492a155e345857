"""The configuration lives in the URL: query string <-> choices, with positioned diagnostics.

Each slot is a parameter named after it (`platform=cmf-b-hs`, `adas_l2=true`); an empty or
missing parameter leaves the slot open. `name` names the vehicle and `vehicle` names the
catalog vehicle the configuration started from (its own parts join the bill of materials).
A bad parameter is reported with its position in the query string (`query:1:COLUMN`), like
a bad line of a file. Nothing here names or opens a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote, unquote, unquote_plus

import attrs

from cmf_config.errors import Diagnostic, Span
from cmf_config.model import (
    KINDS,
    BrandId,
    ModuleChoices,
    ModuleId,
    PartLine,
    PlatformId,
    VehicleConfig,
    VehicleOptions,
)
from cmf_config.problem import OPTION_SLOTS, TOP_SLOTS, Problem, config_assignment
from cmf_config.reprs import shared_repr
from cmf_config.suggest import did_you_mean
from cmf_config.workspace import Workspace

QUERY = "query"
"""The path of spans into the query string."""

MAX_QUERY = 8192
"""A longer query string is refused (every slot at its longest fits many times over)."""

META = ("name", "vehicle", "parts")
DEFAULT_NAME = "configured vehicle"


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class State:
    """Choices (slot -> value index), the vehicle name and the catalog vehicle started from."""

    assignment: Mapping[str, int]
    name: str = DEFAULT_NAME
    vehicle: str | None = None
    parts: tuple[PartLine, ...] = ()
    """The vehicle's own parts (an uploaded file's `extra_parts`), carried in the URL."""
    spans: Mapping[str, Span] = attrs.field(factory=dict, eq=False)


class StateError(Exception):
    """A query string that names no configuration: its diagnostics, all of them."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("; ".join(d.message for d in diagnostics))


def _pairs(query: str) -> list[tuple[str, str, int]]:
    """(key, value, 1-based column of the value) of each parameter, in order."""
    out = []
    offset = 0
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            column = offset + len(key) + 2 if "=" in part else offset + 1
            out.append((unquote_plus(key), unquote_plus(value), column))
        offset += len(part) + 1
    return out


def parse_query(workspace: Workspace, query: str, extra: Sequence[str] = ()) -> State:
    """Read a configuration from a query string; raise StateError with every problem found.

    `extra` names the further parameters the caller reads itself (they are skipped here).
    """
    if len(query) > MAX_QUERY:
        raise StateError(
            [
                Diagnostic(
                    code="E260",
                    span=Span(QUERY, 1, MAX_QUERY),
                    message=f"the query string is too long ({len(query)} characters; the limit is {MAX_QUERY})",
                    hint="start again from the page; a configuration needs far fewer characters",
                )
            ]
        )
    problem = workspace.problem
    catalog = workspace.catalog
    diagnostics: list[Diagnostic] = []
    assignment: dict[str, int] = {}
    spans: dict[str, Span] = {}
    name = DEFAULT_NAME
    vehicle: str | None = None
    parts: tuple[PartLine, ...] = ()
    seen: set[str] = set()
    known = [s.name for s in problem.slots] + list(META) + list(extra)
    for key, value, column in _pairs(query):
        span = Span(QUERY, 1, column)
        if key in extra:
            continue
        if key in seen:
            diagnostics.append(
                Diagnostic(
                    code="E261",
                    span=span,
                    message=f"parameter '{key}' is given twice",
                    hint="give each slot once",
                )
            )
            continue
        seen.add(key)
        if key == "name":
            name = value.strip()[:200] or DEFAULT_NAME
            continue
        if key == "parts":
            found = _parse_parts(value, column)
            if isinstance(found, Diagnostic):
                diagnostics.append(found)
            else:
                parts = found
            continue
        if key == "vehicle":
            diagnostics += _unknown_vehicle(value, span, catalog.vehicles)
            vehicle = value or None
            continue
        if not problem.has(key):
            diagnostics.append(
                Diagnostic(
                    code="E262",
                    span=Span(QUERY, 1, column - len(key) - 1 if column > len(key) else 1),
                    message=f"unknown parameter '{key}'{did_you_mean(key, known)}",
                    hint="the parameters are the slots (brand, platform, ..., each feature), name and vehicle",
                )
            )
            continue
        if value == "":
            continue
        slot = problem.slot(key)
        index = slot.index(value)
        if index is None and slot.is_numeric:
            index = _numeric_index(problem, key, value)
        if index is None:
            ids = [v.id for v in slot.values]
            diagnostics.append(
                Diagnostic(
                    code="E230",
                    span=span,
                    message=f"unknown {slot.label or key} '{value}'{did_you_mean(value, ids)}",
                    hint=f"the values are {', '.join(ids)}",
                )
            )
            continue
        assignment[key] = index
        spans[key] = span
    if diagnostics:
        raise StateError(diagnostics)
    if vehicle is not None and name == DEFAULT_NAME:
        name = catalog.vehicles[vehicle].config.name
    return State(assignment=assignment, name=name, vehicle=vehicle, parts=parts, spans=spans)


def _unknown_vehicle(value: str, span: Span, vehicles: Mapping[str, object]) -> list[Diagnostic]:
    if not value or value in vehicles:
        return []
    return [
        Diagnostic(
            code="E230",
            span=span,
            message=f"unknown catalog vehicle '{value}'{did_you_mean(value, vehicles)}",
            hint="see `cmf-config catalog list` for the vehicles",
        )
    ]


PART_FIELDS = ("part", "quantity", "unit_cost", "unit_mass_kg", "name")
"""The fields of one line of the `parts` parameter, in order (lines joined by ';', fields by
',', each field percent-encoded so that neither separator can appear inside it)."""


def parts_value(parts: Sequence[PartLine]) -> str:
    """The `parts` parameter of a vehicle's own parts (before the query's own encoding)."""
    return ";".join(
        ",".join(
            quote(field, safe="")
            for field in (
                p.part,
                str(p.quantity),
                repr(p.unit_cost),
                repr(p.unit_mass_kg),
                p.name,
            )
        )
        for p in parts
    )


def _parse_parts(value: str, column: int) -> tuple[PartLine, ...] | Diagnostic:
    """The parts of a `parts` parameter, or the diagnostic of its first bad line."""
    out: list[PartLine] = []
    span = Span(QUERY, 1, column)
    for number, line in enumerate(value.split(";") if value else [], start=1):
        fields = [unquote(f) for f in line.split(",")]
        problem = None
        if len(fields) != len(PART_FIELDS):
            problem = f"has {len(fields)} fields, not {len(PART_FIELDS)}"
        else:
            part, quantity, cost, mass, name = fields
            try:
                count, unit_cost, unit_mass = int(quantity), float(cost), float(mass)
            except ValueError:
                problem = "has a quantity, cost or mass that is not a number"
            else:
                if not part.strip():
                    problem = "has no part number"
                elif count < 1 or not (0 <= unit_cost < 1e12) or not (0 <= unit_mass < 1e9):
                    problem = "has a quantity below 1, or a cost or mass out of range"
                else:
                    out.append(
                        PartLine(
                            part=part,
                            name=name,
                            quantity=count,
                            unit_cost=unit_cost,
                            unit_mass_kg=unit_mass,
                            span=span,
                        )
                    )
        if problem is not None:
            return Diagnostic(
                code="E264",
                span=span,
                message=f"line {number} of parameter 'parts' {problem}",
                hint="each line is part,quantity,unit_cost,unit_mass_kg,name; lines are joined by ';'",
            )
    return tuple(out)


def _numeric_index(problem: Problem, key: str, value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    for index, v in enumerate(problem.slot(key).values):
        if v.number == number:
            return index
    return None


def to_query(problem: Problem, state: State, **changes: int | None) -> str:
    """The query string of a state (slots in problem order), with some slots changed.

    A change to None opens the slot.
    """
    assignment = dict(state.assignment)
    for key, index in changes.items():
        if index is None:
            assignment.pop(key, None)
        else:
            assignment[key] = index
    parts = []
    if state.name != DEFAULT_NAME:
        parts.append(f"name={quote(state.name, safe='')}")
    if state.vehicle is not None:
        parts.append(f"vehicle={quote(state.vehicle, safe='')}")
    if state.parts:
        parts.append(f"parts={quote(parts_value(state.parts), safe=',;')}")
    for slot in problem.slots:
        if slot.name in assignment:
            value = slot.values[assignment[slot.name]].id
            parts.append(f"{quote(slot.name, safe='')}={quote(value, safe='')}")
    return "&".join(parts)


def with_assignment(state: State, assignment: Mapping[str, int]) -> State:
    """The same vehicle with other choices."""
    return attrs.evolve(state, assignment=dict(assignment), spans={})


def state_of_config(
    workspace: Workspace, config: VehicleConfig, vehicle: str | None = None
) -> State:
    """The state of a loaded configuration (a catalog vehicle or an uploaded file).

    Raises StateError when a number of the file is not among the values this server offers
    (the server's domains are fixed at start).
    """
    problem = workspace.problem
    diagnostics = []
    for key, number in (
        ("battery_kwh", config.options.battery_kwh),
        ("wheelbase_mm", config.options.wheelbase_mm),
    ):
        if number is not None and _numeric_index(problem, key, str(number)) is None:
            offered = ", ".join(v.id for v in problem.slot(key).values)
            diagnostics.append(
                Diagnostic(
                    code="E263",
                    span=config.options.field_spans.get(key, config.options.span),
                    message=f"'{key}' {number} is not one of the values this server offers",
                    hint=f"choose one of {offered}, or check the file with `cmf-config validate`",
                )
            )
    if diagnostics:
        raise StateError(diagnostics)
    return State(
        assignment=config_assignment(problem, config),
        name=config.name or DEFAULT_NAME,
        vehicle=vehicle,
        # a catalog vehicle's own parts come with its id; a file's travel in the URL
        parts=config.extra_parts if vehicle is None else (),
    )


def config_of(workspace: Workspace, state: State) -> VehicleConfig:
    """The configuration a state describes, as `validate` and `build` read files.

    The file format lists features all at once: when any feature is chosen, the features
    switched on are listed (features left open are then off in the file).
    """
    problem = workspace.problem
    chosen = state.assignment

    def value(slot: str) -> str | None:
        return problem.slot(slot).values[chosen[slot]].id if slot in chosen else None

    def number(slot: str) -> float | None:
        return problem.slot(slot).values[chosen[slot]].number if slot in chosen else None

    features = [s.name for s in problem.slots if s.is_bool]
    feature_list: tuple[str, ...] | None = None
    if any(f in chosen for f in features):
        feature_list = tuple(f for f in features if chosen.get(f) == 1)
    wheelbase = number("wheelbase_mm")
    option_spans = {k: v for k, v in state.spans.items() if k in OPTION_SLOTS}
    feature_spans = [state.spans[f] for f in features if f in state.spans]
    if feature_spans:
        option_spans["features"] = feature_spans[0]
    extra: tuple[PartLine, ...] = state.parts
    if not extra and state.vehicle is not None and state.vehicle in workspace.catalog.vehicles:
        extra = workspace.catalog.vehicles[state.vehicle].config.extra_parts
    brand = value("brand")
    platform = value("platform")
    modules = {kind: value(kind) for kind in KINDS}
    return VehicleConfig(
        name=state.name,
        brand=BrandId(brand) if brand else None,
        platform=PlatformId(platform) if platform else None,
        segment=value("segment"),
        body=value("body"),
        powertrain=value("powertrain"),
        modules=ModuleChoices(
            **{k: ModuleId(v) if v else None for k, v in modules.items()},  # type: ignore[arg-type]
            field_spans={k: v for k, v in state.spans.items() if k in KINDS},
        ),
        options=VehicleOptions(
            battery_kwh=number("battery_kwh"),
            wheelbase_mm=int(wheelbase) if wheelbase is not None else None,
            drive=value("drive"),
            steering=value("steering"),
            market=value("market"),
            features=feature_list,
            field_spans=option_spans,
        ),
        extra_parts=extra,
        field_spans={k: v for k, v in state.spans.items() if k in TOP_SLOTS},
        span=Span(QUERY, 1, 1),
    )
