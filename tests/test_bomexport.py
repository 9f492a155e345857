"""build --format csv | xlsx: the bill of materials as a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from clirun import run_cli

SEDAN = ["build", "examples/sedan.yaml"]


def _bom(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    _, out, _ = run_cli(capsys, [*SEDAN, "--format", "json"])
    bom: list[dict[str, object]] = json.loads(out)["bom"]
    return bom


def test_csv_has_every_line_with_its_position(capsys: pytest.CaptureFixture[str]) -> None:
    """One row per BOM line (as in the JSON), the documented columns, positions named for the
    parts a variant-BOM position selected; stdout holds only the CSV."""
    code, out, err = run_cli(capsys, [*SEDAN, "--format", "csv"])
    assert code == 0
    assert err.startswith("catalog: ")  # what was built against, on stderr
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "part", "name", "quantity", "unit_cost", "unit_mass_kg", "module", "position"
    ]  # fmt: skip
    bom = _bom(capsys)
    assert [(r["part"], r["name"], int(r["quantity"]), float(r["unit_cost"])) for r in rows] == [
        (b["part"], b["name"], b["quantity"], b["unit_cost"]) for b in bom
    ]
    selected = [r for r in rows if r["position"]]
    assert selected
    assert all("/" in r["position"] for r in selected)


def test_xlsx_is_deterministic_and_holds_the_bom(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same input, same bytes; the sheet holds every part number and the totals formulas."""
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    code, out, _ = run_cli(capsys, [*SEDAN, "--format", "xlsx", "-o", str(first)])
    assert code == 0
    assert out.splitlines()[-1] == f"wrote {first}: {len(_bom(capsys))} BOM lines (xlsx)"
    run_cli(capsys, [*SEDAN, "--format", "xlsx", "-o", str(second)])
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as book:
        strings = book.read("xl/sharedStrings.xml").decode()
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert all(str(b["part"]) in strings for b in _bom(capsys))
    assert "SUMPRODUCT" in sheet


def test_xlsx_needs_an_output_file(capsys: pytest.CaptureFixture[str]) -> None:
    """A workbook is not text: without -o, exit 2 and say what to do."""
    code, out, err = run_cli(capsys, [*SEDAN, "--format", "xlsx"])
    assert (code, out) == (2, "")
    assert "add -o BOM.xlsx" in err
