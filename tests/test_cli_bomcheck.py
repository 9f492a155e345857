"""`cmf-config bom-check`: text and JSON output, witnesses, exit codes 0, 1 and 2."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from clirun import run_cli
from cmf_config.workspace import Workspace

ROOT = Path(__file__).parents[1]
DEFECTS = ["--catalog", "tests/data/variantbom/catalog", "--rules", "tests/data/variantbom/rules"]
CAT = "tests/data/variantbom/catalog"


def run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    """Run the CLI in-process from the repository root."""
    return run_cli(capsys, args)


def _is_valid(workspace: Workspace, witness: dict[str, str]) -> bool:
    """Whether a witness names a value for every slot and is a valid configuration."""
    assignment = {}
    for slot in workspace.problem.slots:
        index = slot.index(witness[slot.name])
        assert index is not None
        assignment[slot.name] = index
    return workspace.engine.is_consistent(assignment)


@pytest.fixture(scope="module")
def defects() -> Workspace:
    """The defect catalog, compiled once (span paths relative to the repository root)."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return Workspace.open(ROOT / CAT, ROOT / "tests/data/variantbom/rules")[0]
    finally:
        os.chdir(cwd)


def test_bundled_catalog_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    """The bundled catalog passes: exit 0 and a one-line summary."""
    code, out, err = run(capsys, ["bom-check"])
    assert (code, out, err) == (
        0,
        "catalog: catalog/, rules: rules/ (from pyproject.toml [tool.cmf-config])\n"
        "bom-check: 0 findings (0 uniqueness, 0 completeness, 0 superfluous) in 54 positions with 114 alternative parts\n",
        "",
    )


def test_bundled_catalog_json(capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON summary of a clean catalog."""
    code, out, _ = run(capsys, ["bom-check", "--format", "json"])
    assert code == 0
    assert json.loads(out) == {
        "clean": True,
        "positions": 54,
        "alternatives": 114,
        "counts": {"uniqueness": 0, "completeness": 0, "superfluous": 0},
        "findings": [],
        "sources": {
            "project": "pyproject.toml",
            "catalog": {"path": "catalog", "source": "project"},
            "rules": {"path": "rules", "source": "project"},
        },
    }


def test_text_output_of_a_catalog_with_defects(
    capsys: pytest.CaptureFixture[str], defects: Workspace
) -> None:
    """Each finding with its position in the file, its witness and a hint; exit 1."""
    code, out, err = run(capsys, ["bom-check", *DEFECTS])
    assert (code, err) == (1, "")
    lines = out.splitlines()
    witnesses = [line for line in lines if line.startswith("  witness: ")]
    assert lines.pop(0) == (
        f"catalog: {CAT}/ (from --catalog), rules: tests/data/variantbom/rules/ (from --rules)"
    )
    assert [line for line in lines if not line.startswith("  witness: ")] == [
        f"{CAT}/brands.yaml:14:114: superfluous: part 'BR-A103' of position 'alpha/powertrain-badge' is selected by no valid configuration: its condition never holds where the position is needed",
        "  hint: drop the part, or fix its selection condition (or the position's `needed`) so that a valid vehicle can take it",
        f"{CAT}/modules.yaml:15:13: superfluous: part 'EC-501' of position 'ec-ice/heat-pump' is selected by no valid configuration: the position is needed by no valid configuration",
        "  hint: drop the part, or fix its selection condition (or the position's `needed`) so that a valid vehicle can take it",
        f"{CAT}/modules.yaml:75:9: completeness: position 'ee-12/market-harness' selects no part in a valid configuration that needs it",
        "  hint: add an alternative whose condition holds for the witness, or narrow the position's `needed` condition",
        f"{CAT}/modules.yaml:66:114: uniqueness: position 'ru-ev/traction-battery' selects both 'RU-501' and 'RU-502' in a valid configuration",
        "  hint: make the two selection conditions exclusive: the witness satisfies both",
        "bom-check: 4 findings (1 uniqueness, 1 completeness, 2 superfluous) in 6 positions with 10 alternative parts",
    ]
    # the witness lines follow the completeness and uniqueness findings
    assert lines.index(witnesses[0]) == 5
    assert lines.index(witnesses[1]) == 8
    parsed = [
        dict(pair.split("=", 1) for pair in w.removeprefix("  witness: ").split())
        for w in witnesses
    ]
    assert all(_is_valid(defects, w) for w in parsed)
    assert (parsed[0]["ee_architecture"], parsed[0]["market"]) == ("ee-12", "uk")
    assert (parsed[1]["rear_underbody"], parsed[1]["battery_kwh"]) == ("ru-ev", "40")


def test_json_output_of_a_catalog_with_defects(
    capsys: pytest.CaptureFixture[str], defects: Workspace
) -> None:
    """The documented keys, one object per finding, valid witnesses; exit 1."""
    code, out, _ = run(capsys, ["bom-check", "--format", "json", *DEFECTS])
    assert code == 1
    document = json.loads(out)
    assert {k: v for k, v in document.items() if k not in ("findings", "sources")} == {
        "clean": False,
        "positions": 6,
        "alternatives": 10,
        "counts": {"uniqueness": 1, "completeness": 1, "superfluous": 2},
    }
    assert [
        (f["check"], f["position"], f["parts"], f["file"], f["line"], f["column"])
        for f in document["findings"]
    ] == [
        ("superfluous", "alpha/powertrain-badge", ["BR-A103"], f"{CAT}/brands.yaml", 14, 114),
        ("superfluous", "ec-ice/heat-pump", ["EC-501"], f"{CAT}/modules.yaml", 15, 13),
        ("completeness", "ee-12/market-harness", [], f"{CAT}/modules.yaml", 75, 9),
        (
            "uniqueness",
            "ru-ev/traction-battery",
            ["RU-501", "RU-502"],
            f"{CAT}/modules.yaml",
            66,
            114,
        ),
    ]
    for finding in document["findings"]:
        assert set(finding) == {
            "check",
            "position",
            "parts",
            "message",
            "hint",
            "file",
            "line",
            "column",
            "witness",
        }
        if finding["check"] == "superfluous":
            assert finding["witness"] is None
        else:
            assert _is_valid(defects, finding["witness"])


def test_bad_condition_exits_2_with_the_diagnostic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A condition naming an unknown market is unusable input: the positioned diagnostic, exit 2."""
    shutil.copytree(ROOT / "tests/data/variantbom", tmp_path / "vb")
    path = tmp_path / "vb/catalog/modules.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("market == 'eu'", "market == 'europe'"),
        encoding="utf-8",
    )
    code, out, err = run(
        capsys,
        [
            "bom-check",
            "--catalog",
            str(tmp_path / "vb/catalog"),
            "--rules",
            str(tmp_path / "vb/rules"),
        ],
    )
    assert (code, out) == (2, "")
    assert err.startswith(
        f"{path}:78:123: error E242: unknown market 'europe'; did you mean 'eu'?\n"
    )
    assert err.endswith("1 error, 0 warnings\n")


def test_missing_catalog_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """No catalog directory: exit 2, in text and in JSON."""
    code, out, err = run(capsys, ["bom-check", "--catalog", "tests/data/none"])
    assert (code, out) == (2, "")
    assert err.startswith("tests/data/none: error E001: the catalog directory does not exist\n")
    code, out, _ = run(capsys, ["bom-check", "--catalog", "tests/data/none", "--format", "json"])
    assert code == 2
    assert json.loads(out)["files"][0]["diagnostics"][0]["code"] == "E001"
