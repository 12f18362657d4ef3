"""The reconciliation of a customs administration's open transits with the holds open here: the report, its
CSV, the API and who sees what."""

import csv
import datetime
import io

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create
from guarantees.errors import InvalidDeclaration, NotAllowed
from guarantees.models import DifferenceKind, Notification, ReconciliationRun, ReconciliationStatus
from guarantees.operations.reconciliation import (
    reconcile_pending,
    reconciliation_csv,
    reconciliation_parse_csv,
    reconciliation_receive,
    reconciliation_run,
)
from guarantees.services.events import transit_event_apply, transit_event_receive
from tests.accounts.helpers import sign_in_as
from tests.builders import declare, event

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_here(world):
    """Togo declared four transits on the guarantee; one is discharged since."""
    for ref, amount in (("R-1", 1_000_000), ("R-2", 2_000_000), ("R-3", 3_000_000), ("R-4", 4_000_000)):
        declare(world, ref, amount=amount)
    ev, _ = transit_event_receive(sender=world.burkina, data=event("R-4", "M-R-4"))
    transit_event_apply(event_id=ev.pk)
    return world


def _report(run):
    return {(line.kind, line.declaration_ref, line.amount_here, line.amount_there) for line in run.lines.all()}


def test_the_report_lists_every_kind_of_difference(open_here, django_capture_on_commit_callbacks):
    w = open_here
    listed = [
        {"declaration_ref": "R-1", "amount": 1_000_000},  # matches
        {"declaration_ref": "R-2", "amount": 2_500_000},  # amount differs
        {"declaration_ref": "R-4", "amount": 4_000_000},  # discharged here, still open there
        {"declaration_ref": "R-9", "amount": 9_000_000},  # unknown here
    ]  # R-3 is held here and absent there
    with django_capture_on_commit_callbacks(execute=True):
        run = reconciliation_receive(customs=w.togo, transits=listed, by=w.tg_officer, source="page")
    run.refresh_from_db()
    assert run.status == ReconciliationStatus.DONE
    assert _report(run) == {
        (DifferenceKind.AMOUNT_DIFFERS, "R-2", 2_000_000, 2_500_000),
        (DifferenceKind.CLOSED_THERE, "R-3", 3_000_000, None),
        (DifferenceKind.CLOSED_HERE, "R-4", None, 4_000_000),
        (DifferenceKind.UNKNOWN_HERE, "R-9", None, 9_000_000),
    }
    assert (run.listed, run.open_here, run.matched, run.differences) == (4, 3, 1, 4)
    # That country's customs and the secretariat are told (those who may read reconciliations).
    told = {n.recipient for n in Notification.objects.filter(event="reconciliation_done")}
    assert told == {w.tg_officer, w.secretariat}


def test_comparing_twice_changes_nothing(open_here):
    run = reconciliation_receive(customs=open_here.togo, transits=[{"declaration_ref": "R-1", "amount": None}])
    reconciliation_run(run_id=run.pk)
    lines = _report(run)
    assert reconciliation_run(run_id=run.pk).status == ReconciliationStatus.DONE
    assert _report(run) == lines and run.lines.count() == 2  # closed there; no amount to compare


def test_transits_declared_or_closed_after_the_list_was_taken_are_not_differences(open_here):
    as_of = timezone.now() - datetime.timedelta(hours=3)  # before the declarations (2 h ago)
    run = reconciliation_receive(customs=open_here.togo, transits=[{"declaration_ref": "R-4", "amount": None}],
                                 as_of=as_of)
    run = reconciliation_run(run_id=run.pk)
    assert run.differences == 0 and run.open_here == 0 and run.matched == 1


def test_another_country_compares_only_its_own_declarations(open_here):
    run = reconciliation_receive(customs=open_here.burkina, transits=[])
    run = reconciliation_run(run_id=run.pk)
    assert run.open_here == 0 and run.differences == 0


def test_only_customs_send_a_list_and_a_bad_list_is_refused_whole(open_here):
    with pytest.raises(NotAllowed):
        reconciliation_receive(customs=open_here.s.forwarder, transits=[])
    with pytest.raises(InvalidDeclaration) as exc:
        reconciliation_receive(customs=open_here.togo, transits=[
            {"declaration_ref": "R-1", "amount": 5}, {"declaration_ref": "", "amount": -1},
            {"declaration_ref": "R-1", "amount": 6},
        ])
    assert set(exc.value.extra["errors"]) == {"transits.2", "transits.3"}
    assert not ReconciliationRun.objects.exists()


def test_the_csv_has_one_line_per_difference_and_reads_back(open_here):
    run = reconciliation_receive(customs=open_here.togo, transits=[{"declaration_ref": "R-9", "amount": 7}])
    run = reconciliation_run(run_id=run.pk)
    rows = list(csv.DictReader(io.StringIO(reconciliation_csv(run=run))))
    assert {(r["kind"], r["declaration_ref"]) for r in rows} == {
        ("closed_there", "R-1"), ("closed_there", "R-2"), ("closed_there", "R-3"), ("unknown_here", "R-9"),
    }
    assert {r["amount_there"] for r in rows if r["kind"] == "unknown_here"} == {"7"}


def test_a_csv_upload_is_parsed_with_its_header():
    rows = reconciliation_parse_csv("\ufeffdeclaration_ref,amount\nR-1,1 000 000\nR-2,\n".encode())
    assert rows == [{"declaration_ref": "R-1", "amount": 1_000_000}, {"declaration_ref": "R-2", "amount": None}]
    with pytest.raises(InvalidDeclaration):
        reconciliation_parse_csv(b"ref;amount\nR-1;5\n")


def test_a_list_left_waiting_is_compared_by_the_daily_job(open_here, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # its message is lost
        run = reconciliation_receive(customs=open_here.togo, transits=[])
    ReconciliationRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    assert reconcile_pending() == [run.pk]
    assert reconcile_pending() == []


# --- API ------------------------------------------------------------------------------------------------------

def _key_client(organisation) -> APIClient:
    _key, raw = api_key_create(organisation=organisation, name="SIDONIA")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def test_a_customs_system_sends_its_list_and_reads_the_report(open_here, django_capture_on_commit_callbacks):
    client = _key_client(open_here.togo)
    body = {"as_of": timezone.now().isoformat(), "transits": [
        {"declaration_ref": "R-1", "amount": 1_000_000}, {"declaration_ref": "R-2"}, {"declaration_ref": "R-3",
                                                                                       "amount": None},
    ]}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/reconciliations", body, format="json")
    assert response.status_code == 202, response.content
    pk = response.json()["reconciliation"]
    assert response["Location"] == f"/api/v1/reconciliations/{pk}"

    report = client.get(f"/api/v1/reconciliations/{pk}").json()
    assert report["status"] == "done" and report["matched"] == 3 and report["differences"] == []
    # Another country's system does not see it; nor does a forwarder's session.
    assert _key_client(open_here.burkina).get(f"/api/v1/reconciliations/{pk}").status_code == 404
    agent = APIClient()
    sign_in_as(agent, open_here.s.agent)
    assert agent.get(f"/api/v1/reconciliations/{pk}").status_code == 403


def test_the_api_refuses_a_bad_list_by_field(open_here):
    client = _key_client(open_here.togo)
    response = client.post("/api/v1/reconciliations", {"transits": [{"declaration_ref": "R 1", "amount": 1.5}]},
                           format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "transits.0.declaration_ref" in errors and "transits.0.amount" in errors
    assert client.post("/api/v1/reconciliations", {}, format="json").status_code == 400
    assert APIClient().post("/api/v1/reconciliations", {"transits": []}, format="json").status_code == 401
