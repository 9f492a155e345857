"""Diagrams: golden DOT per kind, determinism, escaping, and rendering by the real Graphviz dot.

The goldens live in tests/cases/diagram/ (a tiny catalog, rules and configurations whose names
carry quotes, braces, backslashes, angle brackets and non-ASCII letters). After a deliberate
change, regenerate them with

    .venv/bin/python -m pytest tests/test_diagram.py --update-goldens

and review the diff of the expected-*.dot files like code.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

import attrs
import graphviz
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmf_config.cli import main
from cmf_config.commands.diagram import draw_built_vehicle
from cmf_config.diagram import (
    Reference,
    RuleState,
    catalog_diagram,
    rule_reads,
    rules_diagram,
    sharing_diagram,
    vehicle_diagram,
)
from cmf_config.load import load_catalog
from cmf_config.model import (
    KINDS,
    AttributeDef,
    Brand,
    BrandId,
    Catalog,
    Kind,
    KindId,
    Market,
    ModuleChoices,
    ModuleId,
    ModuleVariant,
    OptionDomains,
    OptionFeature,
    PartLine,
    Platform,
    PlatformId,
    Vehicle,
    VehicleConfig,
)
from cmf_config.problem import catalog_problem
from cmf_config.rules import K, Op, Ref, Rule
from cmf_config.workspace import Workspace
from golden import assert_golden

T = TypeVar("T")
CASE = Path(__file__).parent / "cases" / "diagram"
WORLD = ["--catalog", str(CASE / "catalog"), "--rules", str(CASE / "rules")]
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(
    not HAS_DOT, reason="Graphviz dot is not installed (Debian: apt install graphviz)"
)

GOLDENS: dict[str, list[str]] = {
    "vehicle": ["diagram", "vehicle", str(CASE / "config.yaml")],
    "vehicle-against": ["diagram", "vehicle", str(CASE / "config.yaml"), "--against", "alpha-one"],
    "vehicle-broken": ["diagram", "vehicle", str(CASE / "config-broken.yaml")],
    "vehicle-partial": ["diagram", "vehicle", str(CASE / "config-partial.yaml")],
    "catalog": ["diagram", "catalog"],
    "rules": ["diagram", "rules"],
    "rules-broken": ["diagram", "rules", "--config", str(CASE / "config-broken.yaml")],
    "rules-partial": ["diagram", "rules", "--config", str(CASE / "config-partial.yaml")],
    "sharing": ["diagram", "sharing", "--threshold", "0.3"],
}


def _draw(argv: list[str], out: Path) -> int:
    return main([*argv, *WORLD, "-o", str(out)])


# ------------------------------------------------------------------ goldens


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_diagram_matches_its_golden_dot(name: str, tmp_path: Path, update_goldens: bool) -> None:
    """Each kind of diagram of the tiny case gives exactly its expected DOT."""
    out = tmp_path / "out.dot"
    assert _draw(GOLDENS[name], out) == 0
    assert_golden(CASE / f"expected-{name}.dot", out.read_bytes(), update_goldens)


def test_build_diagram_is_the_vehicle_diagram_of_what_it_built(
    tmp_path: Path, update_goldens: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """`build --diagram OUT.dot` draws the resolved vehicle (filled-in slots marked)."""
    out = tmp_path / "built.dot"
    assert main(["build", str(CASE / "config-partial.yaml"), *WORLD, "--diagram", str(out)]) == 0
    capsys.readouterr()
    assert_golden(CASE / "expected-build.dot", out.read_bytes(), update_goldens)


def test_dot_goes_to_standard_output_without_o(capsys: pytest.CaptureFixture[str]) -> None:
    """Without -o the DOT source is printed, byte for byte the golden."""
    assert main(["diagram", "catalog", *WORLD]) == 0
    assert capsys.readouterr().out == (CASE / "expected-catalog.dot").read_text(encoding="utf-8")


def test_against_accepts_a_configuration_file(tmp_path: Path) -> None:
    """--against takes a configuration file too; the ratio with it is shown."""
    out = tmp_path / "v.dot"
    argv = [
        "diagram",
        "vehicle",
        str(CASE / "config.yaml"),
        "--against",
        str(CASE / "config-broken.yaml"),
    ]
    assert _draw(argv, out) == 0
    # 4 shared part numbers (FX-1, CK-2, FU-1, RU-1) of 8 + 8: Dice 8/16
    assert (
        'sharing ratio with Beta EV with the wrong<BR ALIGN="LEFT"/>cockpit: 0.50'
        in out.read_text(encoding="utf-8")
    )


def test_unknown_against_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An --against that is neither a file nor a catalog vehicle exits 2 and writes nothing."""
    out = tmp_path / "v.dot"
    assert (
        _draw(["diagram", "vehicle", str(CASE / "config.yaml"), "--against", "alpha-on"], out) == 2
    )
    assert capsys.readouterr().err == (
        "cmf-config: error: 'alpha-on' is neither a configuration file nor a catalog vehicle id; did you mean 'alpha-one' or 'alpha-two'?\n"
        "  hint: give a path to a .yaml file or an id from `cmf-config catalog list`\n"
    )
    assert not out.exists()


def test_threshold_outside_zero_one_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--threshold must be a ratio."""
    assert _draw(["diagram", "sharing", "--threshold", "1.5"], tmp_path / "s.dot") == 2
    assert capsys.readouterr().err == (
        "cmf-config: error: the threshold must lie between 0 and 1, not 1.5\n  hint: write a ratio such as --threshold 0.5\n"
    )


def test_unknown_extension_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The extension picks the format; an unknown one is refused before anything is written."""
    out = tmp_path / "catalog.jpeg"
    assert _draw(["diagram", "catalog"], out) == 2
    assert capsys.readouterr().err == (
        f"cmf-config: error: cannot tell the diagram format of '{out}' from its extension '.jpeg'\n"
        "  hint: end the file name with .dot (or .gv), .svg, .png or .pdf\n"
    )
    assert not out.exists()


# ------------------------------------------------------------------ rendering by the real dot


@needs_dot
@pytest.mark.parametrize("name", sorted(GOLDENS))
@pytest.mark.parametrize(
    ("suffix", "magic"), [(".svg", b"<?xml"), (".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF-")]
)
def test_every_kind_renders_with_dot(
    name: str, suffix: str, magic: bytes, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """dot renders every kind to SVG, PNG and PDF without a single error or warning."""
    out = tmp_path / f"out{suffix}"
    assert _draw(GOLDENS[name], out) == 0
    assert out.read_bytes().startswith(magic)
    assert capfd.readouterr().err == ""
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left behind


@needs_dot
def test_build_renders_its_diagram(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`build --diagram OUT.svg` renders through dot."""
    out = tmp_path / "built.svg"
    assert main(["build", str(CASE / "config.yaml"), *WORLD, "--diagram", str(out)]) == 0
    capsys.readouterr()
    assert out.read_bytes().startswith(b"<?xml")


@needs_dot
def test_rendered_text_shows_names_literally(tmp_path: Path) -> None:
    """Quotes, braces, backslashes, tags and newlines in names come out as plain text."""
    out = tmp_path / "catalog.svg"
    assert _draw(["diagram", "catalog"], out) == 0
    texts = [t.text or "" for t in ET.parse(out).getroot().iter("{http://www.w3.org/2000/svg}text")]
    joined = " ".join(texts)
    for shown in [
        'Alpha &amp; Ωmega "Motors"'.replace("&amp;", "&"),
        "Beta\\Works {x}",
        'ICE platform "B/C" {1} \\ <i>',
        'Transverse "ICE" bay <petrol>',
    ]:
        assert shown in joined
    assert 'Alpha One "<b>bold</b>"' in joined


def test_missing_dot_names_the_package_and_dot_output_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without dot on PATH, rendering fails with an install hint; .dot output needs no dot."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    png = tmp_path / "catalog.png"
    assert _draw(["diagram", "catalog"], png) == 2
    assert capsys.readouterr().err == (
        f"cmf-config: error: cannot render '{png}': the Graphviz program 'dot' is not installed or not on PATH\n"
        "  hint: install Graphviz (Debian/Ubuntu: apt install graphviz; elsewhere see https://graphviz.org/download/), or write a .dot file instead\n"
    )
    assert not png.exists()
    dot = tmp_path / "catalog.dot"
    assert _draw(["diagram", "catalog"], dot) == 0
    assert dot.read_bytes() == (CASE / "expected-catalog.dot").read_bytes()


def test_draw_built_vehicle_writes_the_vehicle_diagram(tmp_path: Path) -> None:
    """The function `build --diagram` calls draws the same DOT as `diagram vehicle`."""
    workspace, vehicles = Workspace.open(CASE / "catalog", CASE / "rules", [CASE / "config.yaml"])
    built = workspace.build(vehicles[0].config)
    assert built is not None
    out = tmp_path / "v.dot"
    draw_built_vehicle(workspace, vehicles[0], built, out)
    assert out.read_bytes() == (CASE / "expected-vehicle.dot").read_bytes()


# ------------------------------------------------------------------ determinism


def _shuffled(catalog: Catalog, seed: int) -> Catalog:
    """The same catalog with every mapping and list in another order."""
    rng = random.Random(seed)

    def mix(table: Mapping[str, T]) -> dict[str, T]:
        items = list(table.items())
        rng.shuffle(items)
        return dict(items)

    platforms = {
        k: attrs.evolve(p, modules=tuple(rng.sample(p.modules, len(p.modules))))
        for k, p in catalog.platforms.items()
    }
    modules = {
        k: attrs.evolve(m, parts=tuple(rng.sample(m.parts, len(m.parts))))
        for k, m in catalog.modules.items()
    }
    return attrs.evolve(
        catalog,
        kinds=mix(catalog.kinds),
        modules=mix(modules),
        platforms=mix(platforms),
        brands=mix(catalog.brands),
        vehicles=mix(catalog.vehicles),
    )


@pytest.mark.parametrize("seed", range(5))
def test_shuffled_catalog_gives_identical_dot(seed: int) -> None:
    """Catalog, vehicle and rules diagrams do not depend on the order of their input."""
    catalog = load_catalog(CASE / "catalog")
    other = _shuffled(catalog, seed)
    assert catalog_diagram(other).source == catalog_diagram(catalog).source
    config = catalog.vehicles["alpha-one"].config
    reference = Reference(name="x", parts=frozenset({"EC-2", "BR-A1"}), ratio=0.5)
    assert (
        vehicle_diagram(other, config, reference=reference).source
        == vehicle_diagram(catalog, config, reference=reference).source
    )
    workspace = Workspace(catalog, CASE / "rules")
    rules = list(workspace.rules)
    random.Random(seed).shuffle(rules)
    assert (
        rules_diagram(rules, workspace.problem).source
        == rules_diagram(workspace.rules, workspace.problem).source
    )


def test_shuffled_matrix_gives_identical_sharing_dot() -> None:
    """The sharing diagram sorts its vehicles: a permuted matrix gives the same DOT."""
    names = ["a", "b", "c", "d"]
    values: list[list[float | None]] = [
        [1.0, 0.8, 0.6, 0.2],
        [0.8, 1.0, 0.7, 0.9],
        [0.6, 0.7, 1.0, None],
        [0.2, 0.9, None, 1.0],
    ]
    platforms: dict[str, str | None] = {"a": "p", "b": "p", "c": "p", "d": "q"}
    order = [2, 0, 3, 1]
    permuted = [[values[i][j] for j in order] for i in order]
    first = sharing_diagram(names, platforms, values).source
    assert sharing_diagram([names[i] for i in order], platforms, permuted).source == first


# ------------------------------------------------------------------ what the pure functions draw


def _edges(graph: graphviz.Digraph) -> list[str]:
    return sorted(line.strip().split(" [")[0] for line in graph.body if " -> " in line)


def test_sharing_draws_strongest_links_within_and_every_pair_across() -> None:
    """Within a platform only the maximum spanning forest; across platforms every pair >= threshold."""
    names = ["a", "b", "c", "d", "e"]
    values: list[list[float | None]] = [
        [1.0, 0.9, 0.8, 0.6, 0.1],
        [0.9, 1.0, 0.7, 0.4, 0.1],
        [0.8, 0.7, 1.0, 0.55, 0.1],
        [0.6, 0.4, 0.55, 1.0, None],
        [0.1, 0.1, 0.1, None, 1.0],
    ]
    platforms: dict[str, str | None] = {"a": "p", "b": "p", "c": "p", "d": "q", "e": None}
    graph = sharing_diagram(names, platforms, values, threshold=0.5)
    assert _edges(graph) == [
        '"vehicle.a" -> "vehicle.b"',
        '"vehicle.a" -> "vehicle.c"',
        '"vehicle.a" -> "vehicle.d"',
        '"vehicle.c" -> "vehicle.d"',
    ]
    assert "3 of 3 pairs \u2265 0.5 (0.70\u20130.90)" in graph.source
    assert "no platform" in graph.source
    assert "label=0.60" in graph.source


def test_rule_reads_walks_every_reference() -> None:
    """rule_reads finds each (slot, attribute) once; `.id` is the slot's own value."""
    formula = Op(
        "and",
        (
            Op("==", (Ref("cockpit", "id"), K("ck-1"))),
            Op("<=", (Ref("battery_kwh"), Ref("rear_underbody", "tray_kwh"))),
        ),
    )
    assert rule_reads(formula) == {
        ("cockpit", None),
        ("battery_kwh", None),
        ("rear_underbody", "tray_kwh"),
    }
    assert rule_reads(K(True)) == frozenset()


def test_violated_rules_mark_what_they_read() -> None:
    """A violated rule is listed with its id, and the rows it reads turn red."""
    catalog = load_catalog(CASE / "catalog")
    config = catalog.vehicles["alpha-one"].config
    rule = Rule(
        id="my-rule",
        description="cockpit side",
        constraint=Op("==", (Ref("cockpit", "steering_side"), Ref("steering"))),
    )
    source = vehicle_diagram(catalog, config, violated=[rule]).source
    assert '<FONT COLOR="#cb181d"><B>steering_side</B></FONT>' in source
    assert '<FONT COLOR="#cb181d"><B>steering</B></FONT>' in source
    assert source.count("my-rule") == 3  # the list, the cockpit box, the vehicle box


# ------------------------------------------------------------------ arbitrary names


DANGEROUS = [
    *"\"'\\<>&;{}[]|:#-\n\r\t\x00\x1b\x85\u2028\ufeff\ufffe\U0001f697",
    "]]>",
    "<B>",
    "&amp;",
    "\\N",
    "-->",
    "<!--",
    "\\",
]
NAMES = st.lists(
    st.one_of(st.sampled_from(DANGEROUS), st.characters(exclude_categories=())), max_size=12
).map("".join)
"""Any text at all, rich in DOT and XML syntax: controls, quotes, backslashes, markup, lone
surrogates, astral planes."""


@attrs.frozen
class _World:
    catalog: Catalog
    rules: list[Rule]


@st.composite
def _worlds(draw: st.DrawFn) -> _World:
    """A one-platform catalog whose every id and name is arbitrary text."""
    text = draw(st.lists(NAMES, min_size=16, max_size=16))
    ids = draw(st.lists(NAMES, min_size=7, max_size=7, unique=True))
    part = PartLine(part=text[0], name=text[1], quantity=2, unit_cost=1.5, unit_mass_kg=0.5)
    modules = {
        f"{ids[0]}{kind}": ModuleVariant(
            id=ModuleId(f"{ids[0]}{kind}"),
            kind=KindId(kind),
            name=text[2],
            attributes={text[3]: text[4], "n": 3, "s": frozenset({text[5]})},
            parts=(part,),
        )
        for kind in KINDS
    }
    kinds = {
        kind: Kind(
            id=KindId(kind), name=text[6], attributes=(AttributeDef(name=text[3], type="str"),)
        )
        for kind in KINDS
    }
    platform = Platform(
        id=PlatformId(ids[1]),
        name=text[7],
        segments=(text[8],),
        modules=tuple(ModuleId(m) for m in modules),
    )
    brand = Brand(id=BrandId(ids[2]), name=text[9], group=text[10], parts=(part,))
    config = VehicleConfig(
        name=text[11],
        brand=brand.id,
        platform=platform.id,
        segment=text[8],
        modules=ModuleChoices(
            engine_compartment=ModuleId(f"{ids[0]}engine_compartment"),
            cockpit=ModuleId(f"{ids[0]}cockpit"),
            front_underbody=ModuleId(f"{ids[0]}front_underbody"),
            rear_underbody=ModuleId(f"{ids[0]}rear_underbody"),
            ee_architecture=ModuleId(f"{ids[0]}ee_architecture"),
        ),
        extra_parts=(
            PartLine(part=text[12], name=text[13], quantity=1, unit_cost=0.0, unit_mass_kg=0.0),
        ),
    )
    options = OptionDomains(
        segments=(text[8],),
        markets=(Market(id=ids[3], name=text[14]),),
        features=(OptionFeature(id=ids[4], name=text[15]),),
    )
    vehicles = {
        ids[5]: Vehicle(id=ids[5], config=config),
        ids[6]: Vehicle(id=ids[6], config=attrs.evolve(config, name=text[14])),
    }
    catalog = Catalog(
        kinds=kinds,
        modules=modules,
        platforms={platform.id: platform},
        brands={brand.id: brand},
        options=options,
        vehicles=vehicles,
    )
    rules = [
        Rule(
            id=ids[5],
            description=text[15],
            constraint=Op("==", (Ref("cockpit", text[3]), Ref(ids[4]))),
        ),
        Rule(
            id=f"{ids[6]}:x",
            description=text[2],
            constraint=Op("in", (Ref("market", ids[3]), K(frozenset({text[4]})))),
            builtin=True,
        ),
    ]
    return _World(catalog=catalog, rules=rules)


def _node_count(svg: bytes) -> int:
    root = ET.fromstring(svg)
    return sum(1 for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node")


def _render(graph: graphviz.Digraph) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. graphviz's DotSyntaxWarning on a bad quoted string
        source = graph.source
    done = subprocess.run(
        ["dot", "-Tsvg"], input=source.encode("utf-8"), capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert done.stderr == b"", done.stderr.decode("utf-8", "replace")
    svg: bytes = done.stdout
    return svg


@pytest.mark.slow
@needs_dot
# half the profile's examples: each one runs dot three times
@settings(
    max_examples=max(10, settings().max_examples // 2),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_worlds())
def test_arbitrary_names_never_break_the_dot(world: _World) -> None:
    """dot accepts every diagram of a catalog named with arbitrary text, and no name adds a node."""
    catalog = world.catalog
    vehicle = next(iter(catalog.vehicles.values()))
    graphs_and_nodes = [
        # vehicle, brand, platform, 5 modules, violated list, legend
        (
            vehicle_diagram(
                catalog,
                vehicle.config,
                violated=world.rules,
                reference=Reference(
                    name=vehicle.config.name, parts=frozenset({vehicle.config.extra_parts[0].part})
                ),
            ),
            10,
        ),
        # brand, platform, 2 vehicles, admission tables, legend
        (catalog_diagram(catalog), 6),
        (
            sharing_diagram(
                sorted(catalog.vehicles),
                {k: v.config.platform for k, v in catalog.vehicles.items()},
                [[1.0, 0.75], [0.75, 1.0]],
                captions={k: v.config.name for k, v in catalog.vehicles.items()},
            ),
            3,
        ),
    ]
    problem = catalog_problem(catalog)
    status: dict[str, RuleState] = {world.rules[0].id: "violated", world.rules[1].id: "satisfied"}
    rules_graph = rules_diagram(world.rules, problem, status, catalog)
    reads = set(rule_reads(world.rules[0].formula)) | set(rule_reads(world.rules[1].formula))
    graphs_and_nodes.append((rules_graph, 2 + len(reads) + 1))
    for graph, nodes in graphs_and_nodes:
        assert _node_count(_render(graph)) == nodes
