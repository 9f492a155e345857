"""The commands as users run them: golden outputs on the mini catalog, contracts on the bundled one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clirun import run_cli
from golden import assert_golden

ROOT = Path(__file__).parents[1]
GOLDEN = Path(__file__).parent / "cases" / "cli"
MINI = ["--catalog", "tests/data/mini/catalog", "--rules", "tests/data/mini/rules"]
CFG = "tests/data/mini/configs"

CASES: dict[str, list[str]] = {
    "explain-partial": ["explain", f"{CFG}/partial-impossible.yaml", *MINI],
    "explain-json": ["explain", f"{CFG}/broken-rules.yaml", "--format", "json", *MINI],
    "explain-consistent": ["explain", f"{CFG}/good.yaml", *MINI],
    "explain-three-rules": [
        "explain",
        "tests/data/chains/three-rules.yaml",
        "--catalog",
        "tests/data/mini/catalog",
        "--rules",
        "tests/data/chains/three",
    ],
    "explain-five-rules": [
        "explain",
        "tests/data/chains/five-rules.yaml",
        "--catalog",
        "tests/data/mini/catalog",
        "--rules",
        "tests/data/chains/five",
    ],
    "model-options-derivation": [
        "model",
        "options",
        "tests/data/chains/trailer.uvl",
        "--select",
        "Trailer",
    ],
    "model-options-json": [
        "model",
        "options",
        "tests/data/chains/trailer.uvl",
        "--select",
        "Trailer",
        "--reasons",
        "6",
        "--format",
        "json",
    ],
    "model-lint-derivation": ["model", "lint", "tests/data/chains/trailer.uvl"],
    "fix": ["fix", f"{CFG}/broken-rules.yaml", *MINI],
    "fix-json": ["fix", f"{CFG}/broken-rules.yaml", "--format", "json", *MINI],
    "options": ["options", f"{CFG}/partial.yaml", *MINI],
    "options-json": ["options", f"{CFG}/partial.yaml", "--format", "json", *MINI],
    "complete": ["complete", f"{CFG}/partial.yaml", *MINI],
    "complete-mass": [
        "complete",
        f"{CFG}/partial.yaml",
        "--minimize",
        "mass",
        "--format",
        "json",
        *MINI,
    ],
    "count": ["count", "--format", "json", *MINI],
    "count-platform": ["count", "--platform", "plat-ev", *MINI],
    "count-unknown-platform": ["count", "--platform", "plat-e", *MINI],
    "enumerate": ["enumerate", "--limit", "3", *MINI],
    "lint": ["lint", *MINI],
    "build": ["build", f"{CFG}/good.yaml", *MINI],
    "build-json": ["build", f"{CFG}/good.yaml", "--format", "json", *MINI],
    "build-invalid": ["build", f"{CFG}/broken-rules.yaml", *MINI],
    "build-partial": ["build", f"{CFG}/partial.yaml", *MINI],
    "validate-many": [
        "validate",
        f"{CFG}/good.yaml",
        f"{CFG}/partial.yaml",
        f"{CFG}/broken-rules.yaml",
        *MINI,
    ],
    "catalog-show-module": ["catalog", "show", "ru-ev", *MINI],
    "catalog-show-unknown": ["catalog", "show", "ru-evv", *MINI],
    "missing-file": ["validate", f"{CFG}/nope.yaml", *MINI],
    "missing-catalog": ["validate", f"{CFG}/good.yaml", "--catalog", "tests/data/none"],
}


def run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    """Run the CLI in-process from the repository root."""
    return run_cli(capsys, args)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_output(name: str, capsys: pytest.CaptureFixture[str], update_goldens: bool) -> None:
    """stdout, stderr and exit code equal the reviewed golden file."""
    code, out, err = run(capsys, CASES[name])
    got = (
        f"$ cmf-config {' '.join(CASES[name])}\n--- stdout\n{out}--- stderr\n{err}--- exit {code}\n"
    )
    assert_golden(GOLDEN / f"{name}.txt", got, update_goldens)


def test_same_input_same_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    """Deterministic output: two runs print identical bytes."""
    first = run(capsys, CASES["options-json"])
    second = run(capsys, CASES["options-json"])
    assert first == second


def test_fix_writes_a_valid_file_atomically(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """fix -o writes a configuration that validates; a bad directory leaves nothing behind."""
    out = tmp_path / "fixed.yaml"
    code, _, _ = run(capsys, ["fix", f"{CFG}/broken-rules.yaml", "-o", str(out), *MINI])
    assert code == 0
    code, text, _ = run(capsys, ["validate", str(out), *MINI])
    assert code == 0, text
    code, _, err = run(
        capsys, ["fix", f"{CFG}/broken-rules.yaml", "-o", str(tmp_path / "no" / "x.yaml"), *MINI]
    )
    assert code == 2
    assert "does not exist" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fixed.yaml"]


def test_build_output_file_is_complete_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """build -o writes the whole JSON document and prints nothing else."""
    out = tmp_path / "bom.json"
    code, printed, _ = run(
        capsys, ["build", f"{CFG}/good.yaml", "--format", "json", "-o", str(out), *MINI]
    )
    assert (code, printed) == (0, "")
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["totals"]["parts"] == sum(line["quantity"] for line in document["bom"])


# ---------------------------------------------------------------- the bundled catalog


def test_bundled_examples_validate(capsys: pytest.CaptureFixture[str]) -> None:
    """Every example validates; every deliberately broken one fails with exit 1 or 2."""
    valid = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").glob("*.yaml"))
    code, out, _ = run(capsys, ["validate", *valid])
    assert code == 0, out
    for path in sorted((ROOT / "examples" / "invalid").glob("*.yaml")):
        code, out, _ = run(capsys, ["validate", "--format", "json", str(path.relative_to(ROOT))])
        assert code in (1, 2), path
        document = json.loads(out)
        assert document["files"][0]["valid"] is False
        assert document["files"][0]["diagnostics"]


def test_bundled_build_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    """build's JSON has the documented keys and consistent totals."""
    code, out, _ = run(capsys, ["build", "examples/sedan.yaml", "--format", "json"])
    assert code == 0
    document = json.loads(out)
    assert set(document) >= {"name", "brand", "platform", "modules", "bom", "totals"}
    assert set(document["modules"]) == {
        "engine_compartment",
        "cockpit",
        "front_underbody",
        "rear_underbody",
        "ee_architecture",
    }
    for line in document["bom"]:
        assert set(line) >= {"part", "name", "module", "quantity", "unit_cost", "unit_mass_kg"}
    assert document["totals"]["parts"] == sum(line["quantity"] for line in document["bom"])
    cost = sum(line["quantity"] * line["unit_cost"] for line in document["bom"])
    assert document["totals"]["cost"] == pytest.approx(cost, abs=0.01)


def test_bundled_catalog_list_contract(capsys: pytest.CaptureFixture[str]) -> None:
    """catalog list --format json has the documented sections and enough content."""
    code, out, _ = run(capsys, ["catalog", "list", "--format", "json"])
    assert code == 0
    document = json.loads(out)
    assert {m["kind"] for m in document["modules"]} == {
        "engine_compartment",
        "cockpit",
        "front_underbody",
        "rear_underbody",
        "ee_architecture",
    }
    assert len(document["platforms"]) >= 9
    assert len(document["brands"]) >= 8
    assert len(document["vehicles"]) >= 30
    for vehicle in document["vehicles"]:
        assert set(vehicle) >= {"id", "name", "brand", "platform"}


def test_bundled_catalog_lints_clean(capsys: pytest.CaptureFixture[str]) -> None:
    """lint finds nothing in the bundled catalog and rules (and at least 40 rules are checked)."""
    code, out, _ = run(capsys, ["lint", "--format", "json"])
    document = json.loads(out)
    assert (code, document["findings"]) == (0, [])
    code, out, _ = run(capsys, ["lint"])
    rules = int(out.rsplit("(", 1)[1].split(" rules")[0])
    assert rules >= 40


def test_explain_on_a_bundled_conflict_is_minimal(capsys: pytest.CaptureFixture[str]) -> None:
    """The conflict cited for the city EV with an ICE bay is unsatisfiable and irreducible."""
    from cmf_config.workspace import Workspace

    workspace, vehicles = Workspace.open(
        None, None, [ROOT / "examples" / "invalid" / "city-ev-with-ice-bay.yaml"]
    )
    assignment = workspace.assignment(vehicles[0].config)
    conflict = workspace.engine.explain(assignment)
    assert conflict is not None
    engine = workspace.engine
    chosen = {k: assignment[k] for k in conflict.choices}
    selectors = [engine.selectors[r] for r in conflict.rules]
    assert engine.solve([*engine.choice_lits(chosen), *selectors]) is None
    for rule in conflict.rules:
        rest = [engine.selectors[r] for r in conflict.rules if r != rule]
        assert engine.solve([*engine.choice_lits(chosen), *rest]) is not None
    for slot in conflict.choices:
        rest_choices = {k: v for k, v in chosen.items() if k != slot}
        assert engine.solve([*engine.choice_lits(rest_choices), *selectors]) is not None


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    """--help works on every subcommand (argparse exits 0)."""
    from cmf_config.cli import build_parser, main

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name in sub.choices:  # type: ignore[union-attr]
        with pytest.raises(SystemExit) as info:
            main([name, "--help"])
        assert info.value.code == 0
    capsys.readouterr()


EXAMPLES = sorted(p.relative_to(ROOT) for p in (ROOT / "examples").rglob("*.yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[str(p) for p in EXAMPLES])
def test_golden_per_example(
    example: Path, capsys: pytest.CaptureFixture[str], update_goldens: bool
) -> None:
    """Each example's validate output (and, when valid, its build) equals its golden file."""
    code, out, err = run(capsys, ["validate", str(example)])
    got = f"$ cmf-config validate {example}\n{out}{err}--- exit {code}\n"
    if code == 0:
        b_code, b_out, b_err = run(capsys, ["build", str(example), "--format", "json"])
        got += f"$ cmf-config build {example} --format json\n{b_out}{b_err}--- exit {b_code}\n"
    if "invalid" in example.parts and code == 1:
        e_code, e_out, e_err = run(capsys, ["explain", str(example)])
        got += f"$ cmf-config explain {example}\n{e_out}{e_err}--- exit {e_code}\n"
    assert_golden(GOLDEN.parent / "examples" / (example.stem + ".txt"), got, update_goldens)
