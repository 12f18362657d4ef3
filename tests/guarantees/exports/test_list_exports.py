"""Exports of the list pages streamed at once: the page's rows (its visibility and filters), translated headers,
amounts as integers, moments in the reader's zone, every text cell safe from formula injection."""

import datetime

import pytest
from django.urls import reverse

from accounts.roles import Role
from guarantees.models import DischargeFile, JobStatus, Notification, TaskFailure
from guarantees.services.enquiries import enquiry_open
from guarantees.services.notifications import notice_send
from tests.factories import member

from .conftest import FORMULA_NAME, client_for, csv_rows, xlsx_rows


def export(user, table, fmt="csv", **params):
    return client_for(user).get(reverse("guarantees:export", args=[table, fmt]), params)


def column(rows, header):
    index = rows[0].index(header)
    return [r[index] for r in rows[1:]]


def test_guarantees_csv_lists_what_the_page_lists_and_nothing_of_another_bank(world):
    rows = csv_rows(export(world.a.checker, "guarantees"))
    assert rows[0][:3] == ["GRN", "Numéro de demande", "Statut"]  # French by default
    assert column(rows, "GRN") == [world.ga.grn]
    rows_b = csv_rows(export(world.b.checker, "guarantees"))
    assert column(rows_b, "GRN") == [world.gb.grn]
    everyone = csv_rows(export(world.secretariat, "guarantees"))
    assert sorted(column(everyone, "GRN")) == sorted([world.ga.grn, world.gb.grn])


def test_guarantees_export_applies_the_filters_of_the_page(world):
    assert column(csv_rows(export(world.secretariat, "guarantees", bank=world.b.bank.pk)), "GRN") == [world.gb.grn]
    assert csv_rows(export(world.secretariat, "guarantees", status="submitted"))[1:] == []
    page = client_for(world.secretariat).get(reverse("guarantees:list"), {"bank": world.b.bank.pk})
    assert [g.grn for g in page.context["page"].object_list] == [world.gb.grn]
    assert 'href="/exports/guarantees.csv?bank=%d"' % world.b.bank.pk in page.content.decode()


def test_transits_visibility_follows_the_page_for_each_role(world):
    def refs(user, **params):
        return sorted(column(csv_rows(export(user, "transits", **params)), "Référence de la déclaration"))

    assert refs(world.a.agent) == ["TG-A-001", "TG-A-002"]
    assert refs(world.b.checker) == ["TG-B-001"]
    assert refs(world.ne_officer) == ["TG-B-001"]  # only the transit whose route crosses Niger
    assert refs(world.a.officer) == ["TG-A-001", "TG-A-002", "TG-B-001"]  # both routes cross Burkina Faso
    assert refs(world.tg_officer) == ["TG-A-001", "TG-A-002", "TG-B-001"]
    assert refs(world.tg_officer, office="NENIAM") == ["TG-B-001"]
    assert refs(world.tg_officer, q="A-002") == ["TG-A-002"]
    assert refs(world.tg_officer, declared_before="2026-03-03") == ["TG-A-001", "TG-B-001"]


def test_amounts_are_integers_and_moments_in_the_readers_zone(world):
    rows = csv_rows(export(world.b.agent, "transits"))  # a Nigerien forwarder reads Niamey time
    header = rows[0]
    declared = "Déclaré (Africa/Niamey)"
    assert declared in header
    assert column(rows, declared) == ["2026-03-03 00:30"]
    assert column(rows, "Montant retenu au départ (FCFA)") == ["7000000"]
    rows_a = csv_rows(export(world.a.agent, "transits"))
    declared_a = [h for h in rows_a[0] if h.endswith("(Africa/Ouagadougou)")][0]
    assert "2026-03-02 23:30" in column(rows_a, declared_a)


def test_english_headers_for_a_reader_in_english(world):
    world.a.agent.language = "en"
    world.a.agent.save(update_fields=["language"])
    client = client_for(world.a.agent)
    client.cookies["cu_language"] = "en"
    response = client.get(reverse("guarantees:export", args=["transits", "csv"]))
    assert csv_rows(response)[0][0] == "Declaration reference"


def test_a_formula_in_a_name_is_written_as_text_in_csv_and_xlsx(world):
    rows = csv_rows(export(world.a.agent, "transits"))
    assert column(rows, "Principal obligé") == ["'" + FORMULA_NAME] * 2
    response = export(world.a.agent, "transits", "xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = xlsx_rows(b"".join(response.streaming_content))
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    principal = [row[2] for row in values[1:]]
    assert principal == ["'" + FORMULA_NAME] * 2
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_xlsx_keeps_amounts_as_numbers_with_a_format_and_dates_as_dates(world):
    response = export(world.secretariat, "guarantees", "xlsx")
    sheet = xlsx_rows(b"".join(response.streaming_content))
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    amount = rows[1][header.index("Montant de référence (FCFA)")]
    assert isinstance(amount.value, int) and amount.value in (100_000_000, 80_000_000)
    assert amount.number_format == "#,##0"
    valid_until = rows[1][header.index("Valable jusqu’au")] if "Valable jusqu’au" in header else rows[1][12]
    assert isinstance(valid_until.value, datetime.datetime)  # openpyxl reads a date cell back as a datetime
    assert valid_until.number_format == "yyyy-mm-dd"


def test_claims_and_enquiries_exports_follow_visibility_and_status_filter(world):
    transit = world.ga.transits.get(declaration_ref="TG-A-002")
    enquiry_open(transit=transit, by=world.a.officer, ground="irregular", reason="=1+1 pas d'apurement")
    assert column(csv_rows(export(world.a.agent, "enquiries")), "Référence de la déclaration") == ["TG-A-002"]
    assert csv_rows(export(world.b.agent, "enquiries"))[1:] == []
    assert csv_rows(export(world.a.agent, "enquiries", status="closed"))[1:] == []
    assert len(csv_rows(export(world.a.agent, "enquiries", status="open"))) == 2
    assert csv_rows(export(world.b.checker, "claims"))[1:] == []
    assert len(csv_rows(export(world.a.checker, "claims"))[0]) == 12


def test_notifications_export_is_the_readers_own(world):
    other = member(world.secretariat.organisation, Role.SECRETARIAT_ADMIN)
    notice_send(event="task_failed", organisation=world.secretariat.organisation, permission="task.retry",
                params={"task": "=cmd|' /C calc'!A0", "error": "X"})
    mine = csv_rows(export(world.secretariat, "notifications"))
    theirs = csv_rows(export(other, "notifications"))
    assert len(mine) == 2 and len(theirs) == 2  # both were told, each exports only their own row
    agents = csv_rows(export(world.a.agent, "notifications"))[1:]
    assert len(agents) == Notification.objects.filter(recipient=world.a.agent).count()
    assert not any("calc" in cell for row in agents for cell in row)
    assert csv_rows(export(world.secretariat, "notifications", unread="1"))[1:] == mine[1:]


def test_discharge_files_failed_tasks_and_refused_events(world):
    DischargeFile.objects.create(sender=world.togo, filename="=evil.csv", format="csv", content=b"",
                                 status=JobStatus.DONE, total=3, done=3)
    rows = csv_rows(export(world.tg_officer, "discharge-files"))
    assert [r[0] for r in rows[1:]] == ["'=evil.csv"]
    assert csv_rows(export(world.ne_officer, "discharge-files"))[1:] == []
    TaskFailure.objects.create(task_id="t1", task_name="guarantees.tasks.x", exception="ValueError", error="@boom")
    failures = csv_rows(export(world.secretariat, "failed-tasks"))
    assert [r[3] for r in failures[1:]] == ["'@boom"]
    assert csv_rows(export(world.secretariat, "failed-tasks", state="resolved"))[1:] == []
    assert csv_rows(export(world.secretariat, "refused-events"))[0][0].startswith("Reçu")


@pytest.mark.parametrize("table", ["failed-tasks", "refused-events", "discharge-files"])
def test_a_list_the_person_may_not_see_is_refused(world, table):
    assert export(world.a.agent, table).status_code == 403


def test_unknown_list_or_format_is_not_found(world):
    assert export(world.a.agent, "ledger").status_code == 404
    assert export(world.a.agent, "transits", "pdf").status_code == 404


def test_signed_out_is_sent_to_sign_in(world, client):
    response = client.get(reverse("guarantees:export", args=["transits", "csv"]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_number_of_queries_does_not_grow_with_the_rows(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(user, table):
        client = client_for(user)
        with CaptureQueriesContext(connection) as captured:
            csv_rows(client.get(reverse("guarantees:export", args=[table, "csv"])))
        return len(captured)

    transit = world.ga.transits.get(declaration_ref="TG-A-002")
    enquiry_open(transit=transit, by=world.a.officer, ground="irregular", reason="Scellés")
    before = {t: queries(world.tg_officer, t) for t in ("transits", "enquiries", "guarantees")}
    for n in range(4):
        world.declare(world.gb, f"TG-B-1{n}", to="NENIAM", corridor="LOM-NIA")
    for ref in ("TG-B-10", "TG-B-11"):
        enquiry_open(transit=world.gb.transits.get(declaration_ref=ref), by=world.tg_officer, ground="irregular",
                     reason="Scellés")
    after = {t: queries(world.tg_officer, t) for t in ("transits", "enquiries", "guarantees")}
    assert after == before


def test_holds_export_of_one_guarantee_from_its_page(world):
    page = client_for(world.a.agent).get(reverse("guarantees:detail", args=[world.ga.pk])).content.decode()
    assert f'href="/exports/holds.csv?guarantee={world.ga.pk}"' in page
    rows = csv_rows(export(world.a.agent, "holds", guarantee=world.ga.pk))
    assert sorted(column(rows, "Transit")) == ["TG-A-001", "TG-A-002"]
    assert sorted(column(rows, "Montant pris (FCFA)")) == ["2000000", "4500000"]
    # Another organisation's guarantee, asked by its number, gives nothing; the secretariat sees both.
    assert csv_rows(export(world.a.agent, "holds", guarantee=world.gb.pk))[1:] == []
    assert csv_rows(export(world.b.checker, "holds", guarantee=world.ga.pk))[1:] == []
    assert len(csv_rows(export(world.secretariat, "holds"))) == 4
    assert csv_rows(export(world.secretariat, "holds", status="released"))[1:] == []
