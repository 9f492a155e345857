"""The finite-domain view of a catalog that the rule engine reasons about.

A configuration is one value per slot. One-of slots (brand, platform, the five big modules,
options...) hold a value each; boolean features are two-valued slots. Each value carries the
attributes rules can read. Numeric option slots (battery, wheelbase) read as their number.
The same structure serves imported feature models and the random worlds of the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

import attrs

from cmf_config.errors import NO_SPAN, Span
from cmf_config.model import KINDS, AttrValue, Catalog, ModuleVariant, VehicleConfig
from cmf_config.reprs import shared_repr

BIG = 1e12


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Value:
    """One value of a slot: an id, a number for numeric slots, and readable attributes."""

    id: str
    number: float | None = None
    attributes: Mapping[str, AttrValue] = attrs.field(factory=dict)
    cost: float = 0.0
    mass_kg: float = 0.0


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Slot:
    """A decision: exactly one of its values is chosen."""

    name: str
    values: tuple[Value, ...]
    is_bool: bool = False
    is_numeric: bool = False
    attribute_types: Mapping[str, str] = attrs.field(factory=dict)
    attribute_enums: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    label: str = ""
    span: Span = attrs.field(default=NO_SPAN, eq=False)

    def index(self, value_id: str) -> int | None:
        """The index of a value id, or None."""
        for i, value in enumerate(self.values):
            if value.id == value_id:
                return i
        return None


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Problem:
    """Slots in a fixed order (the variable order of the encoding)."""

    slots: tuple[Slot, ...]
    by_name: Mapping[str, int] = attrs.field(init=False)

    @by_name.default
    def _index(self) -> Mapping[str, int]:
        return MappingProxyType({s.name: i for i, s in enumerate(self.slots)})

    def slot(self, name: str) -> Slot:
        """The slot called `name` (KeyError if none: callers resolve names first)."""
        return self.slots[self.by_name[name]]

    def has(self, name: str) -> bool:
        """Whether a slot `name` exists."""
        return name in self.by_name


Assignment = Mapping[str, int]
"""A (partial) configuration: slot name -> value index."""


def bool_slot(name: str, label: str = "", span: Span = NO_SPAN) -> Slot:
    """A boolean feature as a two-valued slot (index 0 = off, 1 = on)."""
    return Slot(
        name=name,
        values=(Value(id="false"), Value(id="true")),
        is_bool=True,
        label=label,
        span=span,
    )


def _plain_slot(name: str, ids: Iterable[str], label: str) -> Slot:
    return Slot(name=name, values=tuple(Value(id=i) for i in ids), label=label)


def _numeric_slot(name: str, numbers: Iterable[float], extra: Sequence[float], label: str) -> Slot:
    values = sorted({float(n) for n in (*numbers, *extra)})
    return Slot(
        name=name,
        values=tuple(Value(id=_num_id(v), number=v) for v in values),
        is_numeric=True,
        label=label,
    )


def _num_id(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


OPTION_SLOTS = ("drive", "steering", "market", "battery_kwh", "wheelbase_mm")
TOP_SLOTS = ("brand", "platform", "segment", "body", "powertrain")


def catalog_problem(catalog: Catalog, configs: Iterable[VehicleConfig] = ()) -> Problem:
    """Build the problem of a catalog; numeric option values of `configs` join their domains."""
    configs = list(configs)
    opts = catalog.options
    kinds = catalog.kinds
    slots: list[Slot] = [
        Slot(
            name="brand",
            values=tuple(
                Value(id=b.id, attributes={"group": b.group, "name": b.name})
                for b in sorted(catalog.brands.values(), key=lambda b: b.id)
            ),
            attribute_types={"group": "str", "name": "str"},
            label="brand",
        ),
        Slot(
            name="platform",
            values=tuple(
                Value(
                    id=p.id,
                    attributes={
                        "name": p.name,
                        "segments": frozenset(p.segments),
                        "powertrains": frozenset(p.powertrains),
                        "drives": frozenset(p.drives),
                        "modules": frozenset(p.modules),
                        "battery_min_kwh": p.battery_kwh.min if p.battery_kwh else 0.0,
                        "battery_max_kwh": p.battery_kwh.max if p.battery_kwh else BIG,
                        "wheelbase_min_mm": p.wheelbase_mm.min if p.wheelbase_mm else 0.0,
                        "wheelbase_max_mm": p.wheelbase_mm.max if p.wheelbase_mm else BIG,
                        "max_mass_kg": p.max_mass_kg if p.max_mass_kg is not None else BIG,
                    },
                )
                for p in sorted(catalog.platforms.values(), key=lambda p: p.id)
            ),
            attribute_types={
                "name": "str",
                "segments": "set",
                "powertrains": "set",
                "drives": "set",
                "modules": "set",
                "battery_min_kwh": "float",
                "battery_max_kwh": "float",
                "wheelbase_min_mm": "float",
                "wheelbase_max_mm": "float",
                "max_mass_kg": "float",
            },
            label="platform",
        ),
        _plain_slot("segment", opts.segments, "segment"),
        _plain_slot("body", opts.bodies, "body type"),
        Slot(
            name="powertrain",
            values=tuple(
                Value(
                    id=p.id,
                    attributes={
                        "electrified": p.electrified,
                        "has_engine": p.has_engine,
                        "plug_in": p.plug_in,
                    },
                )
                for p in opts.powertrains
            ),
            attribute_types={"electrified": "bool", "has_engine": "bool", "plug_in": "bool"},
            label="powertrain",
        ),
    ]
    for kind_id in KINDS:
        kind = kinds.get(kind_id)
        types = {a.name: a.type for a in kind.attributes} if kind else {}
        types.update({"id": "str", "cost": "float", "mass_kg": "float", "part_count": "int"})
        enums = {a.name: a.values for a in kind.attributes if a.values} if kind else {}
        slots.append(
            Slot(
                name=kind_id,
                values=tuple(_module_value(m) for m in catalog.modules_of(kind_id)),
                attribute_types=types,
                attribute_enums=enums,
                label=kind_id.replace("_", " "),
            )
        )
    slots.append(_plain_slot("drive", opts.drives, "drive"))
    slots.append(_plain_slot("steering", opts.steering, "steering side"))
    slots.append(
        Slot(
            name="market",
            values=tuple(
                Value(id=m.id, attributes={"steering": m.steering, "name": m.name})
                for m in opts.markets
            ),
            attribute_types={"steering": "str", "name": "str"},
            attribute_enums={"steering": tuple(opts.steering)},
            label="market",
        )
    )
    battery = [c.options.battery_kwh for c in configs if c.options.battery_kwh is not None]
    wheelbase = [
        float(c.options.wheelbase_mm) for c in configs if c.options.wheelbase_mm is not None
    ]
    slots.append(_numeric_slot("battery_kwh", opts.battery_kwh, battery, "battery capacity (kWh)"))
    slots.append(_numeric_slot("wheelbase_mm", opts.wheelbase_mm, wheelbase, "wheelbase (mm)"))
    for feature in sorted(opts.features, key=lambda f: f.id):
        slots.append(bool_slot(feature.id, feature.name or feature.id, feature.span))
    return Problem(slots=tuple(slots))


def _module_value(module: ModuleVariant) -> Value:
    """A module variant as a slot value, with its derived attributes readable by rules."""
    attributes: dict[str, AttrValue] = dict(module.attributes)
    attributes.update(
        {
            "id": module.id,
            "cost": module.cost,
            "mass_kg": module.mass_kg,
            "part_count": module.part_count,
        }
    )
    return Value(id=module.id, attributes=attributes, cost=module.cost, mass_kg=module.mass_kg)


def config_assignment(problem: Problem, config: VehicleConfig) -> dict[str, int]:
    """The slots a configuration fixes (open slots are left out). Names must be checked first."""
    chosen: dict[str, str | float | None] = {
        "brand": config.brand,
        "platform": config.platform,
        "segment": config.segment,
        "body": config.body,
        "powertrain": config.powertrain,
        "drive": config.options.drive,
        "steering": config.options.steering,
        "market": config.options.market,
    }
    for kind, choice in config.modules.items():
        chosen[kind] = choice
    out: dict[str, int] = {}
    for name, value in chosen.items():
        if value is not None and problem.has(name):
            index = problem.slot(name).index(str(value))
            if index is not None:
                out[name] = index
    for name, number in (
        ("battery_kwh", config.options.battery_kwh),
        ("wheelbase_mm", config.options.wheelbase_mm),
    ):
        if number is not None and problem.has(name):
            index = problem.slot(name).index(_num_id(float(number)))
            if index is not None:
                out[name] = index
    if config.options.features is not None:
        present = set(config.options.features)
        for slot in problem.slots:
            if slot.is_bool:
                out[slot.name] = 1 if slot.name in present else 0
    return out


def choice_span(config: VehicleConfig, slot: str) -> Span:
    """Where a configuration makes its choice for `slot` (the file position of the value)."""
    if slot in KINDS:
        return config.modules.field_spans.get(slot, config.modules.span)
    if slot in OPTION_SLOTS:
        return config.options.field_spans.get(slot, config.options.span)
    if slot in TOP_SLOTS:
        return config.field_spans.get(slot, config.span)
    return config.options.field_spans.get("features", config.options.span)
