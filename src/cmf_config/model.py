"""The catalog and vehicle-configuration data model: frozen attrs classes, data only.

Constructors do not validate: user-facing checks live in `load.py` and `rules.py`, where
positions are known. Every loaded object carries its `span` and the spans of its fields
(`field_spans`), excluded from equality so that objects compare by content.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, NewType

import attrs

from cmf_config.errors import NO_SPAN, Span
from cmf_config.reprs import shared_repr

ModuleId = NewType("ModuleId", str)
PlatformId = NewType("PlatformId", str)
BrandId = NewType("BrandId", str)
KindId = NewType("KindId", str)

KINDS: tuple[str, ...] = (
    "engine_compartment",
    "cockpit",
    "front_underbody",
    "rear_underbody",
    "ee_architecture",
)
"""The five big-module kinds ("4+1": four physical modules and the E/E architecture)."""

AttrType = Literal["int", "float", "str", "bool", "set"]
AttrValue = int | float | str | bool | frozenset[str]
DERIVED_ATTRIBUTES: tuple[str, ...] = ("id", "cost", "mass_kg", "part_count")
"""Attributes every module variant has without declaring them (computed from its parts)."""

_EMPTY: Mapping[str, Span] = MappingProxyType({})


def _span_field() -> Span:
    return attrs.field(default=NO_SPAN, eq=False, repr=False)


def _spans_field() -> Mapping[str, Span]:
    return attrs.field(default=_EMPTY, eq=False, repr=False)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class AttributeDef:
    """A typed attribute that every variant of a module kind must give."""

    name: str
    type: AttrType
    values: tuple[str, ...] = ()
    unit: str | None = None
    description: str = ""
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Kind:
    """A big-module kind and the attributes of its variants."""

    id: KindId
    name: str
    description: str = ""
    attributes: tuple[AttributeDef, ...] = ()
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()

    def attribute(self, name: str) -> AttributeDef | None:
        """The declared attribute `name`, or None."""
        return next((a for a in self.attributes if a.name == name), None)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class PartLine:
    """One line of a parts list: a part number, how many, and what one costs and weighs."""

    part: str
    name: str
    quantity: int
    unit_cost: float
    unit_mass_kg: float
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Alternative:
    """One alternative part of a BOM position, selected when its condition holds."""

    part: str
    name: str
    quantity: int
    unit_cost: float
    unit_mass_kg: float
    when: str = "true"
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()

    def line(self) -> PartLine:
        """The part line this alternative contributes when selected."""
        return PartLine(
            part=self.part,
            name=self.name,
            quantity=self.quantity,
            unit_cost=self.unit_cost,
            unit_mass_kg=self.unit_mass_kg,
            span=self.span,
        )


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Position:
    """A position of a "150%" BOM: where it applies (`needed`), and its alternative parts.

    A configured vehicle gets the alternatives whose `when` conditions hold; the product-data
    checks demand exactly one wherever the position is needed.
    """

    id: str
    name: str = ""
    needed: str = "true"
    alternatives: tuple[Alternative, ...] = ()
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class YearSpan:
    """Calendar years from `start` to `end` inclusive; `end` None means still running."""

    start: int
    end: int | None = None
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()

    def contains(self, year: int) -> bool:
        """Whether `year` lies in the span."""
        return self.start <= year and (self.end is None or year <= self.end)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class ModuleVariant:
    """A variant of a big module, with its typed attributes and parts list."""

    id: ModuleId
    kind: KindId
    name: str
    description: str = ""
    provenance: str = "illustrative"
    sources: tuple[str, ...] = ()
    attributes: Mapping[str, AttrValue] = attrs.field(factory=dict)
    parts: tuple[PartLine, ...] = ()
    positions: tuple[Position, ...] = ()
    era: YearSpan | None = None
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()

    @property
    def cost(self) -> float:
        """Sum of quantity x unit cost over the parts list."""
        return round(sum(p.quantity * p.unit_cost for p in self.parts), 6)

    @property
    def mass_kg(self) -> float:
        """Sum of quantity x unit mass over the parts list."""
        return round(sum(p.quantity * p.unit_mass_kg for p in self.parts), 6)

    @property
    def part_count(self) -> int:
        """Number of pieces in the parts list."""
        return sum(p.quantity for p in self.parts)

    def value(self, attribute: str) -> AttrValue | None:
        """An attribute's value, derived ones included; None when the variant has none."""
        if attribute == "id":
            return str(self.id)
        if attribute == "cost":
            return self.cost
        if attribute == "mass_kg":
            return self.mass_kg
        if attribute == "part_count":
            return self.part_count
        return self.attributes.get(attribute)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Range:
    """An inclusive numeric range."""

    min: float
    max: float
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()

    def contains(self, value: float) -> bool:
        """Whether `value` lies in the range."""
        return self.min <= value <= self.max


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Platform:
    """A platform: the segments, powertrains and module variants it admits."""

    id: PlatformId
    name: str
    aliases: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    powertrains: tuple[str, ...] = ()
    drives: tuple[str, ...] = ()
    battery_kwh: Range | None = None
    wheelbase_mm: Range | None = None
    max_mass_kg: float | None = None
    modules: tuple[ModuleId, ...] = ()
    launch_year: int | None = None
    sources: tuple[str, ...] = ()
    notes: str = ""
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Brand:
    """A brand and its brand-specific parts (badges, grille...)."""

    id: BrandId
    name: str
    group: str = ""
    provenance: str = "illustrative"
    sources: tuple[str, ...] = ()
    parts: tuple[PartLine, ...] = ()
    positions: tuple[Position, ...] = ()
    notes: str = ""
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Powertrain:
    """A powertrain family (ice, hev, bev...)."""

    id: str
    name: str = ""
    electrified: bool = False
    has_engine: bool = True
    plug_in: bool = False
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Market:
    """A sales market and the steering side it drives on."""

    id: str
    name: str = ""
    steering: Literal["lhd", "rhd"] = "lhd"
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class OptionFeature:
    """A boolean option (tow bar, heat pump...): present or absent."""

    id: str
    name: str = ""
    description: str = ""
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class OptionDomains:
    """The finite domains of a configuration's options (catalog/options.yaml)."""

    segments: tuple[str, ...] = ()
    bodies: tuple[str, ...] = ()
    powertrains: tuple[Powertrain, ...] = ()
    drives: tuple[str, ...] = ()
    steering: tuple[str, ...] = ("lhd", "rhd")
    markets: tuple[Market, ...] = ()
    battery_kwh: tuple[float, ...] = ()
    wheelbase_mm: tuple[int, ...] = ()
    features: tuple[OptionFeature, ...] = ()
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class ModuleChoices:
    """The five big-module choices of a configuration; None is an open slot."""

    engine_compartment: ModuleId | None = None
    cockpit: ModuleId | None = None
    front_underbody: ModuleId | None = None
    rear_underbody: ModuleId | None = None
    ee_architecture: ModuleId | None = None
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()

    def get(self, kind: str) -> ModuleId | None:
        """The variant chosen for `kind`, or None."""
        value: ModuleId | None = getattr(self, kind)
        return value

    def items(self) -> list[tuple[str, ModuleId | None]]:
        """(kind, choice) pairs in the canonical kind order."""
        return [(kind, self.get(kind)) for kind in KINDS]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class VehicleOptions:
    """A configuration's options; None is an open slot."""

    battery_kwh: float | None = None
    wheelbase_mm: int | None = None
    drive: str | None = None
    steering: str | None = None
    market: str | None = None
    features: tuple[str, ...] | None = None
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class VehicleConfig:
    """A vehicle configuration as a user writes it (maybe partial)."""

    name: str
    brand: BrandId | None = None
    platform: PlatformId | None = None
    segment: str | None = None
    body: str | None = None
    powertrain: str | None = None
    modules: ModuleChoices = attrs.field(factory=ModuleChoices)
    options: VehicleOptions = attrs.field(factory=VehicleOptions)
    extra_parts: tuple[PartLine, ...] = ()
    span: Span = _span_field()
    field_spans: Mapping[str, Span] = _spans_field()


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Vehicle:
    """A real reference vehicle of the catalog: a configuration with its sources."""

    id: str
    config: VehicleConfig
    sources: tuple[str, ...] = ()
    status: str = "confirmed"
    notes: str = ""
    production: YearSpan | None = None
    generation: str | None = None
    plants: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()
    provenance: str = ""
    span: Span = _span_field()

    def built_in(self, year: int) -> bool:
        """Whether the vehicle was in production in `year` (no production years: never)."""
        return self.production is not None and self.production.contains(year)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Catalog:
    """Everything the catalog directory holds, indexed by id."""

    kinds: Mapping[str, Kind]
    modules: Mapping[str, ModuleVariant]
    platforms: Mapping[str, Platform]
    brands: Mapping[str, Brand]
    options: OptionDomains
    vehicles: Mapping[str, Vehicle]
    root: str = ""

    def modules_of(self, kind: str) -> list[ModuleVariant]:
        """The variants of one kind, sorted by id."""
        return sorted((m for m in self.modules.values() if m.kind == kind), key=lambda m: m.id)

    def powertrain(self, pid: str) -> Powertrain | None:
        """The powertrain `pid`, or None."""
        return next((p for p in self.options.powertrains if p.id == pid), None)

    def market(self, mid: str) -> Market | None:
        """The market `mid`, or None."""
        return next((m for m in self.options.markets if m.id == mid), None)

    @property
    def provenance(self) -> str:
        """Where the catalog's parts, costs and masses come from: "illustrative" when any module
        variant or brand says so (the bundled catalog: no public BOM exists), else "catalog"."""
        labels = [m.provenance for m in self.modules.values()]
        labels += [b.provenance for b in self.brands.values()]
        return "illustrative" if "illustrative" in labels else "catalog"


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class BomLine:
    """One line of a resolved vehicle's bill of materials."""

    part: str
    name: str
    module: str
    quantity: int
    unit_cost: float
    unit_mass_kg: float
    position: str = ""  # the variant-BOM position that selected this part, if one did


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class BuiltVehicle:
    """A configuration resolved into module variants and a bill of materials."""

    name: str
    brand: str
    platform: str
    modules: Mapping[str, str]
    bom: tuple[BomLine, ...]
    filled: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def total_parts(self) -> int:
        """Pieces in the bill of materials."""
        return sum(line.quantity for line in self.bom)

    @property
    def total_cost(self) -> float:
        """Cost of the bill of materials."""
        return round(sum(line.quantity * line.unit_cost for line in self.bom), 2)

    @property
    def total_mass_kg(self) -> float:
        """Mass of the bill of materials."""
        return round(sum(line.quantity * line.unit_mass_kg for line in self.bom), 3)
