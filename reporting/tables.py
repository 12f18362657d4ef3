"""What a report page is made of, the same for the page, the CSV and the XLSX: sections holding tables (columns
with a label and a kind, rows as dicts), figures and a chart. The page formats a cell by its kind; the exports
write the raw value (amounts as whole-franc integers) so that a spreadsheet can add them up."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils.safestring import SafeString

# Kinds of a column: how a page prints a cell, and how an export writes it.
TEXT, AMOUNT, INT, DATE, MONTH, HOURS, DAYS, PCT, COUNTRY, CHOICE, MOMENT = (
    "text", "amount", "int", "date", "month", "hours", "days", "pct", "country", "choice", "moment",
)


@dataclass
class Column:
    key: str
    label: str
    kind: str = TEXT
    choices: dict | None = None  # CHOICE: value → translated label


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict]
    total: dict | None = None
    empty: str = ""

    def raw(self, row: dict, column: Column):
        """The value an export writes: numbers as numbers, labels translated, dates as dates."""
        value = row.get(column.key)
        if column.kind == CHOICE and column.choices is not None:
            return str(column.choices.get(value, value or ""))
        if column.kind == COUNTRY:
            from reporting.labels import country_label

            return country_label(value)
        if column.kind in (HOURS, DAYS) and value is not None:
            return round(float(value), 1)
        if column.kind == MOMENT and isinstance(value, datetime.datetime):
            return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        if value is not None and not isinstance(value, (int, float, str, datetime.date)):
            return str(value)
        return value


@dataclass
class Fact:
    label: str
    value: object
    kind: str = TEXT
    testid: str = ""


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    facts: list[Fact] = field(default_factory=list)
    chart: SafeString | None = None
    tables: list[Table] = field(default_factory=list)


@dataclass
class Report:
    slug: str
    title: str
    intro: str
    sections: list[Section]
    as_of: datetime.datetime | None = None

    @property
    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    def table(self, key: str | None) -> Table | None:
        tables = self.tables
        if not key:
            return tables[0] if tables else None
        return next((t for t in tables if t.key == key), None)
