"""A customs officer exports a long transit list: above the (lowered) threshold the export becomes a job, its page's
progress bar moves as the rows are written (the job records its progress every few rows; the site's script polls
it, no inline script), and the file is downloaded and opened with openpyxl. A short list streams at once."""

import dataclasses
import datetime
import threading
import time
from io import BytesIO

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Organisation
from accounts.roles import OrganisationKind, Role
from guarantees import tabular
from guarantees.models import ExportJob, JobStatus
from tests.browser.conftest import screenshot
from tests.browser.test_transits_pages import _user, sign_in_with_totp, transits  # noqa: F401  (fixture)
from tests.builders import declare_as_of

pytestmark = pytest.mark.browser

ROWS = 40


@pytest.fixture
def many_transits(transits):  # noqa: F811

    computed, _late = transits
    togo = Organisation.objects.get(kind=OrganisationKind.CUSTOMS, country="TG")
    now = timezone.now()
    for n in range(ROWS - 2):
        declare_as_of(sender=togo, guarantee=computed.guarantee, data={
            "declaration_ref": f"TG-LOME-2026-T-{10000 + n}", "office_of_departure": "TGLOME",
            "office_of_destination": "BFOUAG", "corridor": "LOM-OUA",
            "declared_at": now - datetime.timedelta(hours=n + 1), "amount": 1_000_000 + n,
        })


@pytest.fixture
def slow_background_jobs(settings, monkeypatch):
    """Jobs run in a thread of their own, as a worker would, a row every 60 ms: long enough to be watched."""
    from celery import current_app

    from guarantees.operations import exports

    settings.REGISTRY_EXPORT_STREAM_MAX_ROWS = 10
    settings.REGISTRY_EXPORT_PROGRESS_EVERY = 4
    settings.REGISTRY_EXPORT_POLL_SECONDS = 1
    table = tabular.TABLES["transits"]

    def slow_row(obj):
        time.sleep(0.06)
        return table.row(obj)

    monkeypatch.setitem(tabular.TABLES, "transits", dataclasses.replace(table, row=slow_row))
    threads = []

    def run_in_a_thread(task_name, job_id):
        def work():
            try:
                current_app.tasks[task_name].apply(args=(job_id,))
            finally:
                connection.close()

        from django.db import transaction

        def start():
            thread = threading.Thread(target=work, daemon=True)
            threads.append(thread)
            thread.start()

        transaction.on_commit(start)

    monkeypatch.setattr(exports, "queue_after_commit", run_in_a_thread)
    yield threads
    for thread in threads:
        thread.join(timeout=30)


def test_a_long_export_shows_its_progress_moving_then_downloads(page, request, many_transits, slow_background_jobs):
    from openpyxl import load_workbook

    console = []
    page.on("console", lambda message: console.append(message.text))
    officer = _user(Role.CUSTOMS_OFFICER, "customs-bf")
    sign_in_with_totp(page, officer)
    page.goto("/transits/?corridor=LOM-OUA")
    page.wait_for_load_state()
    link = page.locator("[data-testid=export-xlsx]")
    assert link.get_attribute("href") == "/exports/transits.xlsx?corridor=LOM-OUA"
    link.click()
    page.wait_for_load_state()
    screenshot(page, f"{request.node.name}-offer")
    assert not ExportJob.objects.exists()  # following the link starts nothing
    page.click("[data-testid=export-start]")
    page.wait_for_url("**/exports/*/")
    job = ExportJob.objects.get(owner=officer)
    assert job.params == {"corridor": ["LOM-OUA"]}

    seen = []
    midway_shot = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if page.locator("[data-testid=export-download]").count():
                break
            value = page.locator("[data-testid=export-progress]").evaluate("el => el.value")
        except Exception:  # noqa: BLE001 - the page reloads itself when the job is done
            continue
        if not seen or seen[-1] != value:
            seen.append(value)
        if 0 < value < 100 and not midway_shot:
            screenshot(page, f"{request.node.name}-midway")
            midway_shot = True
        time.sleep(0.15)
    page.wait_for_selector("[data-testid=export-download]")
    screenshot(page, f"{request.node.name}-done")
    moving = [v for v in seen if 0 < v < 100]
    assert len(moving) >= 2 and moving == sorted(moving), seen  # the bar moved forward, in steps
    assert page.locator("[data-testid=export-progress]").evaluate("el => el.value") == 100
    assert page.locator("[data-testid=job-status]").inner_text().strip() == "Terminé"
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m], console

    with page.expect_download() as download_info:
        page.click("[data-testid=export-download]")
    content = open(download_info.value.path(), "rb").read()
    sheet = load_workbook(BytesIO(content)).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Référence de la déclaration"
    assert len(values) == ROWS + 1
    job.refresh_from_db()
    assert (job.status, job.total, job.done) == (JobStatus.DONE, ROWS, ROWS)


def test_a_short_export_downloads_at_once(page, request, transits):  # noqa: F811
    sign_in_with_totp(page, _user(Role.FORWARDER_AGENT, "forwarder-bf"))
    page.goto("/transits/")
    page.wait_for_load_state()
    screenshot(page, f"{request.node.name}-list")
    with page.expect_download() as download_info:
        page.click("[data-testid=export-csv]")
    text = open(download_info.value.path(), encoding="utf-8-sig").read()
    assert text.splitlines()[0].startswith("Référence de la déclaration,")
    assert len(text.splitlines()) == 3 and not ExportJob.objects.exists()
