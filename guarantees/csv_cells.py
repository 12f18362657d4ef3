"""Every CSV the registry writes goes through here, so that a cell cannot become a spreadsheet formula.

A reconciliation list, a discharge file or a name typed on a page can carry ``=HYPERLINK("http://…","x")``;
written as it came into a CSV that somebody at the secretariat opens in a spreadsheet, it would run there
(OWASP "CSV injection"). A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is therefore written with a single quote in front, which spreadsheets show as text. Numbers passed as numbers
(``int``, ``Decimal``, ``float``; never ``bool``, which is text) stay numbers: a negative amount written from
an ``int`` stays ``-500`` and reads back as one, since no formula can hide in a number. The same text in a
``str`` is escaped: the writer cannot tell a number from a formula in text. Reading such a file back into the
registry therefore sees the quote; the CSVs written here are reports for people.
"""

import csv
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_cell(value):
    """``value`` as a cell no spreadsheet will evaluate: numbers as they are, ``None`` empty, text escaped."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through ``csv_safe_cell``."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row):
        return self._writer.writerow([csv_safe_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(out, **options) -> SafeCsvWriter:
    return SafeCsvWriter(out, **options)
