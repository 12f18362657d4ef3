"""Lists written as spreadsheets: one writer for CSV and XLSX, whatever the list (a page of the registry, a report).

A list to export is a ``Table``: its columns (a label and a kind each), how to find its rows for a person and the
filters of the page, and how to turn one object into one row of values. The writers know nothing of models: they
take columns and an iterable of rows and write them, a row at a time, so that a list of a hundred thousand rows is
never held in memory (querysets are read with ``iterator(chunk_size=…)``; openpyxl's write-only mode streams its
sheet to disk).

Every text cell, in both formats, goes through ``csv_cells.csv_safe_cell``: a name beginning with ``=`` is written
``'=…`` and opens as text, never as a formula (openpyxl would otherwise store such a string as a formula). Amounts
stay integers (whole francs CFA) with a number format in XLSX; moments are written in the reader's zone, named in
the column's header, and dates as dates.

Tables are registered by the module that knows each list (``guarantees.web.tables``, imported when the app is
ready) so that the background job, which runs below the pages, finds them by name. The report pages write their
tables with the same writers (``reporting.exports``): one table to a CSV, every table of a report to one sheet each
of an XLSX (``xlsx_write_sheets``).
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.utils import timezone, translation

from guarantees.csv_cells import csv_safe_cell, csv_writer

TEXT = "text"
AMOUNT = "amount"  # whole francs CFA
NUMBER = "number"  # a count or a measure (hours, days, a share): int or float
DATE = "date"
MOMENT = "moment"  # an instant, written in the reader's zone

AMOUNT_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
MOMENT_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Column:
    label: object  # a (lazily) translated header
    kind: str = TEXT
    width: int = 18


@dataclass(frozen=True)
class Table:
    """One exportable list. ``rows(user, params)`` returns the queryset the page shows (same visibility, same
    filters); ``row(obj)`` its values, in the order of ``columns``."""

    name: str
    title: object
    permissions: tuple[str, ...]
    columns: tuple[Column, ...]
    rows: Callable
    row: Callable
    chunk_size: int = 2000
    extra: dict = field(default_factory=dict)

    def allowed(self, user) -> bool:
        return any(user.can(p) for p in self.permissions)

    def filename(self, fmt: str, when: datetime.datetime | None = None) -> str:
        when = when or timezone.now()
        return f"{self.name}-{when:%Y%m%d-%H%M}.{fmt}"


TABLES: dict[str, Table] = {}


def table_register(table: Table) -> Table:
    TABLES[table.name] = table
    return table


def table_get(name: str) -> Table | None:
    return TABLES.get(name)


# --- Values ----------------------------------------------------------------------------------------------------

def _in_zone(value, zone) -> datetime.datetime | None:
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.timezone.utc)
    return value.astimezone(zone)


def headers(columns: Iterable[Column], zone: datetime.tzinfo) -> list[str]:
    """The translated labels; a column of moments names its zone once, in its header."""
    from django.utils.translation import gettext

    zone_name = getattr(zone, "key", None) or str(zone)
    out = []
    for column in columns:
        label = str(column.label)
        if column.kind == MOMENT:
            # Translators: a column header of times and the zone they are written in, e.g. "Déclaré le (Africa/Niamey)".
            label = gettext("%(label)s (%(zone)s)") % {"label": label, "zone": zone_name}
        out.append(label)
    return out


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _csv_value(value, kind: str, zone):
    if value is None or value == "":
        return ""
    if kind == MOMENT and isinstance(value, datetime.datetime):
        return _in_zone(value, zone).strftime("%Y-%m-%d %H:%M")
    if kind == DATE and isinstance(value, datetime.date):
        return value.isoformat()
    if kind == AMOUNT and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == NUMBER and _is_number(value):
        return value
    return csv_safe_cell(str(value))


def _xlsx_value(value, kind: str, zone):
    """A value and its number format for openpyxl: numbers and dates as such, text escaped."""
    if value is None or value == "":
        return None, None
    if kind == MOMENT and isinstance(value, datetime.datetime):
        return _in_zone(value, zone).replace(tzinfo=None), MOMENT_FORMAT
    if kind == DATE and isinstance(value, datetime.date):
        return value, DATE_FORMAT
    if kind == AMOUNT and isinstance(value, int) and not isinstance(value, bool):
        return value, AMOUNT_FORMAT
    if kind == NUMBER and _is_number(value):
        return value, None
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # Control characters cannot be stored in an XLSX cell (openpyxl refuses the whole file): they are dropped.
    return csv_safe_cell(ILLEGAL_CHARACTERS_RE.sub("", str(value))), None


# --- Writers ---------------------------------------------------------------------------------------------------

class _Line:
    """A file-like ``csv.writer`` target that hands back what was written to it."""

    def __init__(self):
        self.buffer = io.StringIO()

    def write(self, text):
        self.buffer.write(text)

    def take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def csv_chunks(columns: tuple[Column, ...], rows: Iterable[list], *, zone: datetime.tzinfo, language: str,
               rows_per_chunk: int = 500, progress: Callable[[int], None] | None = None,
               delimiter: str = ",") -> Iterator[bytes]:
    """The CSV as UTF-8 chunks of ``rows_per_chunk`` rows, a byte-order mark first (so that a spreadsheet reads
    the accents). Translated in ``language``: the rows may be produced after the request that asked for them is
    answered (a streaming response), when its language is no longer active."""
    line = _Line()
    writer = csv_writer(line, delimiter=delimiter)
    with translation.override(language):
        writer.writerow(headers(columns, zone))
        yield ("\ufeff" + line.take()).encode("utf-8")
        kinds = [c.kind for c in columns]
        count = 0
        for values in rows:
            writer.writerow([_csv_value(v, k, zone) for v, k in zip(values, kinds)])
            count += 1
            if count % rows_per_chunk == 0:
                yield line.take().encode("utf-8")
                if progress is not None:
                    progress(count)
        rest = line.take()
        if rest:
            yield rest.encode("utf-8")
        if progress is not None:
            progress(count)


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its title, its columns and its rows (an iterable, read once)."""

    title: object
    columns: tuple[Column, ...]
    rows: Iterable[list]


def _sheet_title(title, taken: set[str]) -> str:
    """A title Excel accepts — at most 31 characters, none of ``[]:*?/\\`` — unique in the workbook (a second
    "Total" becomes "Total (2)")."""
    name = str(title or "export").lstrip("'").translate({ord(c): " " for c in "[]:*?/\\"})[:31].strip() or "export"
    base, n = name, 2
    while name in taken:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(name)
    return name


def xlsx_write(columns: tuple[Column, ...], rows: Iterable[list], out, *, zone: datetime.tzinfo, language: str,
               title: str = "", progress: Callable[[int], None] | None = None, progress_every: int = 500) -> int:
    """Write the rows into ``out`` (a binary file) as one sheet, openpyxl in write-only mode (each row goes to
    disk as it is appended). Returns the number of rows written."""
    return xlsx_write_sheets([Sheet(title, columns, rows)], out, zone=zone, language=language, progress=progress,
                             progress_every=progress_every)


def xlsx_write_sheets(sheets: Iterable[Sheet], out, *, zone: datetime.tzinfo, language: str,
                      progress: Callable[[int], None] | None = None, progress_every: int = 500) -> int:
    """Write every sheet into ``out`` (a binary file), in order, openpyxl in write-only mode. Returns the number
    of rows written, all sheets together."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    count = 0
    with translation.override(language):
        bold = Font(bold=True)
        for one in sheets:
            sheet = workbook.create_sheet(title=_sheet_title(one.title, taken))
            for index, column in enumerate(one.columns, start=1):
                sheet.column_dimensions[get_column_letter(index)].width = column.width
            sheet.freeze_panes = "A2"
            header = []
            for text in headers(one.columns, zone):
                cell = WriteOnlyCell(sheet, value=csv_safe_cell(text))
                cell.font = bold
                header.append(cell)
            sheet.append(header)
            kinds = [c.kind for c in one.columns]
            for values in one.rows:
                cells = []
                for value, kind in zip(values, kinds):
                    value, number_format = _xlsx_value(value, kind, zone)
                    if number_format:  # a styled cell costs twice a plain value: only where a format is needed
                        cell = WriteOnlyCell(sheet, value=value)
                        cell.number_format = number_format
                        value = cell
                    cells.append(value)
                sheet.append(cells)
                count += 1
                if progress is not None and count % progress_every == 0:
                    progress(count)
    workbook.save(out)
    if progress is not None:
        progress(count)
    return count
