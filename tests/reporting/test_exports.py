"""Exports of the report pages: the XLSX opens with openpyxl with a sheet per table and numbers as numbers; the
CSV is streamed with the page's filters and cannot carry a formula; both languages."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from guarantees.csv_cells import FORMULA_STARTS
from reporting.exports import csv_response
from reporting.tables import AMOUNT, TEXT, Column, Report, Section, Table

pytestmark = pytest.mark.django_db


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(body), delimiter=";"))


def test_xlsx_opens_with_openpyxl_one_sheet_per_table(world):
    client = world.client(world.s.checker)
    response = client.get(reverse("reporting:export_xlsx", args=["bank-exposure"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames[:3] == ["By freight forwarder", "By corridor", "By country of destination"]
    rows = list(book["By freight forwarder"].iter_rows(values_only=True))
    assert rows[0] == ("Freight forwarder", "Guarantees", "Reference amount", "Held", "Claimed, unpaid", "Paid",
                       "Available")
    assert rows[1] == (world.s.forwarder.name, 1, 100_000_000, 8_000_000, 0, 3_000_000, 89_000_000)
    assert rows[-1][0] == "Total"


def test_xlsx_in_french(world):
    response = world.client(world.s.checker, language="fr").get(reverse("reporting:export_xlsx",
                                                                        args=["bank-exposure"]))
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert "Par commissionnaire" in book.sheetnames[0]
    header = next(book.worksheets[0].iter_rows(values_only=True))
    assert header[0] == "Commissionnaire" and header[-1] == "Disponible"


def test_csv_applies_the_filters_of_the_page(world):
    client = world.client(world.tg_officer)
    url = reverse("reporting:export_csv", args=["customs-open"])
    rows = _csv(client.get(url, {"table": "open_by_corridor"}))
    assert rows[0][:3] == ["Corridor", "Name", "Open transits"]
    assert {r[0] for r in rows[1:-1]} == {"LOM-OUA", "LOM-NIA"}
    filtered = _csv(client.get(url, {"table": "open_by_corridor", "corridor": "LOM-NIA"}))
    assert [r[0] for r in filtered[1:-1]] == ["LOM-NIA"] and filtered[1][2] == "1"


def test_csv_cells_cannot_become_formulas(world, rf):
    evil = '=HYPERLINK("http://evil.example","x")'
    table = Table("t", "T", [Column("name", "Name", TEXT), Column("amount", "Amount", AMOUNT)],
                  [{"name": evil, "amount": -500}, {"name": "+cmd", "amount": 12}, {"name": "@SUM(A1)", "amount": 0}])
    report = Report("x", "X", "", [Section("s", "S", tables=[table])])
    rows = _csv(csv_response(report, table))
    assert rows[1] == ["'" + evil, "-500"]  # the text is escaped, the number stays a number
    assert rows[2][0] == "'+cmd" and rows[3][0] == "'@SUM(A1)"
    assert not any(cell.startswith(FORMULA_STARTS) for row in rows[1:] for cell in row[:1])


def test_a_forwarder_named_like_a_formula_is_escaped_in_the_export(world):
    world.s.forwarder.name = "=1+2"
    world.s.forwarder.save(update_fields=["name"])
    client = world.client(world.s.checker)
    rows = _csv(client.get(reverse("reporting:export_csv", args=["bank-exposure"]), {"table": "by_forwarder"}))
    assert rows[1][0] == "'=1+2"
    book = load_workbook(io.BytesIO(client.get(reverse("reporting:export_xlsx", args=["bank-exposure"])).content))
    assert book.worksheets[0]["A2"].value == "'=1+2" and book.worksheets[0]["A2"].data_type == "s"


@pytest.mark.parametrize(("language", "title", "column"), [
    ("fr", "Délais de mainlevée", "Bureau"),
    ("en", "Release lead times", "Office"),
])
def test_pages_read_in_both_languages(world, language, title, column):
    body = world.client(world.tg_officer, language=language).get(
        reverse("reporting:page", args=["customs-release-times"])).content.decode()
    assert title in body and f">{column}<" in body


def test_forwarder_balances_export_one_column_per_guarantee(world):
    rows = _csv(world.client(world.s.agent).get(reverse("reporting:export_csv", args=["forwarder"]),
                                                {"table": "balances"}))
    assert rows[0] == ["Month", world.g1.grn]
    assert rows[-1][1] == "89000000" and len(rows) == 1 + 12
    forecast = _csv(world.client(world.s.agent).get(reverse("reporting:export_csv", args=["forwarder"]),
                                                    {"table": "forecast"}))
    # 89 000 000 available at a net 12 000 000 per 30 days: 222 days.
    assert forecast[1][0] == world.g1.grn and forecast[1][1] == "89000000" and forecast[1][-1] == "222"


def test_moments_are_written_in_the_readers_zone_named_in_the_header(world):
    import zoneinfo

    from guarantees.models import Transit

    rows = _csv(world.client(world.s.agent).get(reverse("reporting:export_csv", args=["forwarder"]),
                                                {"table": "in_progress"}))
    header = rows[0][3]
    assert header.startswith("Declared at (") and header.endswith(")")
    zone = zoneinfo.ZoneInfo(header[len("Declared at ("):-1])
    transit = Transit.objects.get(declaration_ref=rows[1][0])
    assert rows[1][3] == transit.declared_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
