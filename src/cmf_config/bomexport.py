"""A built vehicle's bill of materials as a spreadsheet: CSV, or an Excel workbook (.xlsx).

Columns: part, name (in full), quantity, unit cost, unit mass, module, position (the
variant-BOM position that selected the part, empty for fixed parts). Same input, same bytes:
the workbook's creation time is fixed and XlsxWriter writes its zip entries with a fixed date.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import tempfile

from cmf_config.model import BuiltVehicle

HEADER = ("part", "name", "quantity", "unit_cost", "unit_mass_kg", "module", "position")
_EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def bom_rows(built: BuiltVehicle) -> list[tuple[str, str, int, float, float, str, str]]:
    """One row per BOM line, in BOM order."""
    return [
        (b.part, b.name, b.quantity, b.unit_cost, b.unit_mass_kg, b.module, b.position)
        for b in built.bom
    ]


def bom_csv(built: BuiltVehicle) -> str:
    """RFC 4180 CSV with a header row; numbers as Python writes them (no rounding)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(bom_rows(built))
    return buffer.getvalue()


def bom_xlsx(built: BuiltVehicle) -> bytes:
    """An .xlsx workbook: sheet "BOM" (header, lines, a totals row with formulas)."""
    import xlsxwriter  # imported by the one command that writes a workbook

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bom.xlsx")
        book = xlsxwriter.Workbook(path, {"strings_to_numbers": False})
        book.set_properties(
            {
                "title": f"Bill of materials: {built.name}",
                "creator": "cmf-config",
                "created": _EPOCH,
            }
        )
        sheet = book.add_worksheet("BOM")
        bold = book.add_format({"bold": True})
        money = book.add_format({"num_format": "#,##0.00"})
        mass = book.add_format({"num_format": "0.000"})
        sheet.write_row(0, 0, HEADER, bold)
        rows = bom_rows(built)
        for index, row in enumerate(rows, start=1):
            part, name, quantity, cost, kilos, module, position = row
            sheet.write_string(index, 0, part)
            sheet.write_string(index, 1, name)
            sheet.write_number(index, 2, quantity)
            sheet.write_number(index, 3, cost, money)
            sheet.write_number(index, 4, kilos, mass)
            sheet.write_string(index, 5, module)
            sheet.write_string(index, 6, position)
        last = len(rows) + 1
        sheet.write_string(last, 0, "total", bold)
        sheet.write_formula(last, 2, f"=SUM(C2:C{last})", bold, sum(r[2] for r in rows))
        sheet.write_formula(
            last, 3, f"=SUMPRODUCT(C2:C{last},D2:D{last})", money, sum(r[2] * r[3] for r in rows)
        )
        sheet.write_formula(
            last, 4, f"=SUMPRODUCT(C2:C{last},E2:E{last})", mass, sum(r[2] * r[4] for r in rows)
        )
        sheet.set_column(0, 0, 18)
        sheet.set_column(1, 1, 40)
        sheet.set_column(5, 6, 22)
        sheet.freeze_panes(1, 0)
        book.close()
        with open(path, "rb") as handle:
            return handle.read()
