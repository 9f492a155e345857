"""Every real vehicle version in tests/realcars/ must be buildable, as the record says it was.

Each file is a partial configuration of a real car with a public spec (its sources and, where
known, its start-of-production year in the header comment). `cmf-config complete` must finish
it with exit 0, in that year when one is given. Each catalog vehicle must also be buildable in
every market of its `markets` list (the cockpits must cover the steering sides of the markets
its platform's cars are sold in). A failure names the facts it contradicts: the rules of the
minimal conflict, each with its `fact`, and the car's sources.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import attrs
import pytest

from clirun import ROOT, run_cli
from cmf_config.load import load_catalog, vehicle_from_document
from cmf_config.model import VehicleConfig, VehicleOptions
from cmf_config.rules import rules_by_id
from cmf_config.source import parse_file
from cmf_config.workspace import Workspace

CASES = sorted((ROOT / "tests" / "realcars").glob("*.yaml"))
RULES = ROOT / "rules"


def _header(path: Path) -> tuple[str, int | None]:
    text = path.read_text(encoding="utf-8")
    sources = re.search(r"^# sources: (.*)$", text, re.M)
    year = re.search(r"^# year: (\d{4})$", text, re.M)
    return (sources.group(1) if sources else "(no sources)", int(year.group(1)) if year else None)


def _why(config: VehicleConfig, year: int | None, sources: str) -> str:
    """The facts a refused car contradicts: the rules of the minimal conflict and their facts."""
    workspace = _workspace(year)
    conflict = workspace.explain(config)
    if conflict is None:
        return f"no conflict found (sources {sources})"
    rules = rules_by_id(workspace.rules)
    lines = [f"the record ({sources}) contradicts these rules:"]
    for rid in conflict.rules:
        rule = rules[rid]
        where = f" at {rule.span}" if rule.span.line else ""
        lines.append(f"  - {rid}{where}: {rule.message} [fact: {rule.fact}]")
    lines.append(f"  choices involved: {', '.join(conflict.choices)}")
    return "\n".join(lines)


def test_there_is_one_case_per_catalog_vehicle() -> None:
    """Every reference vehicle has its real-car case (plus the extra versions)."""
    names = {p.stem for p in CASES}
    missing = sorted(set(load_catalog(None).vehicles) - names)
    assert not missing, f"no tests/realcars case for {missing}"


@functools.lru_cache(maxsize=32)
def _workspace(year: int | None) -> Workspace:
    return Workspace(load_catalog(None), RULES, year=year)


def _config(path: Path) -> VehicleConfig:
    return vehicle_from_document(parse_file(path, str(path)), load_catalog(None)).config


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_complete_builds_the_real_car(path: Path) -> None:
    """What `complete` computes (the least-cost valid completion) exists for the real car, in
    its start year when known. One engine per year is shared, as the CLI would build it."""
    sources, year = _header(path)
    config = _config(path)
    if _workspace(year).complete(config, "cost", None) is None:
        pytest.fail(f"{path.name}: no valid completion\n{_why(config, year, sources)}")


CLI_CASES = [
    "renault-5-uk",
    "note-e13-4wd",
    "megane-iv-hud",
    "twingo-e-tech",
    "eclipse-cross-ev",
    "x-trail-t33",
    "trafic-e-tech",
    "duster-iii-hybrid-150-4x4",
    "kwid-e-tech",
    "symbioz",
    "clio-vi",
    "alpine-a390",
    "x-trail-t32-hybrid-jp",
    "megane-iv-phev",
]


@pytest.mark.parametrize("name", CLI_CASES)
def test_complete_command_exits_0(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`cmf-config complete FILE [--year Y]` exits 0 on the cars the catalog used to refuse."""
    path = ROOT / "tests" / "realcars" / f"{name}.yaml"
    sources, year = _header(path)
    args = ["complete", str(path.relative_to(ROOT))]
    if year is not None:
        args += ["--year", str(year)]
    code, out, err = run_cli(capsys, args)
    if code != 0:
        pytest.fail(f"{path.name}: exit {code}\n{err}\n{_why(_config(path), year, sources)}")
    assert "name: " in out
    assert "platform: " in out


def _market_cases() -> list[tuple[str, str]]:
    catalog = load_catalog(None)
    return [
        (v.id, m) for v in sorted(catalog.vehicles.values(), key=lambda v: v.id) for m in v.markets
    ]


def test_every_vehicle_is_buildable_in_each_of_its_markets() -> None:
    """The platform's cockpits cover every market the car is sold in (steering side included)."""
    catalog = load_catalog(None)
    workspace = _workspace(None)
    failures = []
    cases = _market_cases()
    assert cases, "no vehicle lists its markets: nothing to check"
    for vid, market in cases:
        vehicle = catalog.vehicles[vid]
        base = vehicle.config
        config = VehicleConfig(
            name=base.name,
            brand=base.brand,
            platform=base.platform,
            segment=base.segment,
            body=base.body,
            powertrain=base.powertrain,
            options=VehicleOptions(
                battery_kwh=base.options.battery_kwh,
                wheelbase_mm=base.options.wheelbase_mm,
                drive=base.options.drive,
                market=market,
            ),
        )
        if workspace.engine.complete_any(workspace.assignment(config)) is None:
            failures.append(f"{vid} in {market}:\n" + _why(config, None, " ".join(vehicle.sources)))
    assert not failures, "\n".join(failures)


def test_every_vehicle_is_buildable_in_its_production_years() -> None:
    """A reference vehicle is valid in its first and (if ended) last year of production."""
    catalog = load_catalog(None)
    years = sorted(
        {v.production.start for v in catalog.vehicles.values() if v.production}
        | {v.production.end for v in catalog.vehicles.values() if v.production and v.production.end}
    )
    assert years
    failures = []
    for year in years:
        workspace = _workspace(year)
        for vehicle in catalog.vehicles.values():
            span = vehicle.production
            if span is None or year not in (span.start, span.end):
                continue
            if not workspace.validate(vehicle.config).is_valid:
                failures.append(
                    f"{vehicle.id} in {year}:\n"
                    + _why(vehicle.config, year, " ".join(vehicle.sources))
                )
    assert not failures, "\n".join(failures)


def test_a_year_before_the_platform_refuses_the_car(capsys: pytest.CaptureFixture[str]) -> None:
    """The year constraint bites: the Renault 5 (AmpR Small, 2024) was not buildable in 2019."""
    code, out, _ = run_cli(capsys, ["complete", "tests/realcars/renault-5.yaml", "--year", "2019"])
    assert code == 1
    assert "E302" in out
    assert "year:2019:platform" in out


def test_refusal_names_the_fact() -> None:
    """The failure text names the rule and its fact: a Renault 5 of 2019 breaks a year rule
    (AmpR Small launched in 2024, its E/E built from 2024)."""
    catalog = load_catalog(None)
    config = attrs.evolve(catalog.vehicles["renault-5"].config)
    text = _why(config, 2019, "[S36]")
    assert "- year:2019:" in text
    assert "[fact: catalog/" in text
    assert "[S36]" in text
