"""Exports too large to stream in one request: a job per request, written in the background, kept for a while.

The page that asks (``guarantees.web.views.exports``) counts the rows up to ``REGISTRY_EXPORT_STREAM_MAX_ROWS``;
beyond that it records an ``ExportJob`` (the list's name, the filters of the page, the reader's language and zone)
and queues ``run_export`` after the commit. The job finds the rows again *for its owner* (``Table.rows(owner,
params)``: the same visibility and filters as the page, as they are when it runs), writes them through the one
writer (``guarantees.tabular``) into a temporary file, recording its progress every
``REGISTRY_EXPORT_PROGRESS_EVERY`` rows, and stores the file under ``exports/`` in the default storage. A job that
fails keeps its reason and is listed with the failed tasks, from where the secretariat may run it again; a job
that was interrupted (a worker killed) starts again from the first row. Files are removed after
``REGISTRY_EXPORT_KEEP_HOURS`` by an hourly sweep; the job's row stays.
"""

from __future__ import annotations

import datetime
import logging
import secrets
import tempfile
import zoneinfo

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext

from guarantees.models import ExportJob, JobStatus
from guarantees.queue import queue_after_commit
from guarantees.tabular import csv_chunks, table_get, xlsx_write

logger = logging.getLogger(__name__)

TASK = "guarantees.tasks.run_export"


class ExportFailed(Exception):
    """A job that cannot be done as asked, with a reason its owner may read."""


def params_to_json(params: QueryDict) -> dict[str, list[str]]:
    return {key: params.getlist(key) for key in params if key != "page"}


def params_from_json(data: dict) -> QueryDict:
    params = QueryDict(mutable=True)
    for key, values in (data or {}).items():
        params.setlist(str(key), [str(v) for v in (values if isinstance(values, list) else [values])])
    return params


def export_job_request(*, owner, table: str, fmt: str, params: QueryDict, language: str, time_zone: str
                       ) -> ExportJob:
    """Record the job and queue it after the commit."""
    with transaction.atomic():
        job = ExportJob.objects.create(owner=owner, table=table, format=fmt, params=params_to_json(params),
                                       language=language, time_zone=time_zone)
        queue_after_commit(TASK, job.pk)
    return job


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.timezone.utc


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Write the job's file. A job done already is left alone (a message delivered twice); a failed one is run
    again (the secretariat's retry). Raises ``ExportFailed`` when the owner may no longer export this list."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().select_related("owner").filter(pk=job_id).first()
        if job is None or job.status == JobStatus.DONE:
            return job
        job.status, job.started_at, job.done, job.failure_reason = JobStatus.RUNNING, timezone.now(), 0, ""
        job.save(update_fields=["status", "started_at", "done", "failure_reason"])
    table = table_get(job.table)
    owner = job.owner
    with translation.override(job.language):
        if table is None:
            raise ExportFailed(gettext("This list cannot be exported."))
        if not owner.is_active or not table.allowed(owner):
            raise ExportFailed(gettext("You may no longer see this list."))
        rows_qs = table.rows(owner, params_from_json(job.params))
        total = rows_qs.count()
    ExportJob.objects.filter(pk=job.pk).update(total=total)
    every = max(1, settings.REGISTRY_EXPORT_PROGRESS_EVERY)

    def progress(count: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(done=min(count, total))

    rows = (table.row(obj) for obj in rows_qs.iterator(chunk_size=table.chunk_size))
    zone = _zone(job.time_zone)
    filename = table.filename(job.format)
    with tempfile.TemporaryFile() as out:
        if job.format == "xlsx":
            xlsx_write(table.columns, rows, out, zone=zone, language=job.language, title=str(table.title),
                       progress=progress, progress_every=every)
        else:
            for chunk in csv_chunks(table.columns, rows, zone=zone, language=job.language, rows_per_chunk=every,
                                    progress=progress):
                out.write(chunk)
        size = out.tell()
        out.seek(0)
        # A name nobody can guess, though the file is only ever served through the owner's download page.
        stored = default_storage.save(f"exports/{job.pk}-{secrets.token_hex(8)}-{filename}", File(out))
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE, file=stored, filename=filename, size=size, finished_at=now, done=total,
        expires_at=now + datetime.timedelta(hours=settings.REGISTRY_EXPORT_KEEP_HOURS),
    )
    job.refresh_from_db()
    return job


def export_job_fail(*, job_id: int, exception: BaseException) -> bool:
    """The job ends ``failed`` with a reason its owner reads: the sentence of an ``ExportFailed``, else the kind of
    error (its trace is with the failed task, for the secretariat)."""
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None:
        return False
    with translation.override(job.language):
        if isinstance(exception, ExportFailed):
            reason = str(exception)
        else:
            reason = gettext("The file could not be written (%(error)s). The registry's secretariat is told and may "
                             "run it again.") % {"error": type(exception).__name__}
    return bool(ExportJob.objects.filter(pk=job_id).exclude(status=JobStatus.DONE).update(
        status=JobStatus.FAILED, failure_reason=reason[:2000], finished_at=timezone.now(),
    ))


def export_files_sweep(*, now: datetime.datetime | None = None) -> int:
    """Remove the files of the jobs past their keeping time; the rows stay (who exported what, and when)."""
    now = now or timezone.now()
    removed = 0
    for job in ExportJob.objects.filter(expires_at__lte=now, expired_at__isnull=True).exclude(file="")[:500]:
        try:
            job.file.delete(save=False)
        except OSError:
            logger.warning("export file %s could not be removed; tried again at the next sweep", job.file.name)
            continue
        ExportJob.objects.filter(pk=job.pk).update(file="", expired_at=now)
        removed += 1
    return removed
