"""Model -> graphviz.Digraph: a vehicle, the catalog, the rules, the sharing between vehicles.

Pure: no file I/O and no rendering (commands/diagram.py writes and renders). Deterministic:
every collection is sorted before it becomes nodes, rows or edges, and node ids are built
from the ids they stand for, so the same input gives the same DOT bytes whatever its order.

Safety: text that comes from a catalog, a rule file or a configuration reaches the DOT only
through `_esc` (and `_lines`, which wraps then calls it), inside HTML-like labels: entities
for ``& < > " ' \\ ]``, whitespace runs made one space, and characters
XML forbids replaced by U+FFFD. Node and cluster ids use safe characters only, or a hash of
the id. So no name can break the DOT or inject markup; tests/test_diagram.py checks it.

One visual language in every diagram: each module kind has its colours (`KIND`); brands,
platforms, vehicles and options have theirs; red is a violated rule, green a satisfied rule
or a shared part; dashed means open or a warning; every diagram carries a legend.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import attrs
import graphviz

from cmf_config.model import (
    KINDS,
    AttrValue,
    BuiltVehicle,
    Catalog,
    ModuleVariant,
    PartLine,
    Vehicle,
    VehicleConfig,
)
from cmf_config.problem import Problem
from cmf_config.reprs import shared_repr
from cmf_config.rules import IR, Op, Ref, Rule

__all__ = [
    "KIND",
    "Colour",
    "Reference",
    "RuleState",
    "catalog_diagram",
    "rule_reads",
    "rules_diagram",
    "sharing_diagram",
    "vehicle_diagram",
]

RuleState = Literal["violated", "satisfied", "open"]
"""How a rule fares on a configuration: broken, holding, or not decided by a partial one."""


@shared_repr
@attrs.frozen(repr=False)
class Colour:
    """A fill colour and the darker line (border, header, edge) colour that goes with it."""

    fill: str
    line: str


KIND: Mapping[str, Colour] = {
    "engine_compartment": Colour("#fdd0a2", "#a63603"),
    "cockpit": Colour("#c6dbef", "#08519c"),
    "front_underbody": Colour("#dadaeb", "#54278f"),
    "rear_underbody": Colour("#ead7bb", "#7f4f24"),
    "ee_architecture": Colour("#fff3a3", "#7a6000"),
}
"""The colours of the five big-module kinds, the same in every diagram."""

BRAND = Colour("#fcc5c0", "#ae017e")
PLATFORM = Colour("#e0e0e0", "#303030")
VEHICLE = Colour("#ffffff", "#000000")
OPTION = Colour("#f4f4f4", "#636363")
VIOLATED = Colour("#fee0d2", "#cb181d")
SATISFIED = Colour("#e5f5e0", "#238b45")
OPEN = Colour("#ffffff", "#969696")
SHARED = Colour("#c7e9c0", "#238b45")
WITHIN = "#74c476"  # sharing edges within a platform: light green
ACROSS = "#00441b"  # sharing edges between platforms, the interesting ones: dark green
GROUP = Colour("#ffffff", "#bdbdbd")
RULE = Colour("#ffffff", "#525252")
STATE_COLOURS: Mapping[str, Colour] = {"violated": VIOLATED, "satisfied": SATISFIED, "open": OPEN}

FONT = "Helvetica,Arial,sans-serif"
WRAP = 38  # characters per label line: keeps every box narrow at catalog scale
MAX_PARTS = 12  # part rows shown per box; the rest are counted in one row
TOP_SLOTS = ("brand", "platform", "segment", "body", "powertrain")
OPTION_ROWS = (
    "segment",
    "body",
    "powertrain",
    "drive",
    "steering",
    "market",
    "battery_kwh",
    "wheelbase_mm",
)

# Characters XML 1.0 forbids (Graphviz parses HTML-like labels as XML): C0 controls other
# than whitespace, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SAFE_ID = re.compile(r"[A-Za-z0-9_.+-]{1,80}")


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Reference:
    """The vehicle a vehicle diagram is compared with: its name, part numbers and sharing ratio."""

    name: str
    parts: frozenset[str]
    ratio: float | None = None


# ------------------------------------------------------------------ text and ids


def _clean(text: object) -> str:
    """One line of text: runs of whitespace become one space, forbidden characters U+FFFD."""
    return " ".join(_NOT_XML.sub("\ufffd", str(text)).split())


def _esc(text: object) -> str:
    """Text escaped for an HTML-like label (the only way user text enters the DOT).

    Besides the XML entities, backslashes become ``&#92;`` and ``]`` becomes ``&#93;``:
    Graphviz 2.43 rejects a label text that starts with ']' (found by the property test).
    """
    return html.escape(_clean(text), quote=True).replace("\\", "&#92;").replace("]", "&#93;")


def _lines(text: object, width: int = WRAP, max_lines: int = 3) -> str:
    """Text wrapped to `width`, at most `max_lines` lines (the last ends with '…'), escaped."""
    lines = textwrap.wrap(_clean(text), width, break_on_hyphens=False) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "…"
    return '<BR ALIGN="LEFT"/>'.join(_esc(line) for line in lines)


def _node_id(prefix: str, key: str) -> str:
    """A stable DOT id: `prefix.key` when the key is made of safe characters, else a hash."""
    if _SAFE_ID.fullmatch(key):
        return f"{prefix}.{key}"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{prefix}.#{digest}"


def _number(value: float) -> str:
    return f"{value:g}"


def _value(value: AttrValue | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, frozenset):
        return ", ".join(sorted(value)) or "∅"
    return value


def _pieces(count: int) -> str:
    return f"{count} piece" if count == 1 else f"{count} pieces"


# ------------------------------------------------------------------ HTML-like labels


def _b(content: str) -> str:
    """Bold; empty stays empty (Graphviz rejects an empty <B></B>)."""
    return f"<B>{content}</B>" if content else ""


def _i(content: str) -> str:
    """Italic; empty stays empty."""
    return f"<I>{content}</I>" if content else ""


def _font(content: str, *, colour: str = "", size: str = "") -> str:
    """A FONT element; empty stays empty."""
    if not content:
        return ""
    found = (f' COLOR="{colour}"' if colour else "") + (f' POINT-SIZE="{size}"' if size else "")
    return f"<FONT{found}>{content}</FONT>"


def _red(content: str, is_red: bool) -> str:
    """Content in the violated colour, bold, when `is_red`."""
    return _font(_b(content), colour=VIOLATED.line) if is_red else content


def _label(content: str) -> str:
    return f"<{content}>"


def _header(title: str, colour: Colour, span: int = 1) -> str:
    return (
        f'<TR><TD COLSPAN="{span}" BGCOLOR="{colour.line}" ALIGN="LEFT" BALIGN="LEFT">'
        f"{_font(_b(title), colour='#ffffff')}</TD></TR>"
    )


def _row(*cells: str, span: int = 1, bgcolor: str = "") -> str:
    """A row of left-aligned cells; the last one spans what the others leave of `span`."""
    bg = f' BGCOLOR="{bgcolor}"' if bgcolor else ""
    tds = []
    for i, cell in enumerate(cells):
        colspan = (
            f' COLSPAN="{span - len(cells) + 1}"'
            if i == len(cells) - 1 and span > len(cells)
            else ""
        )
        tds.append(f'<TD ALIGN="LEFT" BALIGN="LEFT"{colspan}{bg}>{cell}</TD>')
    return f"<TR>{''.join(tds)}</TR>"


def _table(
    rows: Iterable[str], colour: Colour, *, dashed: bool = False, thick: bool = False
) -> str:
    style = ' STYLE="dashed"' if dashed else ""
    border = "3" if thick else "1"
    return (
        f'<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" COLOR="{colour.line}"'
        f' BGCOLOR="{colour.fill}"{style}>{"".join(rows)}</TABLE>'
    )


def _box(title: str, colour: Colour, subtitle: str = "", *, dashed: bool = False) -> str:
    """A small one-cell box: a bold title over a smaller subtitle."""
    sub = f'<BR ALIGN="LEFT"/>{_font(subtitle, size="9")}' if subtitle else ""
    return _label(
        _table(
            [f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{_b(title)}{sub}</TD></TR>'],
            colour,
            dashed=dashed,
        )
    )


def _legend(
    graph: graphviz.Digraph,
    entries: Sequence[tuple[Colour, str]],
    lines: Sequence[tuple[str, str, str]] = (),
) -> None:
    """A legend node: colour swatches, then line samples (colour, sample text, meaning)."""
    rows = [_header("legend", PLATFORM, 2)]
    for colour, meaning in entries:
        rows.append(
            f'<TR><TD BGCOLOR="{colour.fill}" COLOR="{colour.line}" BORDER="1" WIDTH="24"> </TD>'
            f'<TD ALIGN="LEFT">{_esc(meaning)}</TD></TR>'
        )
    for colour_code, sample, meaning in lines:
        rows.append(
            f'<TR><TD>{_font(_b(_esc(sample)), colour=colour_code)}</TD><TD ALIGN="LEFT">{_esc(meaning)}</TD></TR>'
        )
    graph.node("legend", _label(_table(rows, Colour("#ffffff", OPEN.line))))


def _new_graph(name: str, rankdir: str, **extra: str) -> graphviz.Digraph:
    graph_attr = {
        "rankdir": rankdir,
        "fontname": FONT,
        "fontsize": "12",
        "nodesep": "0.25",
        "ranksep": "0.5",
        "newrank": "true",
        "pad": "0.3",
        "bgcolor": "white",
        **extra,
    }
    return graphviz.Digraph(
        name=name,
        graph_attr=graph_attr,
        node_attr={"fontname": FONT, "fontsize": "10", "shape": "plain"},
        edge_attr={"fontname": FONT, "fontsize": "9", "color": OPTION.line, "arrowsize": "0.6"},
    )


PROVENANCE_CAPTIONS = {
    "illustrative": "Illustrative data: part numbers, costs, masses and sharing ratios are invented (no public BOM exists; docs/catalog.md)",
    "catalog": "Data: the catalog's own part lists",
}


def provenance_caption(graph: graphviz.Digraph, provenance: str) -> graphviz.Digraph:
    """Caption a diagram that shows figures with where they come from (bottom left)."""
    graph.attr(
        label=_esc(PROVENANCE_CAPTIONS.get(provenance, f"Data: {provenance}")),
        labelloc="b",
        labeljust="l",
        fontsize="10",
        fontcolor=OPTION.line,
    )
    return graph


def _group_cluster(sub: graphviz.Digraph, label: str) -> None:
    sub.attr(label=label, style="rounded", color=GROUP.line, fontcolor=OPTION.line)


def _kind_colour(kind: str) -> Colour:
    return KIND.get(kind, OPTION)


def _lighter(colour: Colour) -> str:
    """A very light tint of a colour's fill, for cluster backgrounds."""
    r, g, b = (int(colour.fill[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(255 - (255 - c) // 3 for c in (r, g, b)))


def _kind_names(catalog: Catalog | None) -> dict[str, str]:
    """Display names of the kinds: the catalog's, else the id with spaces."""
    names = {kind: kind.replace("_", " ") for kind in KINDS}
    if catalog is not None:
        names |= {k: v.name for k, v in catalog.kinds.items() if k in names and v.name}
    return names


def _kind_entries(names: Mapping[str, str]) -> list[tuple[Colour, str]]:
    return [(KIND[k], names[k]) for k in KINDS]


def rule_reads(node: IR) -> frozenset[tuple[str, str | None]]:
    """The (slot, attribute) pairs an expression reads; attribute None is the slot's value."""
    if isinstance(node, Ref):
        return frozenset({(node.slot, None if node.attr in (None, "id") else node.attr)})
    if isinstance(node, Op):
        out: frozenset[tuple[str, str | None]] = frozenset()
        for arg in node.args:
            out |= rule_reads(arg)
        return out
    return frozenset()


# ------------------------------------------------------------------ vehicle


@shared_repr
@attrs.frozen(repr=False)
class _Broken:
    """What the violated rules read, per slot, and which rule ids concern each box."""

    reads: Mapping[str, frozenset[str | None]]
    ids: Mapping[str, tuple[str, ...]]

    def has(self, slot: str, attr: str | None = None) -> bool:
        return attr in self.reads.get(slot, frozenset())

    def any_of(self, slot: str, attrs_: Iterable[str | None]) -> bool:
        return bool(self.reads.get(slot, frozenset()) & set(attrs_))

    def footer(self, box: str, span: int) -> list[str]:
        found = self.ids.get(box, ())
        if not found:
            return []
        return [
            _row(
                _font(_b(_lines("✗ " + ", ".join(found), 44, 6)), colour=VIOLATED.line),
                span=span,
                bgcolor=VIOLATED.fill,
            )
        ]


def _box_of(slot: str) -> str:
    return slot if slot in ("brand", "platform", *KINDS) else "vehicle"


def _broken(rules: Sequence[Rule]) -> _Broken:
    reads: dict[str, set[str | None]] = {}
    ids: dict[str, set[str]] = {}
    for rule in rules:
        for slot, attr in rule_reads(rule.formula):
            reads.setdefault(slot, set()).add(attr)
            ids.setdefault(_box_of(slot), set()).add(rule.id)
    return _Broken(
        reads={k: frozenset(v) for k, v in reads.items()},
        ids={k: tuple(sorted(v)) for k, v in ids.items()},
    )


def _part_rows(parts: Sequence[PartLine], reference: Reference | None, span: int) -> list[str]:
    """Part rows (sorted by part number), shared parts marked, long lists cut with a count."""
    rows: list[str] = []
    ordered = sorted(parts, key=lambda p: (p.part, p.name, p.quantity))
    for line in ordered[:MAX_PARTS]:
        is_shared = reference is not None and line.part in reference.parts
        rows.append(
            _row(
                _b("=" if is_shared else ""),
                _esc(line.part),
                _lines(line.name, 28, 2),
                f"×{line.quantity}",
                bgcolor=SHARED.fill if is_shared else "",
            )
        )
    if len(ordered) > MAX_PARTS:
        rest = ordered[MAX_PARTS:]
        more = f"+ {len(rest)} more parts"
        if reference is not None:
            more += f" ({sum(1 for p in rest if p.part in reference.parts)} shared)"
        rows.append(_row("", _esc(more), span=span))
    if reference is not None and parts:
        numbers = {p.part for p in parts}
        rows.append(
            _row(
                "",
                _i(
                    _esc(f"shared part numbers: {len(numbers & reference.parts)} of {len(numbers)}")
                ),
                span=span,
            )
        )
    return rows


def _open_box(title: str, colour: Colour, broken: _Broken, box: str) -> str:
    rows = [_header(_esc(title), colour), _row(_i("open")), *broken.footer(box, 1)]
    return _label(_table(rows, colour, dashed=True, thick=bool(broken.ids.get(box))))


def _module_node(
    kind: str,
    title: str,
    module: ModuleVariant | None,
    is_filled: bool,
    reference: Reference | None,
    broken: _Broken,
    parts: Sequence[PartLine] | None = None,
) -> str:
    colour = _kind_colour(kind)
    if module is None:
        return _open_box(title, colour, broken, kind)
    variant = _red(_b(_esc(module.id)), broken.has(kind)) + (
        " <I>(filled)</I>" if is_filled else ""
    )
    rows = [
        _header(_esc(title), colour, 4),
        _row(variant, span=4),
        _row(_lines(module.name), span=4),
    ]
    for name, value in sorted(module.attributes.items()):
        is_red = broken.has(kind, name)
        rows.append(
            _row("", _red(_esc(name), is_red), _red(_lines(_value(value), 24, 2), is_red), span=4)
        )
    totals = f"{module.cost:.2f} EUR · {_number(module.mass_kg)} kg · {_pieces(module.part_count)}"
    rows.append(
        _row(
            "",
            _red(
                _font(_esc(totals), size="9"),
                broken.any_of(kind, ("cost", "mass_kg", "part_count")),
            ),
            span=4,
        )
    )
    rows += _part_rows(module.parts if parts is None else parts, reference, 4)
    rows += broken.footer(kind, 4)
    return _label(_table(rows, colour, thick=bool(broken.ids.get(kind))))


def _option_rows(config: VehicleConfig, built: BuiltVehicle | None, broken: _Broken) -> list[str]:
    """The vehicle's top-level choices and options: given, filled in by the solver, or open."""
    filled = dict(built.filled) if built else {}
    opts = config.options
    given: list[tuple[str, str, object]] = [
        ("segment", "segment", config.segment),
        ("body", "body", config.body),
        ("powertrain", "powertrain", config.powertrain),
        ("drive", "drive", opts.drive),
        ("steering", "steering", opts.steering),
        ("market", "market", opts.market),
        (
            "battery_kwh",
            "battery kWh",
            None if opts.battery_kwh is None else _number(opts.battery_kwh),
        ),
        (
            "wheelbase_mm",
            "wheelbase mm",
            None if opts.wheelbase_mm is None else _number(opts.wheelbase_mm),
        ),
    ]
    rows = []
    for slot, caption, value in given:
        if value is not None:
            shown = _lines(value, 30, 2)
        elif slot in filled:
            shown = _i(f"{_esc(filled[slot])} (filled)")
        else:
            shown = _font("open", colour=OPEN.line)
        is_red = slot in broken.reads
        rows.append(_row(_red(_esc(caption), is_red), _red(shown, is_red), span=4))
    if opts.features is not None:
        features = _lines(", ".join(sorted(opts.features)) or "none", 30, 4)
    elif built is not None:
        on = sorted(k for k, v in filled.items() if v == "true")
        features = _i(f"{_lines(', '.join(on) or 'none', 30, 4)} (filled)")
    else:
        features = _font("open", colour=OPEN.line)
    is_red = any(
        slot not in OPTION_ROWS and slot not in TOP_SLOTS and slot not in KINDS
        for slot in broken.reads
    )
    rows.append(_row(_red("features", is_red), _red(features, is_red), span=4))
    return rows


def _vehicle_node(
    config: VehicleConfig, built: BuiltVehicle | None, reference: Reference | None, broken: _Broken
) -> str:
    rows = [_header(_lines(config.name), VEHICLE, 4)]
    rows += _option_rows(config, built, broken)
    if built is not None:
        totals = f"{_pieces(built.total_parts)} · {built.total_cost:.2f} EUR · {_number(built.total_mass_kg)} kg"
        rows.append(_row(_font(_esc(totals), size="9"), span=4))
    if reference is not None:
        ratio = "—" if reference.ratio is None else f"{reference.ratio:.2f}"
        rows.append(
            _row(
                _lines(f"sharing ratio with {reference.name}: {ratio}", 44, 3),
                span=4,
                bgcolor=SHARED.fill,
            )
        )
    if config.extra_parts:
        rows.append(_row(_b("vehicle parts"), span=4))
        rows += _part_rows(config.extra_parts, reference, 4)
    rows += broken.footer("vehicle", 4)
    return _label(_table(rows, VEHICLE, thick=bool(broken.ids.get("vehicle"))))


def _brand_node(
    catalog: Catalog,
    brand_id: str | None,
    is_filled: bool,
    reference: Reference | None,
    broken: _Broken,
    parts: Sequence[PartLine] | None = None,
) -> str:
    brand = catalog.brands.get(brand_id) if brand_id else None
    if brand is None:
        return _open_box("brand", BRAND, broken, "brand")
    title = _red(_b(_esc(brand.id)), broken.has("brand")) + (
        " <I>(filled)</I>" if is_filled else ""
    )
    rows = [
        _header("brand", BRAND, 4),
        _row(title, span=4),
        _row(_red(_lines(brand.name), broken.has("brand", "name")), span=4),
    ]
    if brand.group:
        rows.append(_row(_red(_lines(brand.group), broken.has("brand", "group")), span=4))
    rows += _part_rows(brand.parts if parts is None else parts, reference, 4)
    rows += broken.footer("brand", 4)
    return _label(_table(rows, BRAND, thick=bool(broken.ids.get("brand"))))


def _platform_node(
    catalog: Catalog, platform_id: str | None, is_filled: bool, broken: _Broken
) -> str:
    platform = catalog.platforms.get(platform_id) if platform_id else None
    if platform is None:
        return _open_box("platform", PLATFORM, broken, "platform")
    title = _red(_b(_esc(platform.id)), broken.any_of("platform", (None, "modules"))) + (
        " <I>(filled)</I>" if is_filled else ""
    )
    rows = [
        _header("platform", PLATFORM, 2),
        _row(title, span=2),
        _row(_red(_lines(platform.name), broken.has("platform", "name")), span=2),
    ]
    facts: list[tuple[str, str, tuple[str, ...]]] = [
        ("segments", ", ".join(platform.segments), ("segments",)),
        ("powertrains", ", ".join(platform.powertrains), ("powertrains",)),
        ("drives", ", ".join(platform.drives), ("drives",)),
    ]
    if platform.battery_kwh is not None:
        facts.append(
            (
                "battery kWh",
                f"{_number(platform.battery_kwh.min)}–{_number(platform.battery_kwh.max)}",
                ("battery_min_kwh", "battery_max_kwh"),
            )
        )
    if platform.wheelbase_mm is not None:
        facts.append(
            (
                "wheelbase mm",
                f"{_number(platform.wheelbase_mm.min)}–{_number(platform.wheelbase_mm.max)}",
                ("wheelbase_min_mm", "wheelbase_max_mm"),
            )
        )
    if platform.max_mass_kg is not None:
        facts.append(("max module kg", _number(platform.max_mass_kg), ("max_mass_kg",)))
    for caption, value, reads in facts:
        if value:
            is_red = broken.any_of("platform", reads)
            rows.append(_row(_red(_esc(caption), is_red), _red(_lines(value, 28, 3), is_red)))
    rows += broken.footer("platform", 2)
    return _label(_table(rows, PLATFORM, thick=bool(broken.ids.get("platform"))))


def _violated_node(rules: Sequence[Rule]) -> str:
    rows = [_header("violated rules", VIOLATED, 2)]
    for rule in rules:
        words = rule.message or rule.description
        if rule.severity.value == "warning":
            words = f"(warning) {words}"
        rows.append(
            _row(_font(_b(_lines(rule.id, 34, 2)), colour=VIOLATED.line), _lines(words, 48, 4))
        )
    return _label(_table(rows, VIOLATED, thick=True))


def _resolved(built: BuiltVehicle | None, module: str) -> list[PartLine] | None:
    """The parts a built vehicle really has for one module (fixed parts and the alternatives
    its BOM positions select), or None to draw the catalog's fixed parts."""
    if built is None:
        return None
    return [
        PartLine(
            part=b.part,
            name=b.name,
            quantity=b.quantity,
            unit_cost=b.unit_cost,
            unit_mass_kg=b.unit_mass_kg,
        )
        for b in built.bom
        if b.module == module
    ]


def vehicle_diagram(
    catalog: Catalog,
    config: VehicleConfig,
    *,
    built: BuiltVehicle | None = None,
    violated: Sequence[Rule] = (),
    reference: Reference | None = None,
) -> graphviz.Digraph:
    """A vehicle: brand, platform, its five big modules with key attributes and parts.

    `built` (when the configuration resolves) supplies the chosen and filled-in values;
    without it the configuration's own choices are drawn and open slots are dashed.
    `violated` rules are listed in red, and every box, row and value they read is red with
    their ids; `reference` marks the parts shared with another vehicle.
    """
    graph = _new_graph("vehicle", "TB", ranksep="0.45")
    names = _kind_names(catalog)
    filled = dict(built.filled) if built else {}
    rules = sorted(violated, key=lambda r: r.id)
    broken = _broken(rules)
    graph.node("vehicle", _vehicle_node(config, built, reference, broken))
    graph.node(
        "brand",
        _brand_node(
            catalog,
            built.brand if built else config.brand,
            "brand" in filled,
            reference,
            broken,
            _resolved(built, "brand"),
        ),
    )
    graph.node(
        "platform",
        _platform_node(
            catalog, built.platform if built else config.platform, "platform" in filled, broken
        ),
    )
    graph.edge("vehicle", "brand", color=BRAND.line)
    graph.edge("vehicle", "platform", color=PLATFORM.line)
    with graph.subgraph(name="cluster_modules") as modules:
        _group_cluster(modules, "big modules")
        for kind in KINDS:
            module_id = built.modules.get(kind) if built else config.modules.get(kind)
            module = catalog.modules.get(module_id) if module_id else None
            modules.node(
                f"module.{kind}",
                _module_node(
                    kind,
                    names[kind],
                    module,
                    kind in filled,
                    reference,
                    broken,
                    _resolved(built, kind),
                ),
            )
        with modules.subgraph() as row:
            # invisible links in one rank keep the modules in the canonical kind order
            row.attr(rank="same")
            for left, right in itertools.pairwise(KINDS):
                row.edge(f"module.{left}", f"module.{right}", style="invis")
    for kind in KINDS:
        graph.edge("platform", f"module.{kind}", color=_kind_colour(kind).line)
    if rules:
        graph.node("violated", _violated_node(rules))
    entries = [
        (VEHICLE, "vehicle and its options"),
        (BRAND, "brand"),
        (PLATFORM, "platform"),
        *_kind_entries(names),
    ]
    if rules:
        entries.append((VIOLATED, "violated rule; red: what it reads"))
    if reference is not None:
        entries.append((SHARED, f"= part shared with {reference.name}"))
    if filled:
        entries.append((OPEN, "(filled): chosen by the solver"))
    _legend(graph, entries)
    return graph


# ------------------------------------------------------------------ catalog


def _admission_table(
    catalog: Catalog, kind: str, title: str, platform_ids: Sequence[str], used_by: Mapping[str, int]
) -> str:
    """One kind's variants (rows) against the platforms (columns): a dark cell = admitted."""
    colour = _kind_colour(kind)
    span = len(platform_ids) + 2
    rows = [_header(_esc(title), colour, span)]
    heads = "".join(
        f'<TD BGCOLOR="{colour.fill}">{_font(_b(_esc(p)), size="8")}</TD>' for p in platform_ids
    )
    rows.append(
        f'<TR><TD BGCOLOR="{colour.fill}" ALIGN="LEFT">{_font("variant", size="8")}</TD>{heads}<TD BGCOLOR="{colour.fill}">{_font("vehicles", size="8")}</TD></TR>'
    )
    admits = {p: set(catalog.platforms[p].modules) for p in platform_ids}
    for module in catalog.modules_of(kind):
        cells = "".join(
            f'<TD BGCOLOR="{colour.line}">{_font("●", colour="#ffffff")}</TD>'
            if module.id in admits[p]
            else '<TD BGCOLOR="#ffffff"> </TD>'
            for p in platform_ids
        )
        name = (
            f'{_b(_esc(module.id))}<BR ALIGN="LEFT"/>{_font(_lines(module.name, 34, 2), size="8")}'
        )
        count = used_by.get(module.id, 0)
        rows.append(
            f'<TR><TD ALIGN="LEFT" BALIGN="LEFT" BGCOLOR="{colour.fill}">{name}</TD>{cells}<TD BGCOLOR="#ffffff">{count or ""}</TD></TR>'
        )
    table = (
        f'<TABLE BORDER="1" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" COLOR="{colour.line}" BGCOLOR="#ffffff">'
        f"{''.join(rows)}</TABLE>"
    )
    return f"<TR><TD>{table}</TD></TR>"


def catalog_diagram(catalog: Catalog) -> graphviz.Digraph:
    """Brand -> vehicles -> platform, and a table per kind of which platform admits which variant.

    Each platform is a cluster holding its vehicles, so that the vehicle -> platform edges
    stay short. The admission tables replace platform -> variant edges, which at catalog
    scale cross in hundreds: rows are the variants of a kind, columns the platforms, a dark
    cell means the platform admits the variant, and the last column counts the catalog
    vehicles using the variant.
    """
    graph = _new_graph("catalog", "LR", ranksep="1.0", nodesep="0.08")
    names = _kind_names(catalog)
    platform_ids = sorted(catalog.platforms)
    with graph.subgraph(name="cluster_brands") as sub:
        _group_cluster(sub, "brands")
        for brand in sorted(catalog.brands.values(), key=lambda b: b.id):
            sub.node(
                _node_id("brand", brand.id), _box(_lines(brand.name, 24, 2), BRAND, _esc(brand.id))
            )
    on_platform: dict[str, list[Vehicle]] = {}
    for vehicle in sorted(catalog.vehicles.values(), key=lambda v: v.id):
        platform_id = vehicle.config.platform
        key = platform_id if platform_id is not None and platform_id in catalog.platforms else ""
        on_platform.setdefault(key, []).append(vehicle)
    for pid in ["", *platform_ids]:
        members = on_platform.get(pid, [])
        if not pid and not members:
            continue
        with graph.subgraph(name=f"cluster_{_node_id('platform', pid)}") as sub:
            sub.attr(style="rounded,filled", color=PLATFORM.line, fillcolor=OPTION.fill, label="")
            # brand first, so that dot starts from an order with few crossings
            for vehicle in sorted(members, key=lambda v: (v.config.brand or "", v.id)):
                sub.node(
                    _node_id("vehicle", vehicle.id),
                    _box(_lines(vehicle.config.name, 30, 2), VEHICLE, _esc(vehicle.id)),
                )
            if pid:
                platform = catalog.platforms[pid]
                sub.node(
                    _node_id("platform", pid),
                    _box(_lines(platform.name, 24, 2), PLATFORM, _esc(pid)),
                )
    used_by: dict[str, int] = {}
    for vehicle in sorted(catalog.vehicles.values(), key=lambda v: v.id):
        config = vehicle.config
        if config.brand is not None and config.brand in catalog.brands:
            graph.edge(
                _node_id("brand", config.brand), _node_id("vehicle", vehicle.id), color=BRAND.line
            )
        if config.platform is not None and config.platform in catalog.platforms:
            graph.edge(
                _node_id("vehicle", vehicle.id),
                _node_id("platform", config.platform),
                color=PLATFORM.line,
            )
        for _, module_id in config.modules.items():
            if module_id is not None:
                used_by[module_id] = used_by.get(module_id, 0) + 1
    tables = "".join(
        _admission_table(catalog, kind, names[kind], platform_ids, used_by) for kind in KINDS
    )
    graph.node(
        "admission", _label(f'<TABLE BORDER="0" CELLSPACING="10" CELLPADDING="0">{tables}</TABLE>')
    )
    for pid in platform_ids:
        # invisible: only to put the tables right of the platforms
        graph.edge(_node_id("platform", pid), "admission", style="invis")
    _legend(
        graph,
        [
            (BRAND, "brand"),
            (VEHICLE, "vehicle"),
            (PLATFORM, "platform and its vehicles"),
            *_kind_entries(names),
        ],
        [
            (OPTION.line, "→", "has / is built on"),
            (OPTION.line, "●", "the platform admits the variant"),
        ],
    )
    return graph


# ------------------------------------------------------------------ rules


def _pattern(ids: Sequence[str]) -> str:
    """One id standing for several: the ':'-separated parts that differ become '*'."""
    split = [i.split(":") for i in ids]
    if len({len(s) for s in split}) != 1:
        return ids[0]
    return ":".join(parts[0] if len(set(parts)) == 1 else "*" for parts in zip(*split, strict=True))


def _group_state(ids: Sequence[str], status: Mapping[str, RuleState]) -> RuleState:
    states = {status.get(i, "open") for i in ids}
    if "violated" in states:
        return "violated"
    return "satisfied" if states == {"satisfied"} else "open"


def _slot_colour(slot: str) -> Colour:
    if slot in KIND:
        return KIND[slot]
    return {"brand": BRAND, "platform": PLATFORM}.get(slot, OPTION)


@shared_repr
@attrs.frozen(repr=False)
class _RuleNode:
    key: tuple[bool, str]
    node: str
    label: str
    reads: frozenset[tuple[str, str | None]]


def _rule_nodes(rules: Sequence[Rule], status: Mapping[str, RuleState] | None) -> list[_RuleNode]:
    """One node per rule; built-in rules that read the same things share one node."""
    groups: dict[frozenset[tuple[str, str | None]], list[Rule]] = {}
    out: list[_RuleNode] = []
    for rule in rules:
        reads = rule_reads(rule.formula)
        if rule.builtin:
            groups.setdefault(reads, []).append(rule)
            continue
        state = status.get(rule.id, "open") if status is not None else None
        colour = STATE_COLOURS[state] if state else RULE
        title = _esc(rule.id) + (f" · {state}" if state else "")
        rows = [_header(title, colour)]
        if rule.description or rule.message:
            rows.append(_row(_lines(rule.description or rule.message, 48, 3)))
        label = _label(_table(rows, colour, dashed=rule.severity.value == "warning"))
        out.append(_RuleNode((False, rule.id), _node_id("rule", rule.id), label, reads))
    for reads, members in groups.items():
        ids = sorted(r.id for r in members)
        state = _group_state(ids, status) if status is not None else None
        colour = STATE_COLOURS[state] if state else RULE
        pattern = _pattern(ids)
        rows = [_header(_esc(pattern) + (f" · {state}" if state else ""), colour)]
        rows.append(_row(_esc(f"{len(ids)} built-in rules" if len(ids) > 1 else "built-in rule")))
        broken = [i for i in ids if status is not None and status.get(i) == "violated"]
        rows += [
            _row(_font(_lines(rule_id, 44, 2), colour=VIOLATED.line)) for rule_id in broken[:6]
        ]
        if len(broken) > 6:
            rows.append(_row(_esc(f"+ {len(broken) - 6} more violated")))
        out.append(
            _RuleNode(
                (True, pattern),
                _node_id("rules", "|".join(ids)),
                _label(_table(rows, colour)),
                reads,
            )
        )
    return sorted(out, key=lambda n: (n.key, n.node))


def rules_diagram(
    rules: Sequence[Rule],
    problem: Problem,
    status: Mapping[str, RuleState] | None = None,
    catalog: Catalog | None = None,
) -> graphviz.Digraph:
    """The rule engine's dependency graph: which rule reads which slots and attributes.

    The vehicle's choices and options are on the left, the rules in the middle and the
    five module kinds on the right, each in its colours; an arrow points from a rule to
    what it reads. Built-in rules that read the same things share one node. With `status`,
    rules are coloured violated, satisfied or open.
    """
    graph = _new_graph("rules", "LR", ranksep="1.2", nodesep="0.1")
    names = _kind_names(catalog)
    nodes = _rule_nodes(rules, status)
    used: set[tuple[str, str | None]] = set()
    with graph.subgraph(name="cluster_rules") as sub:
        _group_cluster(sub, "rules")
        with sub.subgraph() as column:
            # one rank for every rule: options to their left, module kinds to their right
            column.attr(rank="same")
            for rule_node in nodes:
                column.node(rule_node.node, rule_node.label)
                used |= rule_node.reads
    _slot_clusters(graph, problem, used, names)
    for rule_node in nodes:
        for slot, attr in sorted(rule_node.reads, key=lambda r: (r[0], r[1] or "")):
            target = _read_id(slot, attr)
            colour = _slot_colour(slot).line
            if slot in KINDS:
                graph.edge(rule_node.node, target, color=colour)
            else:
                # options sit left of the rules: draw the edge backwards so it still points at them
                graph.edge(target, rule_node.node, color=colour, dir="back")
    entries: list[tuple[Colour, str]]
    if status is not None:
        entries = [
            (VIOLATED, "violated rule (or in the conflict)"),
            (SATISFIED, "satisfied rule"),
            (OPEN, "rule not decided yet"),
        ]
    else:
        entries = [(RULE, "rule (dashed: warning)")]
    entries += [
        (BRAND, "brand"),
        (PLATFORM, "platform"),
        *_kind_entries(names),
        (OPTION, "option or feature"),
    ]
    _legend(graph, entries, [(OPTION.line, "→", "the rule reads this value or attribute")])
    return graph


def _read_id(slot: str, attr: str | None) -> str:
    return _node_id("slot", slot) if attr is None else _node_id("attr", f"{slot}.{attr}")


def _slot_clusters(
    graph: graphviz.Digraph,
    problem: Problem,
    used: set[tuple[str, str | None]],
    names: Mapping[str, str],
) -> None:
    """The slots rules read, grouped: vehicle choices, options and features, module kinds."""
    by_slot: dict[str, set[str | None]] = {}
    for slot, attr in used:
        by_slot.setdefault(slot, set()).add(attr)
    order = {s.name: i for i, s in enumerate(problem.slots)}
    slots = sorted(by_slot, key=lambda s: (order.get(s, len(order)), s))
    top = [s for s in slots if s in TOP_SLOTS]
    rest = [s for s in slots if s not in TOP_SLOTS and s not in KINDS]
    for group, members in (("vehicle", top), ("options and features", rest)):
        if members:
            with graph.subgraph(name=_node_id("cluster_group", group.split()[0])) as sub:
                _group_cluster(sub, group)
                for slot in members:
                    _slot_node(sub, problem, slot, by_slot[slot], _slot_colour(slot), "")
    for slot in (s for s in slots if s in KINDS):
        _slot_node(graph, problem, slot, by_slot[slot], KIND[slot], names[slot])


def _slot_node(
    graph: graphviz.Digraph,
    problem: Problem,
    slot: str,
    attrs_read: set[str | None],
    colour: Colour,
    title: str,
) -> None:
    """A slot that rules read: one box, or a cluster of its value and attributes."""
    label = title or (problem.slot(slot).label if problem.has(slot) else "") or slot
    named = [a for a in attrs_read if a is not None]
    if not named and slot not in KINDS:
        graph.node(
            _node_id("slot", slot), _box(_esc(slot), colour, _esc(label) if label != slot else "")
        )
        return
    with graph.subgraph(name=f"cluster_{_node_id('slot', slot)}") as sub:
        sub.attr(
            label=_label(_b(_esc(label))),
            style="rounded,filled",
            color=colour.line,
            fillcolor=_lighter(colour),
            fontcolor=colour.line,
        )
        if None in attrs_read:
            sub.node(_node_id("slot", slot), _box(_esc(slot), colour))
        for attr in sorted(named):
            sub.node(
                _node_id("attr", f"{slot}.{attr}"),
                _box(_esc(f".{attr}"), Colour("#ffffff", colour.line)),
            )


# ------------------------------------------------------------------ sharing


def _strongest_links(
    members: Sequence[str], pairs: Mapping[tuple[str, str], float]
) -> list[tuple[str, str]]:
    """A maximum spanning forest (Kruskal): each vehicle tied by its strongest links."""
    parent = {m: m for m in members}

    def root(m: str) -> str:
        while parent[m] != m:
            parent[m] = parent[parent[m]]
            m = parent[m]
        return m

    chosen = []
    for (a, b), _ in sorted(pairs.items(), key=lambda item: (-item[1], item[0])):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
            chosen.append((a, b))
    return chosen


def sharing_diagram(
    names: Sequence[str],
    platforms: Mapping[str, str | None],
    values: Sequence[Sequence[float | None]],
    *,
    threshold: float = 0.5,
    captions: Mapping[str, str] | None = None,
) -> graphviz.Digraph:
    """Vehicles clustered by platform, edges labelled with the sharing ratio >= `threshold`.

    `values[i][j]` is the (symmetric) ratio of `names[i]` and `names[j]`; None is undefined.
    Every pair of vehicles on different platforms that reaches the threshold gets an edge.
    Within a platform, where nearly every pair shares, all those edges would bury the
    picture: only the strongest links (a maximum spanning forest) are drawn, and the
    cluster's label says how many pairs reach the threshold and their range.
    """
    graph = _new_graph("sharing", "LR", ranksep="0.9", nodesep="0.15")
    index = {name: i for i, name in enumerate(names)}
    ordered = sorted(names)
    by_platform: dict[str, list[str]] = {}
    for name in ordered:
        by_platform.setdefault(platforms.get(name) or "", []).append(name)
    within: dict[str, dict[tuple[str, str], float]] = {p: {} for p in by_platform}
    across: list[tuple[str, str, float]] = []
    for a_pos, a in enumerate(ordered):
        for b in ordered[a_pos + 1 :]:
            value = values[index[a]][index[b]]
            if value is None or value < threshold:
                continue
            pa, pb = platforms.get(a) or "", platforms.get(b) or ""
            if pa == pb:
                within[pa][(a, b)] = value
            else:
                across.append((a, b, value))
    for platform in sorted(by_platform):
        members = by_platform[platform]
        pairs = within[platform]
        title = _b(_esc(platform or "no platform")) + " " + _esc(f"· {len(members)} vehicles")
        possible = len(members) * (len(members) - 1) // 2
        if possible:
            spread = f" ({min(pairs.values()):.2f}–{max(pairs.values()):.2f})" if pairs else ""
            title += f"<BR/>{_font(_esc(f'{len(pairs)} of {possible} pairs ≥ {threshold:g}{spread}'), size='9')}"
        with graph.subgraph(name=f"cluster_{_node_id('platform', platform)}") as sub:
            sub.attr(
                label=_label(title),
                style="rounded,filled",
                color=PLATFORM.line,
                fillcolor=OPTION.fill,
                fontcolor=PLATFORM.line,
            )
            for name in members:
                caption = (captions or {}).get(name, "")
                sub.node(
                    _node_id("vehicle", name),
                    _box(_esc(name), VEHICLE, _lines(caption, 30, 2) if caption else ""),
                )
            for a, b in sorted(_strongest_links(members, pairs)):
                value = pairs[(a, b)]
                sub.edge(
                    _node_id("vehicle", a),
                    _node_id("vehicle", b),
                    label=f"{value:.2f}",
                    dir="none",
                    penwidth=f"{1 + 3 * value:.2f}",
                    color=WITHIN,
                    fontcolor=SHARED.line,
                )
    for a, b, value in across:
        graph.edge(
            _node_id("vehicle", a),
            _node_id("vehicle", b),
            label=f"{value:.2f}",
            dir="none",
            penwidth=f"{2 + 3 * value:.2f}",
            color=ACROSS,
            fontcolor=ACROSS,
        )
    _legend(
        graph,
        [(VEHICLE, "vehicle"), (OPTION, "platform: vehicles, pairs at the threshold")],
        [
            (ACROSS, "——", f"ratio ≥ {threshold:g} between platforms"),
            (WITHIN, "——", "strongest links within a platform"),
            (SHARED.line, "0.72", "sharing ratio; thicker: more shared"),
        ],
    )
    return graph


# ------------------------------------------------------------------ timeline

TIMELINE_EVENTS: tuple[tuple[int, str], ...] = (
    (2013, "2013: first CMF cars, Nissan Rogue, Qashqai, X-Trail [S77]"),
    (
        2020,
        'May 2020: the Alliance halves its platforms, to four [S47] ("from seven" is unsupported)',
    ),
    (2022, "Jan 2022: five common EV platforms: CMF-AEV, KEI-EV, LCV-EV, CMF-EV, CMF-BEV [S43]"),
    (2023, "Nov 2023: CMF-EV and CMF-BEV become AmpR Medium and AmpR Small [S35]"),
)
"""The consolidation story as the record tells it (source tags of cmf-facts.md)."""

LANES = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#a6761d",
    "#1f78b4",
    "#e6ab02",
    "#666666",
    "#b2182b",
)
"""One line colour per platform (by sorted platform id), so each lane reads as one platform."""


def timeline_diagram(catalog: Catalog) -> graphviz.Digraph:
    """Platforms and vehicles over the years: one row per platform from its launch year, each
    vehicle in the column of its start of production (with its years), the year axis counting
    the catalog platforms launched by then, and the sourced consolidation events."""
    dated = [v for v in catalog.vehicles.values() if v.production is not None]
    years = sorted(
        {p.launch_year for p in catalog.platforms.values() if p.launch_year is not None}
        | {v.production.start for v in dated if v.production is not None}
        | {year for year, _ in TIMELINE_EVENTS}
    )
    if not years:
        years = [0]
    graph = _new_graph("timeline", "LR", ranksep="0.35", nodesep="0.12")
    first, last = years[0], years[-1]
    axis = list(range(first, last + 1))
    for year in axis:
        launched = sum(
            1
            for p in catalog.platforms.values()
            if p.launch_year is not None and p.launch_year <= year
        )
        graph.node(
            f"y{year}",
            label=_label(_b(str(year)) + "<BR/>" + _font(f"{launched} platforms", size="8")),
            shape="box",
            style="rounded,filled",
            fillcolor=PLATFORM.fill,
            color=PLATFORM.line,
        )
    for a, b in itertools.pairwise(axis):
        graph.edge(f"y{a}", f"y{b}", color=PLATFORM.line, penwidth="2", arrowhead="none")
    columns: dict[int, list[str]] = {year: [f"y{year}"] for year in axis}
    lane = {pid: LANES[i % len(LANES)] for i, pid in enumerate(sorted(catalog.platforms))}
    for platform in sorted(catalog.platforms.values(), key=lambda p: (p.launch_year or 9999, p.id)):
        if platform.launch_year is None:
            continue
        pid = _node_id("tp", platform.id)
        aliases = (
            f"<BR/>{_font(_esc(', '.join(platform.aliases[:2])), size='8')}"
            if platform.aliases
            else ""
        )
        graph.node(
            pid,
            label=_label(_b(_esc(platform.name)) + aliases),
            shape="box",
            style="filled",
            fillcolor=PLATFORM.fill,
            color=lane[platform.id],
            penwidth="2",
        )
        columns[platform.launch_year].append(pid)
        previous = pid
        cars = sorted(
            (v for v in dated if v.config.platform == platform.id),
            key=lambda v: (v.production.start if v.production else 0, v.id),
        )
        for vehicle in cars:
            span = vehicle.production
            assert span is not None
            vid = _node_id("tv", vehicle.id)
            until = f"{span.start}-{span.end}" if span.end is not None else f"from {span.start}"
            graph.node(
                vid,
                label=_label(_esc(vehicle.config.name[:34]) + "<BR/>" + _font(until, size="8")),
                shape="box",
                style="rounded",
                color=lane[platform.id],
                fontsize="8",
            )
            columns[span.start].append(vid)
            graph.edge(previous, vid, color=lane[platform.id], arrowhead="none", penwidth="1.5")
            previous = vid
    for index, (year, text) in enumerate(TIMELINE_EVENTS):
        if year not in columns:
            continue
        eid = f"event{index}"
        graph.node(
            eid,
            label=_label(_i(_esc(text))),
            shape="note",
            style="filled",
            fillcolor=OPTION.fill,
            color=OPTION.line,
            fontsize="9",
        )
        columns[year].append(eid)
        graph.edge(f"y{year}", eid, style="dashed", color=OPTION.line, arrowhead="none")
    for year in axis:
        with graph.subgraph() as same:
            same.attr(rank="same")
            for node in columns[year]:
                same.node(node)
    graph.attr(
        label=_esc(
            "Platforms (grey, from their launch year) and catalog vehicles (from their start of"
            " production, one colour per platform) over the years; the axis counts the catalog"
            " platforms launched by then."
            " Years and events: the record (cmf-facts.md and docs/catalog.md source tags)."
        ),
        labelloc="t",
        labeljust="l",
        fontsize="12",
    )
    return graph
