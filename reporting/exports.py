"""A report's tables as CSV (one table, streamed row by row) or XLSX (every table, one sheet each, written by
openpyxl in write-only mode), with the filters of the page applied — the same ``Report`` the page shows.

CSV cells go through ``guarantees.csv_cells`` (text that could run as a spreadsheet formula gets a quote; numbers
stay numbers). XLSX cells are typed: numbers are numbers, and text is written as a string cell, which a
spreadsheet never evaluates; the same escape is applied anyway so a copy-paste from the sheet stays harmless.
"""

from __future__ import annotations

import datetime
import io
import re

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from guarantees.csv_cells import csv_safe_cell, csv_writer
from reporting.tables import AMOUNT, MONTH, Report, Table

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Echo:
    """A file whose ``write`` hands the line back, so that each row is streamed as soon as it is written."""

    def write(self, value):
        return value


def _cell(table: Table, row: dict, column):
    value = table.raw(row, column)
    if column.kind == MONTH and isinstance(value, datetime.date):
        return value.strftime("%Y-%m")
    return value


def _rows(table: Table):
    yield [str(c.label) for c in table.columns]
    for row in table.rows:
        yield [_cell(table, row, c) for c in table.columns]
    if table.total:
        yield [_cell(table, table.total, c) for c in table.columns]


def _filename(report: Report, suffix: str) -> str:
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return f"{report.slug}-{suffix}-{stamp}"


def csv_response(report: Report, table: Table) -> StreamingHttpResponse:
    writer = csv_writer(_Echo(), delimiter=";")

    def lines():
        yield "\ufeff"  # a BOM, so that a spreadsheet reads the accents right
        for row in _rows(table):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, table.key)}.csv"'
    return response


def _sheet_title(title: str, taken: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", title)[:31].strip() or "Sheet"
    base, n = name, 2
    while name in taken:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(name)
    return name


def xlsx_response(report: Report) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    taken: set[str] = set()
    for table in report.tables:
        sheet = book.create_sheet(_sheet_title(str(table.title), taken))
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=str(column.label))
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        body = list(table.rows) + ([table.total] if table.total else [])
        for row in body:
            cells = []
            for column in table.columns:
                value = _cell(table, row, column)
                if isinstance(value, str):
                    value = csv_safe_cell(value)
                cell = WriteOnlyCell(sheet, value=value)
                if column.kind == AMOUNT:
                    cell.number_format = "#,##0"
                elif isinstance(value, datetime.datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(value, datetime.date):
                    cell.number_format = "yyyy-mm-dd"
                cells.append(cell)
            sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "tables")}.xlsx"'
    return response
