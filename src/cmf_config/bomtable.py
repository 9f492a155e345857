"""Read a plain CSV product/part table into `ProductBom`s for the sharing analysis.

Why CSV: bills of materials usually leave a PLM system or a spreadsheet as a flat export,
one row per (product, part) line. The table is:

* required columns ``product``, ``part``, ``quantity``;
* optional ``unit_cost``, ``unit_mass_kg``, ``module`` and the PCI dissection columns
  ``component``, ``size``, ``material``, ``assembly``, ``differentiating`` (true/false).

The file must be UTF-8 (a UTF-8 byte-order mark is accepted). Empty optional cells mean
"unknown". Every problem in the file is collected as a `Diagnostic` whose span underlines
the offending CSV field (quotes honoured), and all are raised together in one `InputError`,
so one run shows the user everything to fix.

Codes (stable):

====  =============================================================================
E150  the file cannot be read (missing, a directory, no permission)
E151  a line is not UTF-8 text (bad bytes, NUL bytes) or the file is UTF-16
E152  the file is empty or has a header but no rows
E153  a required column is missing from the header
E154  the header has an unknown column (with a did-you-mean)
E155  the header has a column without a name, or a column twice
E156  a row is malformed: wrong number of fields, or broken CSV quoting
E157  a row has an empty product or part
E158  a quantity, unit cost or unit mass is empty (quantity only), not a number, not
      finite, or negative
E159  a ``differentiating`` cell is not true or false
====  =============================================================================
"""

from __future__ import annotations

import codecs
import csv
import difflib
import math
import os
import re
from collections.abc import Iterator
from typing import Final

import attrs

from cmf_config.errors import Diagnostic, InputError, Span
from cmf_config.files import TooLarge, os_error_text, read_bounded
from cmf_config.reprs import shared_repr
from cmf_config.sharing import PartUse, ProductBom

__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "parse_bom_table",
    "read_bom_table",
]

MAX_BYTES: Final = 64 * 1024 * 1024
"""The largest table read (checked against the bytes read, so /dev/zero stops here)."""
_PLAIN_NUMBER: Final = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)",
    re.IGNORECASE,
)
"""ASCII digits only: Python's float() also takes '1_000', Arabic-Indic and full-width digits."""

REQUIRED_COLUMNS: Final = ("product", "part", "quantity")
"""Columns every table must have."""

ATTRIBUTE_COLUMNS: Final = ("component", "size", "material", "assembly", "differentiating")
"""Optional columns copied into `PartUse.attributes` (the PCI dissection)."""

COLUMNS: Final = (*REQUIRED_COLUMNS, "unit_cost", "unit_mass_kg", "module", *ATTRIBUTE_COLUMNS)
"""Every column the table may have, in the documented order."""

_NUMBER_COLUMNS: Final = ("quantity", "unit_cost", "unit_mass_kg")
# Usual names in PLM and spreadsheet exports that difflib would not match.
_ALIASES: Final = {
    "qty": "quantity",
    "pcs": "quantity",
    "pieces": "quantity",
    "pn": "part",
    "part_number": "part",
    "part_no": "part",
    "vehicle": "product",
    "model": "product",
    "cost": "unit_cost",
    "price": "unit_cost",
    "mass": "unit_mass_kg",
    "weight": "unit_mass_kg",
    "mass_kg": "unit_mass_kg",
}
_UTF16_MARKS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@shared_repr
@attrs.define(repr=False)
class _Collector:
    """Accumulates diagnostics for one file, so each check just reports and goes on.

    Positions are collected as (line, field number) and turned into character spans at the
    end, from the decoded lines kept here (the file is read once)."""

    path: str
    found: list[tuple[int, int, str, str, str]] = attrs.field(factory=list)
    # Lines that failed to decode: their rows hold U+FFFD, so checking them would only add noise.
    undecodable: set[int] = attrs.field(factory=set)
    lines: dict[int, str] = attrs.field(factory=dict)

    def add(self, line: int, column: int, code: str, message: str, hint: str) -> None:
        self.found.append((line, column, code, message, hint))

    def raise_if_any(self) -> None:
        if self.found:
            raise InputError(
                [
                    Diagnostic(
                        code=code,
                        span=field_span(self.path, line, column, self.lines.get(line)),
                        message=message,
                        hint=hint,
                    )
                    for line, column, code, message, hint in self.found
                ]
            )


def field_span(path: str, line: int, field: int, text: str | None) -> Span:
    """The character span of CSV field number `field` (1-based) on a line, quotes honoured;
    line 1, column 1 for a problem of the whole file (line 0)."""
    if line < 1 or field < 1 or text is None:
        return Span(path, max(line, 1), 1)
    starts = [0]
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            starts.append(index + 1)
    if field > len(starts):
        return Span(path, line, len(text) + 1)
    start = starts[field - 1]
    end = starts[field] - 1 if field < len(starts) else len(text)
    return Span(path, line, start + 1, max(end + 1, start + 2))


def read_bom_table(path: str | os.PathLike[str]) -> list[ProductBom]:
    """Read a CSV table file; products come in order of first appearance.

    Raises InputError with every problem found, including an unreadable file.
    """
    shown = os.fspath(path)
    try:
        data = read_bounded(path, MAX_BYTES)
    except (OSError, TooLarge) as error:
        report = _Collector(shown)
        if isinstance(error, TooLarge):
            report.add(
                0,
                0,
                "E150",
                f"the table is too large (more than {MAX_BYTES} bytes)",
                f"tables up to {MAX_BYTES // (1024 * 1024)} MiB are read; split it",
            )
        else:
            report.add(
                0,
                0,
                "E150",
                f"cannot read the table: {os_error_text(error)}",
                "check the path and that the file is a readable CSV file",
            )
        report.raise_if_any()
    return parse_bom_table(data, path=shown)


def parse_bom_table(data: bytes, *, path: str = "<table>") -> list[ProductBom]:
    """Parse the bytes of a CSV table; ``path`` is only used in diagnostics.

    Raises InputError with every problem found.
    """
    report = _Collector(path)
    if data.startswith(_UTF16_MARKS):
        report.add(
            0,
            0,
            "E151",
            "the table is UTF-16 text, not UTF-8",
            "save it as UTF-8 (in a spreadsheet: 'CSV UTF-8')",
        )
        report.raise_if_any()
    data = data.removeprefix(codecs.BOM_UTF8)
    records = csv.reader(_decode_lines(data, report), strict=True)
    header: list[str] | None = None
    products: dict[str, list[PartUse]] = {}
    for line_no, last_line, row in _records(records, report):
        if report.undecodable.intersection(range(line_no, last_line + 1)):
            if header is None:
                report.raise_if_any()  # without the header no row can be read
            continue
        if header is None:
            header = [name.strip() for name in row]
            if not _check_header(header, line_no, report):
                report.raise_if_any()
            continue
        parsed = _parse_row(header, row, line_no, report)
        if parsed is not None:
            products.setdefault(parsed[0], []).append(parsed[1])
    if header is None or (not products and not report.found):
        what = "is empty" if header is None else "has a header but no rows"
        report.add(0, 0, "E152", f"the table {what}", _EMPTY_HINT)
    report.raise_if_any()
    return [ProductBom(name=name, lines=tuple(lines)) for name, lines in products.items()]


_EMPTY_HINT: Final = (
    "write a header line 'product,part,quantity' and then one row per product and part"
)


def _decode_lines(data: bytes, report: _Collector) -> Iterator[str]:
    """Yield the text lines, reporting lines that are not UTF-8 and decoding them leniently.

    Decoding line by line (UTF-8 never has a newline byte inside a character) lets one
    bad byte cost one diagnostic, not the rest of the file.
    """
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        report.lines[number] = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            text = raw.decode("utf-8", errors="replace")
            prefix = raw[: error.start].decode("utf-8")
            byte = raw[error.start]
            report.undecodable.add(number)
            report.add(
                number,
                _field_index(prefix),
                "E151",
                f"byte 0x{byte:02X} is not UTF-8 text",
                "save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8'); it looks like another encoding such as Latin-1 or Windows-1252",
            )
        else:
            if "\x00" in text:
                report.add(
                    number,
                    _field_index(text[: text.index("\x00")]),
                    "E151",
                    "the line contains a NUL byte",
                    "this looks like a binary or UTF-16 file: export the table as CSV UTF-8",
                )
        yield text


def _field_index(prefix: str) -> int:
    """Return the 1-based field number at the end of a line prefix."""
    fields = next(csv.reader([prefix]), [""])
    return max(len(fields), 1)


def _records(
    records: Iterator[list[str]], report: _Collector
) -> Iterator[tuple[int, int, list[str]]]:
    """Yield (first line, last line, fields) of each non-blank record; report CSV syntax errors and go on."""
    reader = records
    while True:
        start = _line_num(reader) + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            report.add(
                start,
                1,
                "E156",
                f"the row is not valid CSV: {error}",
                'quote a value that holds a comma or a quote ("like, this"), double each quote inside it (""), and close every quote',
            )
            continue
        if any(field.strip() for field in row):
            yield start, _line_num(reader), row


def _line_num(reader: Iterator[list[str]]) -> int:
    """Return the csv reader's count of lines read so far."""
    number: int = getattr(reader, "line_num", 0)
    return number


def _check_header(header: list[str], line_no: int, report: _Collector) -> bool:
    """Report header problems; return False when the rows cannot be read at all."""
    seen: dict[str, int] = {}
    for column, name in enumerate(header, start=1):
        if not name:
            report.add(
                line_no,
                column,
                "E155",
                f"column {column} has no name",
                f"name it (one of: {', '.join(COLUMNS)}) or delete the column",
            )
        elif name in seen:
            report.add(
                line_no,
                column,
                "E155",
                f"column '{name}' appears twice (columns {seen[name]} and {column})",
                "delete or rename one of them",
            )
        elif name not in COLUMNS:
            report.add(
                line_no, column, "E154", f"unknown column '{name}'", _unknown_column_hint(name)
            )
        seen.setdefault(name, column)
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    for name in missing:
        misspelt = [f"'{n}'" for n in header if n not in COLUMNS and _closest_column(n) == name]
        rename = f" (or rename {' or '.join(misspelt)})" if misspelt else ""
        report.add(
            line_no,
            1,
            "E153",
            f"the header has no '{name}' column",
            f"add a '{name}' column{rename}; every table needs {', '.join(REQUIRED_COLUMNS)}",
        )
    return not missing


def _closest_column(name: str) -> str | None:
    """Return the known column an unknown name most likely means, because most are typos."""
    key = name.lower().replace(" ", "_").replace("-", "_")
    if key in _ALIASES:
        return _ALIASES[key]
    close = difflib.get_close_matches(key, COLUMNS, n=1, cutoff=0.6)
    return close[0] if close else None


def _unknown_column_hint(name: str) -> str:
    """Suggest the closest known column, or list them all."""
    closest = _closest_column(name)
    if closest is not None:
        return f"did you mean '{closest}'? Rename the column"
    return f"remove the column or rename it to one of: {', '.join(COLUMNS)}"


def _parse_row(
    header: list[str], row: list[str], line_no: int, report: _Collector
) -> tuple[str, PartUse] | None:
    """Turn one row into (product, line), reporting every bad field; None if it had any."""
    if len(row) != len(header):
        report.add(
            line_no,
            min(len(row), len(header)) + 1,
            "E156",
            f"the row has {len(row)} fields but the header has {len(header)}",
            "give every row one value per header column; quote values that contain commas",
        )
        return None
    cells: dict[str, tuple[int, str]] = {}
    for column, (name, value) in enumerate(zip(header, row, strict=True), start=1):
        cells.setdefault(name, (column, value.strip()))
    before = len(report.found)
    product = _required_text(cells, "product", line_no, report)
    part = _required_text(cells, "part", line_no, report)
    numbers = {name: _number(cells, name, line_no, report) for name in _NUMBER_COLUMNS}
    attributes: dict[str, str] = {
        name: cells[name][1] for name in ATTRIBUTE_COLUMNS if name in cells and cells[name][1]
    }
    if "differentiating" in attributes:
        flag = attributes["differentiating"].lower()
        if flag in ("true", "false"):
            attributes["differentiating"] = flag
        else:
            report.add(
                line_no,
                cells["differentiating"][0],
                "E159",
                f"differentiating is '{attributes['differentiating']}', not true or false",
                "write true for a part that tells the products apart on purpose, false or nothing otherwise",
            )
    quantity = numbers["quantity"]
    if len(report.found) != before or quantity is None:
        return None
    module = cells.get("module", (0, ""))[1] or None
    line = PartUse(
        part=part,
        quantity=quantity,
        unit_cost=numbers["unit_cost"],
        unit_mass_kg=numbers["unit_mass_kg"],
        module=module,
        attributes=attributes,
    )
    return product, line


def _required_text(
    cells: dict[str, tuple[int, str]], name: str, line_no: int, report: _Collector
) -> str:
    """Return a required text cell, reporting it when empty."""
    column, value = cells[name]
    if not value:
        what = "product (vehicle) name" if name == "product" else "part number"
        report.add(line_no, column, "E157", f"the {name} is empty", f"give the {what} on this row")
    return value


def _number(
    cells: dict[str, tuple[int, str]], name: str, line_no: int, report: _Collector
) -> float | None:
    """Return a number cell as a finite float >= 0, or None when absent/empty (quantity must be given)."""
    if name not in cells:
        return None
    column, text = cells[name]
    example = {"quantity": "2", "unit_cost": "18.5", "unit_mass_kg": "1.9"}[name]
    if not text:
        if name == "quantity":
            report.add(
                line_no,
                column,
                "E158",
                "the quantity is empty",
                f"give the pieces per product, e.g. {example}",
            )
        return None
    try:
        if not _PLAIN_NUMBER.fullmatch(text.strip()):
            raise ValueError(text)
        value = float(text)
    except ValueError:
        hint = f"write a plain number with a dot for decimals, e.g. {example}"
        if "," in text:
            hint = f"use a dot, not a comma, for decimals: {text.replace(',', '.')}"
        report.add(line_no, column, "E158", f"{name} '{text}' is not a number", hint)
        return None
    if not math.isfinite(value):
        report.add(
            line_no,
            column,
            "E158",
            f"{name} '{text}' is not a finite number",
            f"write a real value, e.g. {example}",
        )
        return None
    if value < 0:
        report.add(
            line_no,
            column,
            "E158",
            f"{name} {text} is negative",
            f"write a value of 0 or more, e.g. {example}",
        )
        return None
    return value
