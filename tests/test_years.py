"""Years, markets and provenance: the `--year` constraints agree with a brute-force oracle that
filters by the catalog's dates after the fact; the loader checks the new fields with positions;
`catalog list --year`, `diagram timeline` and the provenance labels say what they should."""

from __future__ import annotations

import functools
import html
import json
import shutil
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clirun import ROOT, run_cli
from cmf_config.errors import InputError
from cmf_config.load import load_catalog, load_vehicle_file
from cmf_config.model import Catalog
from cmf_config.rules import year_rules
from cmf_config.workspace import Workspace
from oracle import valid_assignments

RULES = ROOT / "rules"
OPEN = ("platform", "ee_architecture")
"""Slots left open around a reference vehicle (10 x 10 assignments: small for the oracle)."""


@functools.lru_cache(maxsize=32)
def _workspace(year: int | None) -> Workspace:
    return Workspace(load_catalog(None), RULES, year=year)


def _buildable(catalog: Catalog, platform: str, ee: str, year: int) -> bool:
    """The oracle's reading of the catalog dates, independent of the rule encoding."""
    launch = catalog.platforms[platform].launch_year
    era = catalog.modules[ee].era
    return launch is not None and launch <= year and era is not None and era.contains(year)


VEHICLES = sorted(load_catalog(None).vehicles)


YEARS = (2012, 2014, 2016, 2019, 2021, 2024, 2026)
"""Years around the launch and era boundaries (each year compiles one engine, so a few)."""


# A sixth of the profile's examples: each one enumerates a vehicle's completions by brute
# force (about a second apiece), and the year and vehicle pairs are few anyway.
@settings(max_examples=max(5, settings().max_examples // 6))
@given(year=st.sampled_from(YEARS), vid=st.sampled_from(VEHICLES))
def test_year_count_matches_the_filtering_oracle(year: int, vid: str) -> None:
    """count --year Y == the valid assignments of no year whose platform and E/E were dated in Y."""
    plain, dated = _workspace(None), _workspace(year)
    config = load_catalog(None).vehicles[vid].config
    fixed = {k: v for k, v in plain.assignment(config).items() if k not in OPEN}
    everything = valid_assignments(plain.problem, plain.rules, fixed)
    catalog = plain.catalog
    expected = [
        a
        for a in everything
        if _buildable(
            catalog,
            plain.value_id("platform", a["platform"]),
            plain.value_id("ee_architecture", a["ee_architecture"]),
            year,
        )
    ]
    assert dated.engine.count(fixed) == len(expected)
    found = dated.engine.complete_any(fixed)
    assert (found is None) == (not expected)


def test_year_rules_name_their_year() -> None:
    """The two rules are built-in, read only their slot, and name the year."""
    plain = _workspace(None)
    rules = year_rules(plain.catalog, plain.problem, 2019)
    assert [r.id for r in rules] == ["year:2019:platform", "year:2019:ee_architecture"]
    assert all(r.builtin for r in rules)
    assert rules[0].slots == frozenset({"platform"})


def test_count_year_shrinks_and_reports_the_year(capsys: pytest.CaptureFixture[str]) -> None:
    """AmpR Small (2024) has no configuration in 2019 and some in 2025; JSON carries the year."""
    code, out, _ = run_cli(capsys, ["count", "--platform", "cmf-bev", "--year", "2019"])
    assert code == 0
    assert out.endswith("\n0\n")
    code, out, _ = run_cli(
        capsys, ["count", "--platform", "cmf-bev", "--year", "2025", "--format", "json"]
    )
    doc = json.loads(out)
    assert doc["year"] == 2025
    assert doc["count"] > 0


@pytest.mark.parametrize("bad", ["abc", "12", "2019.5"])
def test_bad_year_is_a_usage_error(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A year that is not one exits 2 (argparse) and says how to write it."""
    with pytest.raises(SystemExit) as info:
        run_cli(capsys, ["count", "--year", bad])
    assert info.value.code == 2
    assert "--year 2019" in capsys.readouterr().err


def test_catalog_list_year(capsys: pytest.CaptureFixture[str]) -> None:
    """catalog list --year 2016: launched platforms, then-built E/E, vehicles then in production."""
    code, out, _ = run_cli(capsys, ["catalog", "list", "--year", "2016", "--format", "json"])
    assert code == 0
    doc = json.loads(out)
    assert doc["year"] == 2016
    platforms = {p["id"] for p in doc["platforms"]}
    assert platforms == {"cmf-cd", "cmf-a", "lcv-large"}
    vehicles = {v["id"]: v for v in doc["vehicles"]}
    assert "megane-iv" in vehicles
    assert "renault-5" not in vehicles
    assert vehicles["qashqai-j11"]["production"] == {"start": 2013, "end": 2021}
    ees = {m["id"] for m in doc["modules"] if m["kind"] == "ee_architecture"}
    assert ees == {"ee-a-gen1", "ee-cd-gen1", "ee-van-gen2"}


def _copy_catalog(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", target)
    return target


def test_market_outside_the_list_is_positioned(tmp_path: Path) -> None:
    """E233 at options.market when the configuration's market is not among `markets`."""
    path = tmp_path / "car.yaml"
    text = (ROOT / "catalog" / "vehicles" / "kwid.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("  market: in\n", "  market: uk\n"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_vehicle_file(path, load_catalog(None))
    (diag,) = [d for d in info.value.diagnostics if d.code == "E233"]
    line = text.splitlines().index("  market: in") + 1
    assert (diag.span.line, diag.span.col) == (line, 11)
    assert "markets" in (diag.hint or "")


def test_years_out_of_order_and_unknown_market(tmp_path: Path) -> None:
    """E234 at production.end; E230 for an unknown market in `markets`."""
    path = tmp_path / "car.yaml"
    text = (ROOT / "catalog" / "vehicles" / "clio-v.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "production: {start: 2019, end: 2025}", "production: {start: 2019, end: 2015}"
    )
    text = text.replace("markets: [eu, uk, tr]", "markets: [eu, uk, tr, mars]")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_vehicle_file(path, load_catalog(None))
    codes = {d.code: d for d in info.value.diagnostics}
    assert set(codes) == {"E234", "E230"}
    assert (
        codes["E234"].span.line
        == text.splitlines().index("production: {start: 2019, end: 2015}") + 1
    )
    assert "mars" in codes["E230"].message


def test_era_out_of_order_is_a_catalog_error(tmp_path: Path) -> None:
    """An E/E era that ends before it starts is refused with its position."""
    catalog = _copy_catalog(tmp_path)
    ee = catalog / "modules-ee-architecture.yaml"
    ee.write_text(
        ee.read_text(encoding="utf-8").replace(
            "era: {start: 2015}", "era: {start: 2015, end: 2010}"
        ),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_catalog(catalog)
    assert [d.code for d in info.value.diagnostics] == ["E234"]


def test_timeline_diagram_tells_the_record(capsys: pytest.CaptureFixture[str]) -> None:
    """The DOT has every launched platform, a dated vehicle, the sourced events; same bytes twice."""
    code, dot, _ = run_cli(capsys, ["diagram", "timeline"])
    assert code == 0
    out = html.unescape(dot)
    for text in (
        "CMF-C/D",
        "CMF-BEV",
        "Clio V",
        "2019-2025",
        "halves its platforms, to four [S47]",
        "[S43]",
    ):
        assert text in out
    assert "seven to four" not in out
    assert run_cli(capsys, ["diagram", "timeline"])[1] == dot


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["share", "kangoo-iii", "townstar", "--format", "json"], "provenance"),
        (["share", "--fleet", "kangoo-iii", "townstar", "citan", "--format", "json"], "provenance"),
        (["build", "examples/sedan.yaml", "--format", "json"], "provenance"),
    ],
)
def test_json_says_the_numbers_are_illustrative(
    args: list[str], key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every JSON document with figures from the illustrative catalog carries its provenance."""
    code, out, _ = run_cli(capsys, args)
    assert code == 0
    assert json.loads(out)[key] == "illustrative"


@pytest.mark.parametrize(
    "args",
    [
        ["share", "kangoo-iii", "townstar"],
        ["share", "--all"],
        ["build", "examples/sedan.yaml"],
        ["diagram", "sharing"],
        ["diagram", "catalog"],
        ["diagram", "vehicle", "examples/sedan.yaml"],
    ],
)
def test_text_says_the_numbers_are_illustrative(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The text and the diagrams say so too."""
    code, out, _ = run_cli(capsys, args)
    assert code == 0
    assert "llustrative data" in out


def test_catalog_provenance_follows_the_data() -> None:
    """A catalog whose modules and brands are all sourced is not called illustrative."""
    catalog = load_catalog(None)
    assert catalog.provenance == "illustrative"
    public = attrs.evolve(
        catalog,
        modules={k: attrs.evolve(m, provenance="public") for k, m in catalog.modules.items()},
        brands={k: attrs.evolve(b, provenance="public") for k, b in catalog.brands.items()},
    )
    assert public.provenance == "catalog"


def test_explain_year_names_the_year_rule(capsys: pytest.CaptureFixture[str]) -> None:
    """explain --year: a Dacia on CMF-B LS (2020) in 2019 is refused by the built-in year rule,
    worded without a file position (regression: it printed '<none>:0:0')."""
    code, out, _ = run_cli(capsys, ["explain", "examples/partial-suv.yaml", "--year", "2019"])
    assert code == 1
    assert "rule 'year:2019:platform' (built in) says:" in out
    assert "<none>" not in out
    assert run_cli(capsys, ["explain", "examples/partial-suv.yaml", "--year", "2020"])[0] == 0
