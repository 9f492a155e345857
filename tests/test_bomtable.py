"""Tests for cmf_config.bomtable: valid tables and the whole text of every diagnostic."""

from __future__ import annotations

from pathlib import Path

import pytest

import sharing_oracle as oracle
from cmf_config.bomtable import parse_bom_table, read_bom_table
from cmf_config.errors import Diagnostic, InputError, Span
from cmf_config.sharing import PartUse, ProductBom

DATA = Path(__file__).parent / "data" / "bom"

UTF8_HINT = (
    "save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8'); it looks like another encoding"
    " such as Latin-1 or Windows-1252"
)
COLUMNS = "product, part, quantity, unit_cost, unit_mass_kg, module, component, size, material, assembly, differentiating"


def error_text(path: Path | str, data: bytes | None = None) -> str:
    """The diagnostics of a file (or of bytes shown under that path): position (the
    character column of the field), code, message and hint of each."""

    def parse() -> list[ProductBom]:
        return read_bom_table(path) if data is None else parse_bom_table(data, path=str(path))

    with pytest.raises(InputError) as caught:
        parse()
    return "\n".join(
        f"{d.span}: error {d.code}: {d.message}\n  hint: {d.hint}" for d in caught.value.diagnostics
    )


def test_vans_table_reads_as_the_hand_worked_example() -> None:
    """vans.csv is Example 1, with FU-1 kept as two lines (sharing aggregates them)."""
    assert read_bom_table(DATA / "vans.csv") == list(oracle.vans())


def test_trio_table_reads_as_the_hand_worked_example() -> None:
    """trio.csv is Example 2 with its PCI columns; empty cells are left out of attributes."""
    assert read_bom_table(DATA / "trio.csv") == list(oracle.trio())


def test_messy_but_valid_table() -> None:
    """A UTF-8 BOM, CRLF, blank and all-empty rows, padded cells and quoted commas are fine."""
    assert read_bom_table(DATA / "messy.csv") == [
        ProductBom(
            name="Van, long",
            lines=(
                PartUse(part="PN-1, left", quantity=2.0),
                PartUse(part="PN-2", quantity=1.5, module="brand"),
            ),
        ),
        ProductBom(name="Van short", lines=(PartUse(part="PN-1, left", quantity=1.0),)),
    ]


def test_differentiating_is_normalised_to_lower_case() -> None:
    """TRUE and False are accepted and stored as 'true' and 'false'."""
    data = b"product,part,quantity,differentiating\nA,G,1,TRUE\nA,W,4,False\n"
    (product,) = parse_bom_table(data)
    assert [line.attributes for line in product.lines] == [
        {"differentiating": "true"},
        {"differentiating": "false"},
    ]


def test_bad_header_reports_every_problem() -> None:
    """Missing, unknown (with did-you-mean) and duplicate columns are all reported at once."""
    path = DATA / "bad_header.csv"
    assert error_text(path) == "\n".join(
        [
            f"{path}:1:1: error E153: the header has no 'product' column",
            "  hint: add a 'product' column (or rename 'vehicle'); every table needs product, part, quantity",
            f"{path}:1:1: error E153: the header has no 'quantity' column",
            "  hint: add a 'quantity' column (or rename 'qty'); every table needs product, part, quantity",
            f"{path}:1:1: error E154: unknown column 'vehicle'",
            "  hint: did you mean 'product'? Rename the column",
            f"{path}:1:14: error E154: unknown column 'qty'",
            "  hint: did you mean 'quantity'? Rename the column",
            f"{path}:1:18: error E154: unknown column 'colour'",
            f"  hint: remove the column or rename it to one of: {COLUMNS}",
            f"{path}:1:25: error E155: column 'part' appears twice (columns 2 and 5)",
            "  hint: delete or rename one of them",
        ]
    )


def test_bad_rows_reports_every_bad_field() -> None:
    """Every bad row and field is reported with its line and column, sorted."""
    path = DATA / "bad_rows.csv"
    quoting = (
        '  hint: quote a value that holds a comma or a quote ("like, this"), double each quote'
        ' inside it (""), and close every quote'
    )
    field_count = (
        "  hint: give every row one value per header column; quote values that contain commas"
    )
    assert error_text(path) == "\n".join(
        [
            f"{path}:3:8: error E157: the part is empty",
            "  hint: give the part number on this row",
            f"{path}:4:1: error E157: the product is empty",
            "  hint: give the product (vehicle) name on this row",
            f"{path}:4:7: error E158: quantity 'two' is not a number",
            "  hint: write a plain number with a dot for decimals, e.g. 2",
            f"{path}:5:13: error E158: quantity '1,5' is not a number",
            "  hint: use a dot, not a comma, for decimals: 1.5",
            f"{path}:5:19: error E158: unit_cost -300 is negative",
            "  hint: write a value of 0 or more, e.g. 18.5",
            f"{path}:5:24: error E158: unit_mass_kg 'nan' is not a finite number",
            "  hint: write a real value, e.g. 1.9",
            f"{path}:6:14: error E158: the quantity is empty",
            "  hint: give the pieces per product, e.g. 2",
            f"{path}:6:20: error E159: differentiating is 'yes', not true or false",
            "  hint: write true for a part that tells the products apart on purpose, false or nothing otherwise",
            f"{path}:7:26: error E156: the row has 7 fields but the header has 6",
            field_count,
            f"{path}:8:15: error E156: the row has 3 fields but the header has 6",
            field_count,
            f"{path}:9:1: error E156: the row is not valid CSV: ',' expected after '\"'",
            quoting,
            f"{path}:10:13: error E158: quantity -1 is negative",
            "  hint: write a value of 0 or more, e.g. 2",
            f"{path}:10:16: error E158: unit_cost '1e400' is not a finite number",
            "  hint: write a real value, e.g. 18.5",
            f"{path}:11:1: error E156: the row is not valid CSV: unexpected end of data",
            quoting,
        ]
    )


def test_diagnostics_are_structured() -> None:
    """The InputError carries Diagnostics whose span underlines the field (here the empty
    second field: column 3, one character wide)."""
    with pytest.raises(InputError) as caught:
        parse_bom_table(b"product,part,quantity\nA,,1\n", path="t.csv")
    assert caught.value.diagnostics == (
        Diagnostic(
            code="E157",
            span=Span("t.csv", 2, 3, 4),
            message="the part is empty",
            hint="give the part number on this row",
        ),
    )


def test_empty_file() -> None:
    """A 0-byte file is one whole-file diagnostic."""
    path = DATA / "empty.csv"
    assert error_text(path) == (
        f"{path}:1:1: error E152: the table is empty\n"
        "  hint: write a header line 'product,part,quantity' and then one row per product and part"
    )


def test_blank_lines_only_count_as_empty() -> None:
    """Blank lines and all-empty cells are not a header."""
    assert error_text("b.csv", b"\n\r\n , ,\n") == (
        "b.csv:1:1: error E152: the table is empty\n"
        "  hint: write a header line 'product,part,quantity' and then one row per product and part"
    )


def test_header_without_rows() -> None:
    """A header alone is reported: there is nothing to analyse."""
    path = DATA / "header_only.csv"
    assert error_text(path) == (
        f"{path}:1:1: error E152: the table has a header but no rows\n"
        "  hint: write a header line 'product,part,quantity' and then one row per product and part"
    )


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is a diagnostic, not a traceback."""
    path = tmp_path / "missing.csv"
    assert error_text(path) == (
        f"{path}:1:1: error E150: cannot read the table: No such file or directory\n"
        "  hint: check the path and that the file is a readable CSV file"
    )


def test_directory_instead_of_file(tmp_path: Path) -> None:
    """A directory is reported like any unreadable file."""
    assert error_text(tmp_path) == (
        f"{tmp_path}:1:1: error E150: cannot read the table: Is a directory\n"
        "  hint: check the path and that the file is a readable CSV file"
    )


def test_latin1_bytes_are_reported_per_line_with_their_column(tmp_path: Path) -> None:
    """Each undecodable line gets one E151 at the field holding the bad byte; its row is not checked further."""
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        "product,part,quantity\nCitan,Rétroviseur,1\nCitan,P2,1\nCitan,P3,\xbd\nCitan,,1\n".encode(
            "latin-1"
        )
    )
    assert error_text(path) == "\n".join(
        [
            f"{path}:2:7: error E151: byte 0xE9 is not UTF-8 text",
            f"  hint: {UTF8_HINT}",
            f"{path}:4:10: error E151: byte 0xBD is not UTF-8 text",
            f"  hint: {UTF8_HINT}",
            f"{path}:5:7: error E157: the part is empty",
            "  hint: give the part number on this row",
        ]
    )


def test_undecodable_header_stops_early() -> None:
    """Without a readable header no row can be interpreted, so only the header is reported."""
    assert error_text("h.csv", b"product,p\xe4rt,quantity\nA,B,1\nA,\xff,1\n") == (
        f"h.csv:1:9: error E151: byte 0xE4 is not UTF-8 text\n  hint: {UTF8_HINT}"
    )


def test_utf16_file() -> None:
    """A UTF-16 export (as some spreadsheets write) is recognised by its byte-order mark."""
    assert error_text("u.csv", "product,part,quantity\nA,B,1\n".encode("utf-16")) == (
        "u.csv:1:1: error E151: the table is UTF-16 text, not UTF-8\n"
        "  hint: save it as UTF-8 (in a spreadsheet: 'CSV UTF-8')"
    )


def test_nul_byte() -> None:
    """A NUL byte suggests a binary file and is reported at its field."""
    assert error_text("n.csv", b"product,part,quantity\nA,B\x00C,1\n") == (
        "n.csv:2:3: error E151: the line contains a NUL byte\n"
        "  hint: this looks like a binary or UTF-16 file: export the table as CSV UTF-8"
    )


def test_unnamed_column() -> None:
    """A trailing comma in the header makes a column with no name."""
    assert error_text("c.csv", b"product,part,quantity,\nA,B,1,\n") == (
        "c.csv:1:23: error E155: column 4 has no name\n"
        f"  hint: name it (one of: {COLUMNS}) or delete the column"
    )


def test_multiline_quoted_value_keeps_line_numbers() -> None:
    """A quoted value spanning lines is one row, and later rows keep their real line numbers."""
    data = b'product,part,quantity\n"Van\nlong",P,1\nVan,,1\n'
    assert error_text("m.csv", data) == (
        "m.csv:4:5: error E157: the part is empty\n  hint: give the part number on this row"
    )
