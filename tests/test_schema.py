"""One YAML meaning everywhere: YAML 1.2 core scalars, and JSON Schemas that accept exactly
what the command line accepts."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from clirun import run_cli
from cmf_config import yaml12
from cmf_config.errors import InputError
from cmf_config.load import load_catalog, vehicle_from_document
from cmf_config.paths import bundled_dir
from cmf_config.schema import FILE_KINDS, config_schema, file_schema
from cmf_config.source import parse_file, parse_text, to_plain

ROOT = Path(__file__).parents[1]
MINI = load_catalog(ROOT / "tests" / "data" / "mini" / "catalog")
MINI_SCHEMA = Draft202012Validator(config_schema(MINI))
BUNDLED_SCHEMA = Draft202012Validator(config_schema(load_catalog(bundled_dir("catalog"))))


def _cli_accepts(text: str) -> bool:
    """Whether the command line can use a configuration file (structure, types and ids)."""
    try:
        vehicle_from_document(parse_text(text, "doc.yaml"), MINI)
    except InputError:
        return False
    return True


# ------------------------------------------------------------------ YAML 1.1 traps


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("02710", 2710),  # 1.1: octal 1480
        ("0o17", 15),
        ("0x1F", 31),
        ("0b101", "0b101"),  # 1.1: 5
        ("yes", "yes"),  # 1.1: true
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("Yes", "Yes"),
        ("true", True),
        ("FALSE", False),
        ("1:20", "1:20"),  # 1.1: sexagesimal 80
        ("1_000", "1_000"),  # 1.1: 1000
        ("~", None),
        ("", None),
        ("Null", None),
        ("1e3", 1000.0),  # 1.1: the text '1e3'
        ("2024-01-01", "2024-01-01"),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    """Each YAML 1.1 trap reads as YAML 1.2 (and editors) read it."""
    assert yaml12.plain_value(text) == value
    assert type(yaml12.plain_value(text)) is type(value)
    node = to_plain(parse_text(f"k: {text}\n", "t.yaml").root)
    assert node == {"k": value}


@pytest.mark.parametrize(
    ("text", "check"), [(".inf", math.isinf), ("-.Inf", math.isinf), (".nan", math.isnan)]
)
def test_inf_and_nan_are_floats_and_the_cli_rejects_them(
    text: str, check: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """.inf and .nan are floats in YAML 1.2 too; a configuration cannot use them (exit 2, positioned)."""
    assert check(yaml12.plain_value(text))
    path = tmp_path / "c.yaml"
    path.write_text(f"name: t\noptions:\n  battery_kwh: {text}\n", encoding="utf-8")
    code, out, _ = run_cli(capsys, ["validate", str(path)])
    assert code == 2
    assert f"{path}:3:16: error E203: wrong type for 'battery_kwh'" in out


def test_quoted_scalars_are_always_text() -> None:
    """'02710' and "no" are the texts they spell, in YAML 1.1 and 1.2 alike."""
    doc = to_plain(parse_text("a: '02710'\nb: \"no\"\nc: !!str 12\n", "t.yaml").root)
    assert doc == {"a": "02710", "b": "no", "c": "12"}


@pytest.mark.parametrize(
    ("line", "valid"),
    [
        ("options: {wheelbase_mm: 02600}", True),  # 2600 for both (1.1 read octal 1432)
        ("options: {wheelbase_mm: 2600.0}", True),  # an integral number is an integer
        ("options: {wheelbase_mm: 2600.5}", False),
        ("name2: x", False),
        ("body: yes", False),  # the text 'yes': an unknown body type for both
        ("brand: null", True),  # an open slot
        ("brand:", True),
        ("options: {market: ~}", True),
        ("options: {features: [tow_bar, tow_bar]}", False),  # duplicates: E232 / uniqueItems
        ("options: {battery_kwh: 1:20}", False),
        ("modules: {cockpit: ec-ice}", False),  # a variant of the wrong kind
        ("modules: null", False),
        ("options: {battery_kwh: -1}", False),
        ("extra_parts: [{part: X, name: x, quantity: 0, unit_cost: 1, unit_mass_kg: 1}]", False),
    ],
)
def test_schema_and_cli_agree_on_each_construct(line: str, valid: bool) -> None:
    """Examples of each construct: the JSON Schema and the CLI both accept or both reject."""
    text = f"name: t\n{line}\n"
    data = to_plain(parse_text(text, "t.yaml").root)
    assert MINI_SCHEMA.is_valid(data) is valid
    assert _cli_accepts(text) is valid


# ------------------------------------------------------------------ property: structure

IDS = {
    "brand": list(MINI.brands),
    "platform": list(MINI.platforms),
    "segment": list(MINI.options.segments),
    "body": list(MINI.options.bodies),
    "powertrain": [p.id for p in MINI.options.powertrains],
}
MODULE_IDS = sorted(MINI.modules)
FEATURES = [f.id for f in MINI.options.features]

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5000),
    st.floats(-10, 5000, allow_nan=False).map(lambda f: round(f, 1)),
    st.sampled_from(["x", "yes", "02", "ck-lhd", "tow_bar", ""]),
    st.just([]),
    st.just({}),
    st.lists(st.sampled_from(["tow_bar", "x"]), max_size=3),
)


def _value(key: str) -> st.SearchStrategy[Any]:
    if key in IDS:
        return st.one_of(st.sampled_from(IDS[key]), junk)
    if key in ("battery_kwh",):
        return st.one_of(st.sampled_from([0, 40, 52.5]), junk)
    if key in ("wheelbase_mm",):
        return st.one_of(st.sampled_from([2600, 2600.0]), junk)
    if key == "features":
        return st.one_of(st.lists(st.sampled_from([*FEATURES, "nope"]), max_size=3), junk)
    if key in ("drive", "steering", "market"):
        known = {
            "drive": list(MINI.options.drives),
            "steering": list(MINI.options.steering),
            "market": [m.id for m in MINI.options.markets],
        }[key]
        return st.one_of(st.sampled_from(known), junk)
    return junk


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """Configuration documents, mostly well formed, with one kind of mistake here and there."""
    doc: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        doc["name"] = (
            draw(st.one_of(st.just("car"), junk)) if not draw(st.integers(0, 5)) else "car"
        )
    for key in draw(st.lists(st.sampled_from(sorted(IDS)), unique=True, max_size=5)):
        doc[key] = draw(_value(key))
    if draw(st.booleans()):
        kinds = draw(
            st.lists(
                st.sampled_from(["engine_compartment", "cockpit", "ee_architecture", "wheels"]),
                unique=True,
            )
        )
        doc["modules"] = {k: draw(st.one_of(st.sampled_from(MODULE_IDS), junk)) for k in kinds}
    if draw(st.booleans()):
        keys = draw(
            st.lists(
                st.sampled_from(
                    ["battery_kwh", "wheelbase_mm", "drive", "steering", "market", "features"]
                ),
                unique=True,
            )
        )
        doc["options"] = {k: draw(_value(k)) for k in keys}
    if not draw(st.integers(0, 7)):
        doc[draw(st.sampled_from(["modules", "options", "extra_parts", "sources", "notes"]))] = (
            draw(junk)
        )
    return doc


@given(documents())
def test_schema_rejects_exactly_what_the_cli_rejects(doc: dict[str, Any]) -> None:
    """Oracle pair: jsonschema with the catalog's schema, and the CLI's loader and name checks.

    A document is written as JSON text (valid YAML 1.2) and read back by the CLI's reader; the
    schema sees the same data. Either both accept it or both reject it.
    """
    text = json.dumps(doc)
    data = to_plain(parse_text(text, "doc.yaml").root)
    assert MINI_SCHEMA.is_valid(data) == _cli_accepts(text), (
        text,
        [e.message for e in MINI_SCHEMA.iter_errors(data)],
    )


# ------------------------------------------------------------------ the shipped files


def test_every_bundled_file_follows_its_schema() -> None:
    """Bundled catalog files, rules files, reference vehicles and examples validate."""
    catalog = bundled_dir("catalog")
    checks: list[tuple[Path, Draft202012Validator]] = []
    validators = {kind: Draft202012Validator(file_schema(kind)) for kind in FILE_KINDS}
    for path in sorted(catalog.glob("*.yaml")):
        kind = "modules" if path.stem.startswith("modules") else path.stem
        checks.append((path, validators[kind]))
    checks += [(p, validators["rules"]) for p in sorted(bundled_dir("rules").glob("*.yaml"))]
    checks += [(p, BUNDLED_SCHEMA) for p in sorted((catalog / "vehicles").glob("*.yaml"))]
    checks += [(p, BUNDLED_SCHEMA) for p in sorted((ROOT / "examples").glob("*.yaml"))]
    assert len(checks) > 70
    for path, validator in checks:
        data = to_plain(parse_file(path).root)
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], path


@pytest.mark.parametrize(
    "path", sorted((ROOT / "examples" / "invalid").glob("*.yaml")), ids=lambda p: p.name
)
def test_broken_examples_schema_verdict_matches_the_exit_code(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The schema rejects the examples the CLI cannot use (exit 2) and accepts those that only
    break rules (exit 1: the schema knows no rules)."""
    code, _, _ = run_cli(capsys, ["validate", str(path)])
    data = to_plain(parse_file(path).root)
    assert BUNDLED_SCHEMA.is_valid(data) is (code == 1)


def test_examples_and_schemas_are_wired(capsys: pytest.CaptureFixture[str]) -> None:
    """Every example starts with the modeline; schemas/ holds what `cmf-config schema` prints
    (rerun `cmf-config schema -o schemas/vehicle.schema.json` after changing the catalog)."""
    for path in sorted((ROOT / "examples").rglob("*.yaml")):
        up = "../" * (len(path.relative_to(ROOT).parts) - 1)
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema={up}schemas/vehicle.schema.json", path
    for kind in ("vehicle", *FILE_KINDS):
        code, out, _ = run_cli(capsys, ["schema", kind])
        assert code == 0
        assert (ROOT / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8") == out, kind


def test_schema_names_describe_the_ids_and_the_id_is_content_derived() -> None:
    """Variant names as descriptions; `$id` changes with the catalog."""
    schema = config_schema(MINI)
    cockpit = schema["properties"]["modules"]["properties"]["cockpit"]["anyOf"][0]  # type: ignore[index]
    assert {"const": "ck-lhd", "description": MINI.modules["ck-lhd"].name} in cockpit["oneOf"]
    assert str(schema["$id"]).startswith("urn:cmf-config:schema:vehicle-config:")
    bundled: dict[str, Any] = dict(BUNDLED_SCHEMA.schema)  # type: ignore[arg-type]
    assert schema["$id"] != bundled["$id"]
