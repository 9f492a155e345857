"""Model -> graphviz.Digraph: a vehicle, the catalog, the rules, the sharing between vehicles.

Pure: no file I/O and no rendering (commands/diagram.py writes and renders). Deterministic:
every collection is sorted before it becomes nodes or edges, and node ids are built from the
ids they stand for, so the same input gives the same DOT bytes whatever its order.

Safety: text that comes from a catalog, a rule file or a configuration reaches the DOT only
through `_lines`/`_esc`, inside HTML-like labels, fully escaped (entities for ``& < > " '``,
``&#92;`` for backslashes, no characters that XML forbids). Node and cluster ids use safe
characters only, or a hash of the id. So no name can break the DOT or inject markup.

One visual language for every kind of diagram: each module kind has its own colours (`KIND`),
brands, platforms, vehicles and options have theirs, red is a violated rule, green a
satisfied rule or a shared part, and every diagram carries a legend of what it uses.
"""

from __future__ import annotations

import hashlib
import html
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import attrs
import graphviz

from cmf_config.model import KINDS, AttrValue, BuiltVehicle, Catalog, ModuleVariant, PartLine, VehicleConfig
from cmf_config.problem import Problem
from cmf_config.rules import IR, Op, Ref, Rule

__all__ = [
    "KIND",
    "Colour",
    "Reference",
    "RuleState",
    "catalog_diagram",
    "rules_diagram",
    "sharing_diagram",
    "vehicle_diagram",
]

RuleState = Literal["violated", "satisfied", "open"]
"""How a rule fares on a configuration: broken, holding, or not decided by a partial one."""


@attrs.frozen
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
STATE_COLOURS: Mapping[str, Colour] = {"violated": VIOLATED, "satisfied": SATISFIED, "open": OPEN}

FONT = "Helvetica,Arial,sans-serif"
WRAP = 38  # characters per label line: keeps every box narrow at catalog scale
MAX_PARTS = 12  # part rows shown per box; the rest are counted in one row

# Characters XML 1.0 forbids (Graphviz parses HTML-like labels as XML): C0 controls other
# than whitespace, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SAFE_ID = re.compile(r"[A-Za-z0-9_.+-]{1,80}")


@attrs.frozen(kw_only=True)
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
    """Text escaped for an HTML-like label (the only way user text enters the DOT)."""
    return html.escape(_clean(text), quote=True).replace("\\", "&#92;")


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
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.6g}"


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


# ------------------------------------------------------------------ HTML-like tables


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


def _label(table: str) -> str:
    return f"<{table}>"


def _header(title: str, colour: Colour, span: int = 1, subtitle: str = "") -> str:
    sub = f'<BR/>{_font(subtitle, size="9")}' if subtitle else ""
    return (
        f'<TR><TD COLSPAN="{span}" BGCOLOR="{colour.line}" ALIGN="LEFT" BALIGN="LEFT">'
        f'{_font(_b(title) + sub, colour="#ffffff")}</TD></TR>'
    )


def _row(*cells: str, span: int = 1, bgcolor: str = "", colour: str = "") -> str:
    bg = f' BGCOLOR="{bgcolor}"' if bgcolor else ""
    tds = []
    for i, cell in enumerate(cells):
        colspan = f' COLSPAN="{span - len(cells) + 1}"' if i == len(cells) - 1 and span > len(cells) else ""
        text = _font(cell, colour=colour)
        tds.append(f'<TD ALIGN="LEFT" BALIGN="LEFT"{colspan}{bg}>{text}</TD>')
    return f"<TR>{''.join(tds)}</TR>"


def _table(rows: Iterable[str], colour: Colour, dashed: bool = False) -> str:
    style = ' STYLE="dashed"' if dashed else ""
    return (
        f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" COLOR="{colour.line}"'
        f' BGCOLOR="{colour.fill}"{style}>{"".join(rows)}</TABLE>'
    )


def _box(title: str, colour: Colour, subtitle: str = "", dashed: bool = False) -> str:
    """A small one-cell box: a bold title over a smaller subtitle."""
    sub = f'<BR/>{_font(subtitle, size="9")}' if subtitle else ""
    return _label(_table([f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{_b(title)}{sub}</TD></TR>'], colour, dashed))


def _legend(graph: graphviz.Digraph, entries: Sequence[tuple[Colour, str]], lines: Sequence[tuple[str, str, str]] = ()) -> None:
    """A legend node: colour swatches, then line samples (colour, style word, meaning)."""
    rows = [_header("legend", PLATFORM, 2)]
    for colour, meaning in entries:
        rows.append(
            f'<TR><TD BGCOLOR="{colour.fill}" COLOR="{colour.line}" BORDER="1" WIDTH="24"> </TD>'
            f'<TD ALIGN="LEFT">{_esc(meaning)}</TD></TR>'
        )
    for colour_code, sample, meaning in lines:
        rows.append(f'<TR><TD>{_font(_b(_esc(sample)), colour=colour_code)}</TD><TD ALIGN="LEFT">{_esc(meaning)}</TD></TR>')
    graph.node("legend", _label(_table(rows, Colour("#ffffff", "#969696"))))


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
        edge_attr={"fontname": FONT, "fontsize": "9", "color": "#636363", "arrowsize": "0.6"},
    )


def _kind_colour(kind: str) -> Colour:
    return KIND.get(kind, OPTION)


def _kind_name(catalog: Catalog, kind: str) -> str:
    found = catalog.kinds.get(kind)
    return found.name if found and found.name else kind.replace("_", " ")


def _kind_entries(catalog: Catalog) -> list[tuple[Colour, str]]:
    return [(KIND[k], _kind_name(catalog, k)) for k in KINDS]


# ------------------------------------------------------------------ vehicle


def _part_rows(parts: Sequence[PartLine], reference: Reference | None, span: int) -> list[str]:
    """Part rows (sorted by part number), shared parts marked, long lists cut with a count."""
    rows: list[str] = []
    ordered = sorted(parts, key=lambda p: (p.part, p.name, p.quantity))
    for line in ordered[:MAX_PARTS]:
        is_shared = reference is not None and line.part in reference.parts
        mark = "=" if is_shared else ""
        rows.append(
            _row(
                _b(mark),
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
        shared = len({p.part for p in parts} & reference.parts)
        rows.append(_row("", _i(_esc(f"shared part numbers: {shared} of {len({p.part for p in parts})}")), span=span))
    return rows


def _module_node(catalog: Catalog, kind: str, module: ModuleVariant | None, is_filled: bool, reference: Reference | None) -> str:
    colour = _kind_colour(kind)
    title = _esc(_kind_name(catalog, kind))
    if module is None:
        return _label(_table([_header(title, colour, 4), _row("", "<I>open</I>", span=4)], colour, dashed=True))
    variant = _b(_esc(module.id)) + (" <I>(filled)</I>" if is_filled else "")
    rows = [_header(title, colour, 4), _row("", variant, span=4), _row("", _lines(module.name), span=4)]
    for name, value in sorted(module.attributes.items()):
        rows.append(_row("", _esc(name), _lines(_value(value), 24, 2), span=4))
    totals = f"{_number(module.cost)} cost · {_number(module.mass_kg)} kg · {module.part_count} pieces"
    rows.append(_row("", _font(_esc(totals), size="9"), span=4))
    rows += _part_rows(module.parts, reference, 4)
    return _label(_table(rows, colour))


def _option_rows(config: VehicleConfig, built: BuiltVehicle | None) -> list[str]:
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
        ("battery_kwh", "battery kWh", None if opts.battery_kwh is None else _number(opts.battery_kwh)),
        ("wheelbase_mm", "wheelbase mm", None if opts.wheelbase_mm is None else _number(opts.wheelbase_mm)),
    ]
    rows = []
    for slot, caption, value in given:
        if value is not None:
            shown = _lines(value, 30, 2)
        elif slot in filled:
            shown = _i(f"{_esc(filled[slot])} (filled)")
        else:
            shown = _font("open", colour=OPEN.line)
        rows.append(_row(_esc(caption), shown, span=4))
    if opts.features is not None:
        features = _lines(", ".join(sorted(opts.features)) or "none", 30, 4)
    elif built is not None:
        on = sorted(k for k, v in filled.items() if v == "true")
        features = _i(f"{_lines(', '.join(on) or 'none', 30, 4)} (filled)")
    else:
        features = _font("open", colour=OPEN.line)
    rows.append(_row("features", features, span=4))
    return rows


def _vehicle_node(config: VehicleConfig, built: BuiltVehicle | None, reference: Reference | None) -> str:
    rows = [_header(_lines(config.name), VEHICLE, 4)]
    rows += _option_rows(config, built)
    if built is not None:
        totals = f"{built.total_parts} pieces · {_number(built.total_cost)} cost · {_number(built.total_mass_kg)} kg"
        rows.append(_row(_font(_esc(totals), size="9"), span=4))
    if reference is not None:
        ratio = "—" if reference.ratio is None else f"{reference.ratio:.2f}"
        rows.append(_row(_lines(f"sharing ratio with {reference.name}: {ratio}", 44, 3), span=4, bgcolor=SHARED.fill))
    if config.extra_parts:
        rows.append(_row("<B>vehicle parts</B>", span=4))
        rows += _part_rows(config.extra_parts, reference, 4)
    return _label(_table(rows, VEHICLE))


def _brand_node(catalog: Catalog, brand_id: str | None, is_filled: bool, reference: Reference | None) -> str:
    brand = catalog.brands.get(brand_id) if brand_id else None
    if brand is None:
        return _label(_table([_header("brand", BRAND, 4), _row("", "<I>open</I>", span=4)], BRAND, dashed=True))
    title = _b(_esc(brand.id)) + (" <I>(filled)</I>" if is_filled else "")
    rows = [_header("brand", BRAND, 4), _row("", title, span=4), _row("", _lines(brand.name), span=4)]
    if brand.group:
        rows.append(_row("", _lines(brand.group), span=4))
    rows += _part_rows(brand.parts, reference, 4)
    return _label(_table(rows, BRAND))


def _platform_node(catalog: Catalog, platform_id: str | None, is_filled: bool) -> str:
    platform = catalog.platforms.get(platform_id) if platform_id else None
    if platform is None:
        return _label(_table([_header("platform", PLATFORM, 2), _row("<I>open</I>", span=2)], PLATFORM, dashed=True))
    title = _b(_esc(platform.id)) + (" <I>(filled)</I>" if is_filled else "")
    rows = [_header("platform", PLATFORM, 2), _row(title, span=2), _row(_lines(platform.name), span=2)]
    facts: list[tuple[str, str]] = [
        ("segments", ", ".join(platform.segments)),
        ("powertrains", ", ".join(platform.powertrains)),
        ("drives", ", ".join(platform.drives)),
    ]
    if platform.battery_kwh is not None:
        facts.append(("battery kWh", f"{_number(platform.battery_kwh.min)}–{_number(platform.battery_kwh.max)}"))
    if platform.wheelbase_mm is not None:
        facts.append(("wheelbase mm", f"{_number(platform.wheelbase_mm.min)}–{_number(platform.wheelbase_mm.max)}"))
    if platform.max_mass_kg is not None:
        facts.append(("max module kg", _number(platform.max_mass_kg)))
    rows += [_row(_esc(name), _lines(value, 28, 3)) for name, value in facts if value]
    return _label(_table(rows, PLATFORM))


def _rule_node(rule: Rule, colour: Colour, state_word: str = "") -> str:
    words = rule.message or rule.description
    rows = [_header(_lines(rule.id, 44, 2), colour)]
    if words:
        rows.append(_row(_lines(words, 44, 4)))
    if state_word:
        rows.append(_row(_font(_esc(state_word), size="9")))
    return _label(_table(rows, colour, dashed=rule.severity.value == "warning"))


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
    `violated` rules are drawn in red, tied to what they read; `reference` marks the parts
    shared with another vehicle.
    """
    graph = _new_graph("vehicle", "TB", ranksep="0.45")
    filled = dict(built.filled) if built else {}
    brand_id = built.brand if built else config.brand
    platform_id = built.platform if built else config.platform
    graph.node("vehicle", _vehicle_node(config, built, reference))
    graph.node("brand", _brand_node(catalog, brand_id, "brand" in filled, reference))
    graph.node("platform", _platform_node(catalog, platform_id, "platform" in filled))
    graph.edge("vehicle", "brand", color=BRAND.line)
    graph.edge("vehicle", "platform", color=PLATFORM.line)
    with graph.subgraph(name="cluster_modules") as modules:
        modules.attr(label="big modules", style="rounded", color="#bdbdbd", fontcolor="#636363", margin="10")
        for kind in KINDS:
            module_id = built.modules.get(kind) if built else config.modules.get(kind)
            module = catalog.modules.get(module_id) if module_id else None
            modules.node(f"module.{kind}", _module_node(catalog, kind, module, kind in filled, reference))
    for kind in KINDS:
        graph.edge("platform", f"module.{kind}", color=_kind_colour(kind).line)
    targets = {"brand": "brand", "platform": "platform"} | {kind: f"module.{kind}" for kind in KINDS}
    for rule in sorted(violated, key=lambda r: r.id):
        node = _node_id("rule", rule.id)
        graph.node(node, _rule_node(rule, VIOLATED))
        for target in sorted({targets.get(slot, "vehicle") for slot in rule.slots}):
            graph.edge(target, node, color=VIOLATED.line, style="dashed", arrowhead="none")
    entries = [(VEHICLE, "vehicle and its options"), (BRAND, "brand"), (PLATFORM, "platform"), *_kind_entries(catalog)]
    if violated:
        entries.append((VIOLATED, "violated rule (dashed: warning)"))
    if reference is not None:
        entries.append((SHARED, f"= part shared with {reference.name}"))
    if filled:
        entries.append((OPEN, "(filled): chosen by the solver"))
    _legend(graph, entries)
    return graph


# ------------------------------------------------------------------ catalog


def catalog_diagram(catalog: Catalog) -> graphviz.Digraph:
    """Brands -> vehicles -> platforms -> the module variants each platform admits, by kind."""
    graph = _new_graph("catalog", "LR", ranksep="0.9", nodesep="0.12", concentrate="true", splines="spline")
    vehicles = sorted(catalog.vehicles.values(), key=lambda v: v.id)
    with graph.subgraph(name="cluster_brands") as sub:
        sub.attr(label="brands", style="rounded", color="#bdbdbd", fontcolor="#636363")
        for brand in sorted(catalog.brands.values(), key=lambda b: b.id):
            sub.node(_node_id("brand", brand.id), _box(_esc(brand.name), BRAND, _esc(brand.id)))
    with graph.subgraph(name="cluster_vehicles") as sub:
        sub.attr(label="vehicles", style="rounded", color="#bdbdbd", fontcolor="#636363")
        for vehicle in vehicles:
            sub.node(_node_id("vehicle", vehicle.id), _box(_lines(vehicle.config.name, 30, 2), VEHICLE, _esc(vehicle.id)))
    with graph.subgraph(name="cluster_platforms") as sub:
        sub.attr(label="platforms", style="rounded", color="#bdbdbd", fontcolor="#636363")
        for platform in sorted(catalog.platforms.values(), key=lambda p: p.id):
            sub.node(_node_id("platform", platform.id), _box(_lines(platform.name, 30, 2), PLATFORM, _esc(platform.id)))
    for kind in KINDS:
        colour = _kind_colour(kind)
        with graph.subgraph(name=f"cluster_kind_{kind}") as sub:
            sub.attr(label=_label(_b(_esc(_kind_name(catalog, kind)))), style="rounded,filled", color=colour.line, fillcolor=_lighter(colour), fontcolor=colour.line)
            for module in catalog.modules_of(kind):
                sub.node(_node_id("module", module.id), _box(_esc(module.id), colour, _lines(module.name, 30, 2)))
    for vehicle in vehicles:
        config = vehicle.config
        if config.brand in catalog.brands:
            graph.edge(_node_id("brand", config.brand), _node_id("vehicle", vehicle.id), color=BRAND.line)
        if config.platform in catalog.platforms:
            graph.edge(_node_id("vehicle", vehicle.id), _node_id("platform", config.platform), color=PLATFORM.line)
    for platform in sorted(catalog.platforms.values(), key=lambda p: p.id):
        admitted = sorted(
            (catalog.modules[m] for m in set(platform.modules) if m in catalog.modules),
            key=lambda m: (KINDS.index(m.kind) if m.kind in KINDS else len(KINDS), m.id),
        )
        for module in admitted:
            graph.edge(_node_id("platform", platform.id), _node_id("module", module.id), color=_kind_colour(module.kind).line)
    _legend(graph, [(BRAND, "brand"), (VEHICLE, "vehicle"), (PLATFORM, "platform"), *_kind_entries(catalog)], [("#636363", "→", "has / is built on / admits")])
    return graph


def _lighter(colour: Colour) -> str:
    """A very light tint of a colour's fill, for cluster backgrounds."""
    r, g, b = (int(colour.fill[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(255 - (255 - c) // 3 for c in (r, g, b)))


# ------------------------------------------------------------------ rules


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


def rules_diagram(rules: Sequence[Rule], problem: Problem, status: Mapping[str, RuleState] | None = None) -> graphviz.Digraph:
    """The rule engine's dependency graph: each rule -> the slots and attributes it reads.

    Slots are clustered (each module kind in its colours, the vehicle's top-level choices,
    the options and features); built-in rules that read the same things are drawn as one
    node. With `status`, rules are coloured violated, satisfied or open.
    """
    graph = _new_graph("rules", "LR", ranksep="1.6", nodesep="0.12")
    groups: dict[tuple[bool, frozenset[tuple[str, str | None]]], list[Rule]] = {}
    singles: list[Rule] = []
    for rule in rules:
        reads = rule_reads(rule.formula)
        if rule.builtin:
            groups.setdefault((True, reads), []).append(rule)
        else:
            singles.append(rule)
    used: set[tuple[str, str | None]] = set()
    rule_nodes: list[tuple[str, str, frozenset[tuple[str, str | None]]]] = []
    for rule in sorted(singles, key=lambda r: r.id):
        reads = rule_reads(rule.formula)
        state = status.get(rule.id, "open") if status is not None else None
        colour = STATE_COLOURS[state] if state else VEHICLE
        rule_nodes.append((_node_id("rule", rule.id), _rule_node(rule, colour, state or ""), reads))
    for (_, reads), members in groups.items():
        ids = sorted(r.id for r in members)
        state = _group_state(ids, status) if status is not None else None
        colour = STATE_COLOURS[state] if state else VEHICLE
        rows = [_header(_lines(_pattern(ids), 44, 2), colour), _row(_esc(f"{len(ids)} built-in rules"))]
        if members[0].description and len(ids) == 1:
            rows.append(_row(_lines(members[0].description, 44, 3)))
        if status is not None:
            broken = [i for i in ids if status.get(i) == "violated"]
            for rule_id in broken[:6]:
                rows.append(_row(_font(_lines(rule_id, 44, 2), colour=VIOLATED.line)))
            if len(broken) > 6:
                rows.append(_row(_esc(f"+ {len(broken) - 6} more violated")))
        rule_nodes.append((_node_id("rules", "|".join(ids)), _label(_table(rows, colour)), reads))
    rule_nodes.sort(key=lambda n: n[0])
    with graph.subgraph(name="cluster_rules") as sub:
        sub.attr(label="rules", style="rounded", color="#bdbdbd", fontcolor="#636363")
        for node, label, reads in rule_nodes:
            sub.node(node, label)
            used |= reads
    _slot_clusters(graph, problem, used)
    for node, _, reads in rule_nodes:
        for slot, attr in sorted(reads, key=lambda r: (r[0], r[1] or "")):
            graph.edge(node, _read_id(slot, attr), color=_slot_colour(slot).line)
    entries: list[tuple[Colour, str]] = []
    if status is not None:
        entries = [(VIOLATED, "violated rule (or in the conflict)"), (SATISFIED, "satisfied rule"), (OPEN, "rule not decided yet")]
    else:
        entries = [(VEHICLE, "rule (dashed: warning)")]
    entries += [(BRAND, "brand"), (PLATFORM, "platform"), *[(KIND[k], problem.slot(k).label or k) for k in KINDS if problem.has(k)], (OPTION, "option or feature")]
    _legend(graph, entries, [("#636363", "→", "reads the value or attribute")])
    return graph


def _read_id(slot: str, attr: str | None) -> str:
    return _node_id("slot", slot) if attr is None else _node_id("attr", f"{slot}.{attr}")


def _slot_clusters(graph: graphviz.Digraph, problem: Problem, used: set[tuple[str, str | None]]) -> None:
    """One cluster per slot that rules read (its value and attributes), grouped by role."""
    by_slot: dict[str, set[str | None]] = {}
    for slot, attr in used:
        by_slot.setdefault(slot, set()).add(attr)
    order = {s.name: i for i, s in enumerate(problem.slots)}
    slots = sorted(by_slot, key=lambda s: (order.get(s, len(order)), s))
    top = [s for s in slots if s in ("brand", "platform", "segment", "body", "powertrain")]
    kinds = [s for s in slots if s in KINDS]
    rest = [s for s in slots if s not in top and s not in kinds]
    for group, members in (("vehicle", top), ("options", rest)):
        if not members:
            continue
        with graph.subgraph(name=f"cluster_group_{group}") as sub:
            sub.attr(label=group, style="rounded", color="#bdbdbd", fontcolor="#636363")
            for slot in members:
                _slot_cluster(sub, problem, slot, by_slot[slot], _slot_colour(slot))
    for slot in kinds:
        _slot_cluster(graph, problem, slot, by_slot[slot], KIND[slot])


def _slot_cluster(graph: graphviz.Digraph, problem: Problem, slot: str, attrs_read: set[str | None], colour: Colour) -> None:
    label = (problem.slot(slot).label if problem.has(slot) else "") or slot
    with graph.subgraph(name=f"cluster_{_node_id('slot', slot)}") as sub:
        sub.attr(label=_label(_b(_esc(label))), style="rounded,filled", color=colour.line, fillcolor=_lighter(colour), fontcolor=colour.line)
        if None in attrs_read:
            sub.node(_node_id("slot", slot), _box(_esc(slot), colour))
        for attr in sorted(a for a in attrs_read if a is not None):
            sub.node(_node_id("attr", f"{slot}.{attr}"), _box(_esc(f".{attr}"), Colour("#ffffff", colour.line)))


# ------------------------------------------------------------------ sharing


def sharing_diagram(
    names: Sequence[str],
    platforms: Mapping[str, str | None],
    values: Sequence[Sequence[float | None]],
    *,
    threshold: float = 0.5,
    captions: Mapping[str, str] | None = None,
) -> graphviz.Digraph:
    """Vehicles clustered by platform; an edge wherever the sharing ratio reaches `threshold`.

    `values[i][j]` is the (symmetric) ratio of `names[i]` and `names[j]`; None is undefined.
    Edges are labelled with the ratio and drawn thicker the more the vehicles share; edges
    between platforms are drawn darker than edges within one.
    """
    graph = _new_graph("sharing", "LR", ranksep="1.2", nodesep="0.2")
    index = {name: i for i, name in enumerate(names)}
    ordered = sorted(names)
    by_platform: dict[str, list[str]] = {}
    for name in ordered:
        by_platform.setdefault(platforms.get(name) or "", []).append(name)
    for platform in sorted(by_platform):
        with graph.subgraph(name=f"cluster_{_node_id('platform', platform)}") as sub:
            sub.attr(label=_label(_b(_esc(platform or "no platform"))), style="rounded,filled", color=PLATFORM.line, fillcolor="#f4f4f4", fontcolor=PLATFORM.line)
            for name in by_platform[platform]:
                caption = (captions or {}).get(name, "")
                sub.node(_node_id("vehicle", name), _box(_esc(name), VEHICLE, _lines(caption, 30, 2) if caption else ""))
    for a_pos, a in enumerate(ordered):
        for b in ordered[a_pos + 1 :]:
            value = values[index[a]][index[b]]
            if value is None or value < threshold:
                continue
            across = (platforms.get(a) or "") != (platforms.get(b) or "")
            graph.edge(
                _node_id("vehicle", a),
                _node_id("vehicle", b),
                label=f"{value:.2f}",
                dir="none",
                penwidth=f"{1 + 4 * value:.2f}",
                color=SHARED.line if across else "#74c476",
                fontcolor=SHARED.line,
                constraint="true" if across else "false",
            )
    _legend(
        graph,
        [(VEHICLE, "vehicle"), (Colour("#f4f4f4", PLATFORM.line), "platform")],
        [(SHARED.line, "——", f"sharing ratio ≥ {threshold:g} across platforms"), ("#74c476", "——", "within a platform; thicker: more shared")],
    )
    return graph
