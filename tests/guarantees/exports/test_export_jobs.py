"""Exports above the threshold run as background jobs: progress recorded in steps, the file for its owner only,
a failure shown with its reason and listed with the failed tasks, files removed when they expire."""

import dataclasses
import datetime

from urllib.parse import urlencode

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from guarantees import tabular
from guarantees.models import ExportJob, JobStatus, TaskFailure
from guarantees.operations.exports import export_files_sweep
from guarantees.operations.failures import task_failure_retry

from .conftest import FORMULA_NAME, client_for, csv_rows, xlsx_rows


@pytest.fixture
def small_threshold(settings):
    settings.REGISTRY_EXPORT_STREAM_MAX_ROWS = 2
    settings.REGISTRY_EXPORT_PROGRESS_EVERY = 1


@pytest.fixture
def spied_table(monkeypatch):
    """The transits table, its ``row`` watching the job's recorded progress in the database as each row is
    written (the job's own ``done``, read back as the page's poll would)."""
    seen: list[int] = []
    table = tabular.TABLES["transits"]

    def row(obj):
        job = ExportJob.objects.order_by("-pk").first()
        seen.append(job.done)
        return table.row(obj)

    monkeypatch.setitem(tabular.TABLES, "transits", dataclasses.replace(table, row=row))
    return seen


def start(client, table="transits", fmt="csv", django_capture_on_commit_callbacks=None, **params):
    """The export link followed; when it offers to prepare the file in the background, its button pressed."""
    url = reverse("guarantees:export", args=[table, fmt]) + ("?" + urlencode(params) if params else "")
    offer = client.get(url)
    if offer.streaming or offer.status_code != 200 or 'data-testid="export-start"' not in offer.content.decode():
        return offer
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(url)


def test_a_large_export_runs_as_a_job_to_done_with_progress_in_steps(
        world, small_threshold, spied_table, django_capture_on_commit_callbacks):
    client = client_for(world.tg_officer)
    offer = client.get(reverse("guarantees:export", args=["transits", "csv"]))  # a GET starts nothing
    assert offer.status_code == 200 and "plus de 2 lignes" in offer.content.decode()
    assert not ExportJob.objects.exists()
    response = start(client, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(owner=world.tg_officer)
    assert response.status_code == 302 and response["Location"] == reverse("guarantees:export_job", args=[job.pk])
    assert (job.status, job.total, job.done, job.table, job.format) == (JobStatus.DONE, 3, 3, "transits", "csv")
    assert spied_table == [0, 1, 2]  # the progress moved a row at a time while it was written
    assert job.expires_at - job.finished_at == datetime.timedelta(hours=24)
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="export-download"' in html and 'value="100"' in html
    assert "<script" not in html.split("</main>")[0].split("<main")[-1]  # no inline script (strict CSP)
    status = client.get(reverse("guarantees:export_job_status", args=[job.pk])).json()
    assert status == {"status": "done", "total": 3, "done": 3, "percent": 100, "finished": True}
    download = client.get(reverse("guarantees:export_job_download", args=[job.pk]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    rows = csv_rows(download)
    assert sorted(r[0] for r in rows[1:]) == ["TG-A-001", "TG-A-002", "TG-B-001"]
    assert {r[2] for r in rows[1:]} >= {"'" + FORMULA_NAME}


def test_a_job_keeps_the_filters_and_visibility_of_its_owner(
        world, small_threshold, django_capture_on_commit_callbacks, settings):
    settings.REGISTRY_EXPORT_STREAM_MAX_ROWS = 1
    client = client_for(world.a.agent)
    start(client, fmt="xlsx", django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(owner=world.a.agent)
    assert job.status == JobStatus.DONE and job.total == 2  # never the other forwarder's transit
    with job.file.open("rb") as handle:
        sheet = xlsx_rows(handle.read())
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Référence de la déclaration"
    assert sorted(r[0] for r in values[1:]) == ["TG-A-001", "TG-A-002"]
    assert {r[10] for r in values[1:]} == {4_500_000, 2_000_000}
    # A filter of the page travels with the job.
    start(client, q="A-001", django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert ExportJob.objects.filter(owner=world.a.agent).count() == 1  # one row: streamed at once, no job
    start(client, overdue="", q="TG-A", django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    latest = ExportJob.objects.filter(owner=world.a.agent).latest("pk")
    assert latest.params == {"overdue": [""], "q": ["TG-A"]} and latest.total == 2


def test_another_persons_job_is_not_found(world, small_threshold, django_capture_on_commit_callbacks):
    start(client_for(world.tg_officer), django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(owner=world.tg_officer)
    colleague_of_same_administration = client_for(world.a.officer)
    for name in ("export_job", "export_job_status", "export_job_download"):
        assert colleague_of_same_administration.get(reverse(f"guarantees:{name}", args=[job.pk])).status_code == 404
        assert client_for(world.secretariat).get(reverse(f"guarantees:{name}", args=[job.pk])).status_code == 404
    listing = client_for(world.tg_officer).get(reverse("guarantees:export_jobs"))
    assert listing.status_code == 200 and reverse("guarantees:export_job", args=[job.pk]) in listing.content.decode()
    assert reverse("guarantees:export_job", args=[job.pk]) not in client_for(world.secretariat).get(
        reverse("guarantees:export_jobs")).content.decode()


def test_a_failing_job_shows_its_reason_and_is_listed_with_the_failed_tasks(
        world, small_threshold, monkeypatch, django_capture_on_commit_callbacks):
    table = tabular.TABLES["transits"]

    def broken(obj):
        raise ValueError("disk full")

    monkeypatch.setitem(tabular.TABLES, "transits", dataclasses.replace(table, row=broken))
    client = client_for(world.tg_officer)
    response = start(client, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(owner=world.tg_officer)
    assert job.status == JobStatus.FAILED and not job.file
    assert "ValueError" in job.failure_reason and "secrétariat" in job.failure_reason
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="job-failed-notice"' in page and "ValueError" in page
    assert 'data-testid="export-download"' not in page
    failure = TaskFailure.objects.get(task_name="guarantees.tasks.run_export")
    assert failure.args == [job.pk] and failure.exception == "ValueError" and not failure.resolved
    failed_tasks = client_for(world.secretariat).get(reverse("guarantees:task_failures")).content.decode()
    assert "guarantees.tasks.run_export" in failed_tasks
    # Once the cause is mended the secretariat runs it again: done, and the failure resolved.
    monkeypatch.setitem(tabular.TABLES, "transits", table)
    with django_capture_on_commit_callbacks(execute=True):
        task_failure_retry(failure=failure, by=world.secretariat)
    job.refresh_from_db()
    failure.refresh_from_db()
    assert job.status == JobStatus.DONE and job.failure_reason == "" and job.done == 3
    assert failure.resolved


def test_a_job_whose_owner_lost_the_list_fails_saying_so(world, small_threshold, settings,
                                                         django_capture_on_commit_callbacks):
    from accounts.models import Membership

    settings.REGISTRY_EXPORT_STREAM_MAX_ROWS = 1
    client = client_for(world.a.agent)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("guarantees:export", args=["transits", "csv"]))
    Membership.objects.filter(user=world.a.agent).delete()  # left the company before the job ran
    for callback in callbacks:
        callback()
    job = ExportJob.objects.get(owner=world.a.agent)
    assert job.status == JobStatus.FAILED and job.failure_reason == "Vous n’avez plus accès à cette liste."
    assert job.total == 0 and not job.file


def test_the_sweep_removes_expired_files_and_keeps_the_row(world, small_threshold,
                                                           django_capture_on_commit_callbacks):
    client = client_for(world.tg_officer)
    start(client, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(owner=world.tg_officer)
    name = job.file.name
    assert default_storage.exists(name)
    assert export_files_sweep(now=timezone.now()) == 0
    assert export_files_sweep(now=job.expires_at + datetime.timedelta(seconds=1)) == 1
    job.refresh_from_db()
    assert not default_storage.exists(name) and job.file.name == "" and job.expired_at is not None
    assert client.get(reverse("guarantees:export_job_download", args=[job.pk])).status_code == 404
    assert 'data-testid="export-expired"' in client.get(reverse("guarantees:export_job", args=[job.pk])).content.decode()
    assert export_files_sweep(now=job.expires_at + datetime.timedelta(days=1)) == 0


def test_running_a_done_job_again_changes_nothing(world, small_threshold, django_capture_on_commit_callbacks):
    from guarantees.operations.exports import export_job_run

    start(client_for(world.tg_officer), django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(owner=world.tg_officer)
    again = export_job_run(job_id=job.pk)
    assert (again.file.name, again.finished_at) == (job.file.name, job.finished_at)
