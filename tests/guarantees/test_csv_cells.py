"""No cell of a CSV written by the registry is a spreadsheet formula; numbers stay numbers."""

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from guarantees.csv_cells import csv_safe_cell, csv_writer


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil","x")', "+33 6 12", "-2+3+cmd|' /C calc'!A0",
                                  "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "-500"])
def test_text_that_a_spreadsheet_would_evaluate_is_quoted(text):
    assert csv_safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["TG-LOME-2026-T-004512", "a=b", " =1", "", "Ségou"])
def test_ordinary_text_is_left_alone(text):
    assert csv_safe_cell(text) == text


def test_numbers_written_as_numbers_stay_numbers_even_negative():
    out = io.StringIO()
    csv_writer(out).writerow([-500, 0, Decimal("-12"), 1.5, None, True, "-500"])
    assert out.getvalue() == "-500,0,-12,1.5,,True,'-500\r\n"
    assert next(csv.reader(io.StringIO(out.getvalue())))[0] == "-500"


def test_every_csv_the_project_writes_goes_through_the_safe_writer():
    """A new export written with the bare ``csv.writer`` would let formulas through: there is none."""
    base = Path(settings.BASE_DIR)
    offenders = []
    for folder in ("accounts", "config", "guarantees", "reporting"):
        for path in (base / folder).rglob("*.py"):
            if path.name == "csv_cells.py" or "migrations" in path.parts:
                continue
            if re.search(r"\bcsv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(base)))
    assert offenders == []
