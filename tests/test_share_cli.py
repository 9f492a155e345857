"""`cmf-config share` as users run it: pairs, fleets, BOM tables; numbers from the computation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clirun import run_cli
from cmf_config.sharing import compare
from cmf_config.workspace import Workspace

ROOT = Path(__file__).parents[1]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI from the repository root."""
    return run_cli(capsys, args)


def test_pair_json_has_the_contract_keys_and_matches_compare(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """share A B --format json carries ratio, jaccard, dice, overlap, equal to sharing.compare."""
    code, out, _ = run(capsys, "share", "kangoo-iii", "townstar", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert {"ratio", "jaccard", "dice", "overlap", "by_module", "only_in_a", "only_in_b"} <= set(
        document
    )
    workspace, _ = Workspace.open(None, None)
    vehicles = workspace.catalog.vehicles
    direct = compare(
        workspace.product(vehicles["kangoo-iii"]), workspace.product(vehicles["townstar"])
    )
    assert document["ratio"] == direct.ratio
    assert document["jaccard"] == direct.jaccard


@pytest.mark.parametrize(
    ("a", "b"),
    [("kangoo-iii", "townstar"), ("master-iv", "interstar"), ("trafic-iii", "primastar")],
)
def test_van_pairs_share_about_eighty_percent(
    a: str, b: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The modelled van twins come out near the public ~80% figure (computed, not stated)."""
    code, out, _ = run(capsys, "share", a, b, "--format", "json")
    assert code == 0
    assert 0.75 <= json.loads(out)["ratio"] <= 0.90


def test_twins_high_and_cross_platform_low(capsys: pytest.CaptureFixture[str]) -> None:
    """CMF-B twins share a lot; vehicles on different platforms share little."""
    _, out, _ = run(capsys, "share", "clio-v", "colt", "--format", "json")
    assert json.loads(out)["ratio"] >= 0.8
    _, out, _ = run(capsys, "share", "kwid", "ariya", "--format", "json")
    assert json.loads(out)["ratio"] <= 0.3


def test_config_file_and_catalog_id_mix(capsys: pytest.CaptureFixture[str]) -> None:
    """A configuration file can be compared with a catalog vehicle id."""
    code, out, _ = run(capsys, "share", "examples/sedan.yaml", "austral", "--format", "json")
    assert code == 0
    assert json.loads(out)["a"] == "sedan"


@pytest.mark.slow
def test_fleet_all_writes_csv_and_heatmap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--all --by platform gives the indices per platform, a CSV matrix and a heatmap."""
    csv_path = tmp_path / "m.csv"
    png = tmp_path / "m.png"
    code, out, _ = run(
        capsys,
        "share",
        "--all",
        "--by",
        "platform",
        "--csv",
        str(csv_path),
        "--heatmap",
        str(png),
        "--format",
        "json",
    )
    assert code == 0
    document = json.loads(out)
    n = len(document["products"])
    assert n >= 30
    assert len(document["matrix"]["values"]) == n
    assert sorted(document["matrix"]["order"]) == list(range(n))
    assert set(document["indices"]) >= {"dci", "tcci", "ci", "percent_c", "pci"}
    assert document["indices"]["pci"] is None
    assert "cmf-cd" in document["groups"]
    rows = csv_path.read_text(encoding="utf-8").splitlines()
    assert len(rows) == n + 1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bom_table_json(capsys: pytest.CaptureFixture[str]) -> None:
    """--bom-table gives indices and pairs for a plain table."""
    code, out, _ = run(
        capsys, "share", "--bom-table", "tests/data/bom/trio.csv", "--format", "json"
    )
    assert code == 0
    document = json.loads(out)
    assert set(document["indices"]) >= {"dci", "tcci", "ci", "percent_c", "pci"}
    assert document["indices"]["pci"] is not None
    for pair in document["pairs"]:
        assert {"a", "b", "jaccard", "dice", "overlap"} <= set(pair)


def test_bad_bom_table_rows_are_positioned(capsys: pytest.CaptureFixture[str]) -> None:
    """Bad rows give file:line:column diagnostics and exit 2, never a traceback."""
    code, out, err = run(capsys, "share", "--bom-table", "tests/data/bom/bad_rows.csv")
    assert code == 2
    assert "tests/data/bom/bad_rows.csv:3:" in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("share", "kangoo-iii"), "share compares two vehicles, got 1"),
        (
            ("share", "kangoo-iii", "kangooo"),
            "'kangooo' is neither a configuration file nor a catalog vehicle id; did you mean 'kangoo-iii'",
        ),
        (("share", "kangoo-iii", "kangoo-iii"), "vehicle 'kangoo-iii' is given twice"),
    ],
)
def test_usage_errors(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad usage exits 2 with a message that says what to do."""
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err
