"""Variant BOM positions: resolution in build, the three product-data checks, condition errors."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmf_config.errors import Diagnostic, InputError
from cmf_config.load import load_vehicle_file
from cmf_config.model import Alternative, ModuleId, Position, VehicleConfig
from cmf_config.problem import Problem
from cmf_config.report import render_diagnostics
from cmf_config.rules import IR, TRUE, Rule, evaluate
from cmf_config.solver import Engine
from cmf_config.variantbom import CompiledPosition, check, selected_parts
from cmf_config.workspace import Workspace
from oracle import valid, valid_assignments
from strategies import expressions, worlds

ROOT = Path(__file__).parents[1]
DATA = Path(__file__).parent / "data" / "variantbom"
SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow])

Key = tuple[str, str, tuple[str, ...]]


def _indices(problem: Problem, witness: Mapping[str, str]) -> dict[str, int]:
    """A witness (slot -> value id) as an assignment (slot -> value index)."""
    out: dict[str, int] = {}
    for slot in problem.slots:
        index = slot.index(witness[slot.name])
        assert index is not None, (slot.name, witness[slot.name])
        out[slot.name] = index
    return out


def _applies(problem: Problem, item: CompiledPosition, assignment: Mapping[str, int]) -> bool:
    owner = problem.slot(item.owner_slot).values[assignment[item.owner_slot]].id
    return owner == item.owner and bool(evaluate(problem, item.needed, assignment))


def _selected(problem: Problem, item: CompiledPosition, assignment: Mapping[str, int]) -> list[int]:
    return [i for i, c in enumerate(item.conditions) if evaluate(problem, c, assignment)]


def _assert_witnesses(
    problem: Problem,
    rules: Sequence[Rule],
    positions: Sequence[CompiledPosition],
    findings: Sequence[Diagnostic],
) -> None:
    """Every witness is a valid configuration that shows its finding's defect."""
    by_key = {p.key: p for p in positions}
    for f in findings:
        if f.kind == "superfluous":
            assert f.witness is None
            continue
        assert f.witness is not None
        assignment = _indices(problem, dict(f.witness))
        assert valid(problem, [r for r in rules if r.severity.value == "error"], assignment)
        item = by_key[f.subject]
        assert _applies(problem, item, assignment)
        chosen = {item.position.alternatives[i].part for i in _selected(problem, item, assignment)}
        if f.kind == "uniqueness":
            assert set(f.parts) <= chosen
        else:
            assert chosen == set()


# ---------------------------------------------------------------- the bundled catalog


@pytest.fixture(scope="module")
def bundled() -> Workspace:
    """The bundled catalog and rules, compiled once."""
    return Workspace.open(None, None)[0]


def test_bundled_catalog_passes_the_checks(bundled: Workspace) -> None:
    """No uniqueness, completeness or superfluous finding in the bundled catalog's positions."""
    assert len(bundled.positions) >= 40
    assert sum(len(p.position.alternatives) for p in bundled.positions) >= 100
    assert check(bundled.engine, bundled.positions) == []


def _position_parts(workspace: Workspace, config: VehicleConfig) -> set[str]:
    """The parts a built configuration gets from BOM positions (its BOM minus fixed parts)."""
    built = workspace.build(config)
    assert built is not None
    fixed = {p.part for m in built.modules.values() for p in workspace.catalog.modules[m].parts}
    fixed |= {p.part for p in workspace.catalog.brands[built.brand].parts} | {
        p.part for p in config.extra_parts
    }
    return {line.part for line in built.bom} - fixed


def test_build_selects_the_alternatives_of_a_right_hand_drive_ev(bundled: Workspace) -> None:
    """An RHD e-4ORCE crossover for Japan with 87 kWh, heat pump and Level 2 gets the matching parts."""
    config = load_vehicle_file(ROOT / "examples" / "ev-crossover.yaml", bundled.catalog).config
    assert _position_parts(bundled, config) == {
        "EC-EV-1502",  # heat-pump kit with the rear e-motor loop (AWD)
        "CK-EV-2502",  # steering wheel with hands-on detection (adas_l2)
        "FU-EV-1502",  # RHD steering intermediate shaft
        "RU-EV-1503",  # traction battery 75 to 91 kWh
        "EE-EV-1504",  # market harness, Asia-Pacific and Africa (jp)
        "BR-NI-0503",  # Nissan EV badge
    }


def test_build_follows_the_conditions_when_the_options_change(bundled: Workspace) -> None:
    """The same crossover as an LHD FWD 52 kWh car for Europe without options gets the other parts."""
    config = load_vehicle_file(ROOT / "examples" / "ev-crossover.yaml", bundled.catalog).config
    options = attrs.evolve(
        config.options, market="eu", steering="lhd", battery_kwh=52.0, drive="fwd", features=()
    )
    config = attrs.evolve(
        config, options=options, modules=attrs.evolve(config.modules, cockpit=ModuleId("ck-ev-lhd"))
    )
    assert _position_parts(bundled, config) == {
        "CK-EV-1501",
        "FU-EV-1501",
        "RU-EV-1502",
        "EE-EV-1501",
        "BR-NI-0503",
    }


# ---------------------------------------------------------------- a catalog with deliberate defects


def test_exact_findings_on_a_catalog_with_defects(monkeypatch: pytest.MonkeyPatch) -> None:
    """Overlapping bands, a market gap, an impossible badge and a never-needed kit: exactly these findings."""
    monkeypatch.chdir(ROOT)
    workspace = Workspace.open(DATA / "catalog", DATA / "rules")[0]
    findings = check(workspace.engine, workspace.positions)
    cat = "tests/data/variantbom/catalog"
    assert [(f.kind, f.subject, f.parts, str(f.span), f.message) for f in findings] == [
        (
            "superfluous",
            "alpha/powertrain-badge",
            ("BR-A103",),
            f"{cat}/brands.yaml:14:114",
            "part 'BR-A103' of position 'alpha/powertrain-badge' is selected by no valid configuration: its condition never holds where the position is needed",
        ),
        (
            "superfluous",
            "ec-ice/heat-pump",
            ("EC-501",),
            f"{cat}/modules.yaml:15:13",
            "part 'EC-501' of position 'ec-ice/heat-pump' is selected by no valid configuration: the position is needed by no valid configuration",
        ),
        (
            "completeness",
            "ee-12/market-harness",
            (),
            f"{cat}/modules.yaml:75:9",
            "position 'ee-12/market-harness' selects no part in a valid configuration that needs it",
        ),
        (
            "uniqueness",
            "ru-ev/traction-battery",
            ("RU-501", "RU-502"),
            f"{cat}/modules.yaml:66:114",
            "position 'ru-ev/traction-battery' selects both 'RU-501' and 'RU-502' in a valid configuration",
        ),
    ]
    _assert_witnesses(workspace.problem, workspace.rules, workspace.positions, findings)
    gap, overlap = findings[2].witness, findings[3].witness
    assert gap is not None
    assert dict(gap)["market"] == "uk"
    assert overlap is not None
    assert dict(overlap)["battery_kwh"] == "40"


def test_build_resolves_positions_of_the_defect_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """selected_parts gives, per position, the alternatives whose conditions hold (both of an overlap)."""
    monkeypatch.chdir(ROOT)
    workspace = Workspace.open(DATA / "catalog", DATA / "rules")[0]
    findings = check(workspace.engine, workspace.positions)
    overlap = findings[3].witness
    assert overlap is not None
    chosen = [
        (item.key, line.part)
        for item, line in selected_parts(
            workspace.problem, workspace.positions, _indices(workspace.problem, dict(overlap))
        )
    ]
    assert ("ru-ev/traction-battery", "RU-501") in chosen
    assert ("ru-ev/traction-battery", "RU-502") in chosen
    assert [key for key, _ in chosen].count("fu-std/steering-shaft") == 1


# ---------------------------------------------------------------- errors in conditions


def _broken_catalog(tmp_path: Path, old: str, new: str) -> Path:
    shutil.copytree(DATA, tmp_path / "variantbom")
    path = tmp_path / "variantbom" / "catalog" / "modules.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return tmp_path / "variantbom"


def test_unknown_name_in_a_condition_is_reported_at_its_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misspelt slot in a `when` condition is an error at its exact column, with did-you-mean."""
    root = _broken_catalog(tmp_path, "when: \"steering == 'lhd'\"", "when: \"steerin == 'lhd'\"")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        Workspace.open(root / "catalog", root / "rules")
    assert render_diagnostics(list(caught.value.diagnostics)) == (
        "variantbom/catalog/modules.yaml:44:110: error E240: unknown name 'steerin'; did you mean 'steering' or 'segment'?\n"
        "              - {part: FU-501, name: LHD steering shaft, quantity: 1, unit_cost: 30.0, unit_mass_kg: 1.5, when: \"steerin == 'lhd'\"}\n"
        "                                                                                                                 ^~~~~~~\n"
        "  hint: quote ids that contain '-': 'cmf-bev'; the names are battery_kwh, body, brand, cockpit, drive, ee_architecture, "
        "engine_compartment, front_underbody, market, platform, powertrain, rear_underbody, segment, steering, tow_bar, wheelbase_mm\n"
        "1 error, 0 warnings\n"
    )


def test_every_bad_condition_is_reported_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Errors in a `needed` and a `when` condition of different positions come out together, in file order."""
    root = _broken_catalog(tmp_path, 'needed: "battery_kwh > 0"', 'needed: "battery_kwh >"')
    path = root / "catalog" / "modules.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("market == 'eu'", "market == 'europe'"),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        Workspace.open(root / "catalog", root / "rules")
    assert [(d.code, str(d.span)) for d in caught.value.diagnostics] == [
        ("E120", "variantbom/catalog/modules.yaml:63:31"),
        ("E242", "variantbom/catalog/modules.yaml:78:123"),
    ]


# ---------------------------------------------------------------- against brute force


@st.composite
def positioned_worlds(draw: st.DrawFn) -> tuple[Problem, list[Rule], list[CompiledPosition]]:
    """A small random world with 1-4 positions of 0-4 alternatives under random conditions.

    Conditions come from a small pool shared by the positions, and owners often repeat, so
    that positions overlap: one position's defects may show only where another's do too.
    """
    problem, rules = draw(worlds())
    owners = [s for s in problem.slots if not s.is_bool] or list(problem.slots)
    pool: list[IR] = draw(st.lists(expressions(problem), min_size=1, max_size=4))
    condition = st.sampled_from(pool) | expressions(problem) | st.just(TRUE)
    positions: list[CompiledPosition] = []
    for k in range(draw(st.integers(1, 4))):
        owner = draw(st.sampled_from(owners))
        value = draw(st.sampled_from(owner.values)).id
        needed: IR = draw(st.just(TRUE) | st.sampled_from(pool) | expressions(problem, depth=1))
        count = draw(st.integers(0, 4))
        conditions = tuple(draw(condition) for _ in range(count))
        alternatives = tuple(
            Alternative(
                part=f"P{k}-{i}", name=f"part {i}", quantity=1, unit_cost=1.0, unit_mass_kg=1.0
            )
            for i in range(count)
        )
        position = Position(id=f"pos{k}", alternatives=alternatives)
        positions.append(
            CompiledPosition(
                owner_slot=owner.name,
                owner=value,
                position=position,
                needed=needed,
                conditions=conditions,
            )
        )
    return problem, rules, positions


def _brute_force(
    problem: Problem, rules: Sequence[Rule], positions: Sequence[CompiledPosition]
) -> set[Key]:
    """The findings, by trying every valid configuration."""
    configs = valid_assignments(problem, rules)
    out: set[Key] = set()
    for item in positions:
        parts = [a.part for a in item.position.alternatives]
        ever: set[int] = set()
        for assignment in configs:
            if not _applies(problem, item, assignment):
                continue
            chosen = _selected(problem, item, assignment)
            ever.update(chosen)
            if not chosen:
                out.add(("completeness", item.key, ()))
            out.update(
                ("uniqueness", item.key, (parts[i], parts[j]))
                for i in chosen
                for j in chosen
                if i < j
            )
        out.update(
            ("superfluous", item.key, (parts[i],)) for i in range(len(parts)) if i not in ever
        )
    return out


@SETTINGS
@given(positioned_worlds())
def test_findings_equal_brute_force(
    world: tuple[Problem, list[Rule], list[CompiledPosition]],
) -> None:
    """Every finding is real and none is missed; each witness is valid and shows its defect."""
    problem, rules, positions = world
    engine = Engine(problem, rules)
    try:
        findings = check(engine, positions)
    finally:
        engine.close()
    keys = [(f.kind, f.subject, f.parts) for f in findings]
    assert len(keys) == len(set(keys))
    assert set(keys) == _brute_force(problem, rules, positions)
    _assert_witnesses(problem, rules, positions, findings)


@SETTINGS
@given(positioned_worlds())
def test_selected_parts_follow_the_conditions(
    world: tuple[Problem, list[Rule], list[CompiledPosition]],
) -> None:
    """On any complete configuration, selected_parts yields exactly the alternatives whose conditions hold."""
    problem, _, positions = world
    for assignment in valid_assignments(problem, []):
        got = [
            (item.key, line.part) for item, line in selected_parts(problem, positions, assignment)
        ]
        expected = [
            (item.key, item.position.alternatives[i].part)
            for item in positions
            if _applies(problem, item, assignment)
            for i in _selected(problem, item, assignment)
        ]
        assert got == expected
