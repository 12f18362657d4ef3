"""A report's tables as CSV (one table, streamed) or XLSX (every table, one sheet each), with the filters of the
page applied — the same ``Report`` the page shows — written by the registry's one tabular writer
(``guarantees.tabular``): the same formula-safe cells, typed numbers and dates, and moments in the reader's zone
(named in the column's header) as every other list of the registry.

This module only says how a report's column maps onto the writer's kinds: amounts stay whole francs, counts and
measures (hours, days, shares) numbers, a month its ``YYYY-MM``, and labels (a status, a country) the reader's words.
The CSV keeps the semicolon the report files have always had (what a spreadsheet set to French reads as columns).
"""

from __future__ import annotations

import datetime
import io

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation

from guarantees import tabular
from reporting.tables import AMOUNT, DATE, DAYS, HOURS, INT, MOMENT, MONTH, PCT, Report, Table

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_KINDS = {
    AMOUNT: tabular.AMOUNT, INT: tabular.NUMBER, HOURS: tabular.NUMBER, DAYS: tabular.NUMBER, PCT: tabular.NUMBER,
    DATE: tabular.DATE, MOMENT: tabular.MOMENT,
}  # anything else (text, a month, a status, a country) is written as text


def _columns(table: Table) -> tuple[tabular.Column, ...]:
    return tuple(tabular.Column(c.label, _KINDS.get(c.kind, tabular.TEXT)) for c in table.columns)


def _value(table: Table, row: dict, column):
    value = table.raw(row, column)
    if column.kind == MONTH and isinstance(value, datetime.date):
        return value.strftime("%Y-%m")
    return value


def _rows(table: Table):
    for row in [*table.rows, *([table.total] if table.total else [])]:
        yield [_value(table, row, c) for c in table.columns]


def _reader() -> dict:
    return {"zone": timezone.get_current_timezone(), "language": translation.get_language() or settings.LANGUAGE_CODE}


def _filename(report: Report, suffix: str) -> str:
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return f"{report.slug}-{suffix}-{stamp}"


def csv_response(report: Report, table: Table) -> StreamingHttpResponse:
    chunks = tabular.csv_chunks(_columns(table), _rows(table), delimiter=";", **_reader())
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, table.key)}.csv"'
    return response


def xlsx_response(report: Report) -> HttpResponse:
    sheets = [tabular.Sheet(t.title, _columns(t), _rows(t)) for t in report.tables]
    out = io.BytesIO()  # a report's tables are summaries (tens of rows): the file is small
    tabular.xlsx_write_sheets(sheets, out, **_reader())
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "tables")}.xlsx"'
    return response
