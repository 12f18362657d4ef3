"""Exports of the list pages: CSV and XLSX of what the page lists, with its filters, for the person who asks.

``/exports/<list>.<csv|xlsx>?<the page's query string>``: the same permission as the page (403), the same rows
(``guarantees.web.tables``). Up to ``REGISTRY_EXPORT_STREAM_MAX_ROWS`` rows the file is sent at once — a CSV
streamed from the database a chunk at a time, an XLSX written by openpyxl's write-only mode into a temporary file
and then sent. Beyond that the page offers to prepare it: the export becomes a background job
(``guarantees.operations.exports``) and the person is taken to its page, which shows its progress and, once done, the download link — to its owner only: another
person's job is a 404.
"""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods, require_safe

from guarantees.models import ExportFormat, ExportJob
from guarantees.operations.exports import export_job_request
from guarantees.tabular import csv_chunks, table_get, xlsx_write
from guarantees.web.common import paginate, require

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _table(request, name: str, fmt: str):
    table = table_get(name)
    if table is None or fmt not in ExportFormat.values:
        raise Http404
    require(request, *table.permissions)
    return table


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def export_list(request, table: str, fmt: str):
    """GET: the file, when it is small enough; else a page offering to prepare it in the background, which its
    form (POST, so that no link or image can start work in someone's name) does."""
    table = _table(request, table, fmt)
    rows_qs = table.rows(request.user, request.GET)
    limit = settings.REGISTRY_EXPORT_STREAM_MAX_ROWS
    language = translation.get_language() or settings.LANGUAGE_CODE
    zone = timezone.get_current_timezone()
    # A count capped just above the limit: what matters is only whether the rows fit in this request.
    if rows_qs[: limit + 1].count() > limit:
        if request.method != "POST":
            return render(request, "guarantees/export/confirm.html",
                          {"title": table.title, "view_table": table.name, "fmt": fmt, "limit": limit,
                           "query": request.GET.urlencode()})
        job = export_job_request(owner=request.user, table=table.name, fmt=fmt, params=request.GET,
                                 language=language, time_zone=getattr(zone, "key", None) or "UTC")
        return redirect("guarantees:export_job", pk=job.pk)
    filename = table.filename(fmt)
    if request.method == "HEAD":
        response = HttpResponse(content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    rows = (table.row(obj) for obj in rows_qs.iterator(chunk_size=table.chunk_size))
    if fmt == "csv":
        response = StreamingHttpResponse(
            csv_chunks(table.columns, rows, zone=zone, language=language), content_type=CONTENT_TYPES["csv"],
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        out = tempfile.TemporaryFile()
        xlsx_write(table.columns, rows, out, zone=zone, language=language, title=str(table.title))
        out.seek(0)
        response = FileResponse(out, as_attachment=True, filename=filename, content_type=CONTENT_TYPES["xlsx"])
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _own_jobs(request):
    return ExportJob.objects.filter(owner=request.user)


@require_safe
@login_required
def export_job_list(request):
    page, query = paginate(request, _own_jobs(request).order_by("-created_at", "-pk"))
    for job in page.object_list:
        table = table_get(job.table)
        job.title = table.title if table is not None else job.table
    return render(request, "guarantees/export/list.html", {"page": page, "query": query})


@require_safe
@login_required
def export_job(request, pk):
    job = get_object_or_404(_own_jobs(request), pk=pk)
    table = table_get(job.table)
    context = {
        "job": job,
        "title": table.title if table is not None else job.table,
        "poll_seconds": settings.REGISTRY_EXPORT_POLL_SECONDS,
    }
    return render(request, "guarantees/export/detail.html", context)


@require_safe
@login_required
def export_job_status(request, pk):
    """The job's progress, for its page to follow without reloading (``static/js/registry.js``)."""
    job = get_object_or_404(_own_jobs(request), pk=pk)
    return JsonResponse({"status": job.status, "total": job.total, "done": job.done, "percent": job.percent,
                         "finished": not job.in_progress}, headers={"Cache-Control": "no-store"})


@require_safe
@login_required
def export_job_download(request, pk):
    job = get_object_or_404(_own_jobs(request), pk=pk)
    if not job.downloadable:
        raise Http404
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=job.filename,
                            content_type=CONTENT_TYPES.get(job.format, "application/octet-stream"))
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
