"""Loading configurations: round trip through YAML, name checks, catalog checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmf_config.dump import config_to_yaml
from cmf_config.load import load_catalog, vehicle_from_document
from cmf_config.model import KINDS, ModuleChoices, PartLine, VehicleConfig, VehicleOptions
from cmf_config.source import parse_text

MINI = Path(__file__).parent / "data" / "mini"
CATALOG = load_catalog(MINI / "catalog")


def _maybe(values: list[str]) -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from(values)


@st.composite
def configs(draw: st.DrawFn) -> VehicleConfig:
    """Random (maybe partial) configurations naming only catalog ids."""
    modules = {kind: draw(_maybe([m.id for m in CATALOG.modules_of(kind)])) for kind in KINDS}
    opts = CATALOG.options
    features = draw(
        st.none() | st.lists(st.sampled_from([f.id for f in opts.features]), unique=True).map(tuple)
    )
    parts = draw(
        st.lists(
            st.builds(
                PartLine,
                part=st.text(alphabet="ABC-123", min_size=1, max_size=8),
                name=st.text(min_size=1, max_size=20).filter(
                    lambda s: s.strip() == s and s.isprintable()
                ),
                quantity=st.integers(1, 50),
                unit_cost=st.floats(0, 1e5, allow_nan=False).map(lambda f: round(f, 2)),
                unit_mass_kg=st.floats(0, 1e3, allow_nan=False).map(lambda f: round(f, 3)),
            ),
            max_size=3,
        )
    )
    return VehicleConfig(
        name=draw(st.text(min_size=1, max_size=30).filter(lambda s: s.isprintable())),
        brand=draw(_maybe(list(CATALOG.brands))),  # type: ignore[arg-type]
        platform=draw(_maybe(list(CATALOG.platforms))),  # type: ignore[arg-type]
        segment=draw(_maybe(list(opts.segments))),
        body=draw(_maybe(list(opts.bodies))),
        powertrain=draw(_maybe([p.id for p in opts.powertrains])),
        modules=ModuleChoices(**modules),  # type: ignore[arg-type]
        options=VehicleOptions(
            battery_kwh=draw(st.none() | st.sampled_from([0.0, 40.0, 1.2])),
            wheelbase_mm=draw(st.none() | st.integers(2000, 3500)),
            drive=draw(_maybe(list(opts.drives))),
            steering=draw(_maybe(list(opts.steering))),
            market=draw(_maybe([m.id for m in opts.markets])),
            features=features,
        ),
        extra_parts=tuple(parts),
    )


@given(configs())
def test_load_of_dump_is_identity(config: VehicleConfig) -> None:
    """load(dump(x)) == x for every configuration (spans do not take part in equality)."""
    doc = parse_text(config_to_yaml(config), "round.yaml")
    assert vehicle_from_document(doc, CATALOG).config == config


def test_catalog_indexes_everything() -> None:
    """The mini catalog has its kinds, modules, platforms, brands and vehicle."""
    assert sorted(CATALOG.kinds) == sorted(KINDS)
    assert len(CATALOG.modules) == 9
    assert sorted(CATALOG.platforms) == ["plat-ev", "plat-ice"]
    assert list(CATALOG.vehicles) == ["alpha-one"]
    assert CATALOG.modules["ru-ev"].mass_kg == 38.0


def test_catalog_errors_are_all_reported(tmp_path: Path) -> None:
    """A module of an unknown kind, a missing attribute and a bad platform reference at once."""
    import shutil

    shutil.copytree(MINI / "catalog", tmp_path / "cat")
    modules = (tmp_path / "cat" / "modules.yaml").read_text(encoding="utf-8")
    modules = modules.replace(
        "kind: cockpit\n    name: Cockpit RHD", "kind: cokpit\n    name: Cockpit RHD"
    )
    modules = modules.replace("attributes: {tray_kwh: 0}", "attributes: {tray: 0}")
    (tmp_path / "cat" / "modules.yaml").write_text(modules, encoding="utf-8")
    platforms = (
        (tmp_path / "cat" / "platforms.yaml")
        .read_text(encoding="utf-8")
        .replace("ru-ice, ee-12]", "ru-icee, ee-12]")
    )
    (tmp_path / "cat" / "platforms.yaml").write_text(platforms, encoding="utf-8")
    from cmf_config.errors import InputError

    try:
        load_catalog(tmp_path / "cat")
    except InputError as exc:
        codes = sorted(d.code for d in exc.diagnostics)
        messages = [d.message for d in exc.diagnostics]
    else:
        raise AssertionError("expected an InputError")
    assert codes == ["E211", "E212", "E212", "E220"]
    assert any("did you mean 'cockpit'" in m for m in messages)
    assert any("unknown attribute 'tray'" in m for m in messages)
    assert any("unknown module 'ru-icee'; did you mean 'ru-ice'" in m for m in messages)


def test_catalog_cache_keeps_no_paths_of_another_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loaded again from another working directory, a catalog's spans are relative to that one
    (the cache once returned the first directory's relative paths)."""
    shutil.copytree(MINI / "catalog", tmp_path / "work" / "cat")
    monkeypatch.chdir(tmp_path / "work")
    first = load_catalog(Path("cat"))
    assert first.modules["ru-ev"].span.path == str(Path("cat") / "modules.yaml")
    monkeypatch.chdir(tmp_path)
    second = load_catalog(tmp_path / "work" / "cat")
    assert second.modules["ru-ev"].span.path == str(Path("work") / "cat" / "modules.yaml")
