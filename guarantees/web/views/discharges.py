"""Bulk discharge files sent by a customs administration: upload, the list of its files, and each file's
progress and refused lines. Another administration's file is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from guarantees.web.forms.transits import DischargeFileForm
from guarantees.models import DischargeFile, JobStatus
from guarantees.services.transits import FILE_FIELDS, discharge_file_receive
from guarantees.web.common import form_data, paginate, require
from guarantees.web.tables import discharge_file_rows


# Seconds between two refreshes of a discharge file's page while it is processed.
JOB_REFRESH_SECONDS = 3


def _jobs(request):
    return DischargeFile.objects.filter(sender=request.user.organisation).select_related("uploaded_by").defer(
        "content"
    )


@require_safe
@login_required
def discharge_job_list(request):
    require(request, "discharge.upload")
    page, query = paginate(request, discharge_file_rows(request.user, request.GET))
    return render(request, "guarantees/discharge/list.html", {"page": page, "query": query})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def discharge_upload(request):
    require(request, "discharge.upload")
    form = DischargeFileForm(form_data(request), request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = discharge_file_receive(
            sender=request.user.organisation, filename=upload.name, content=upload.read(), by=request.user,
        )
        messages.success(request, _("The file was received. Its lines are being processed."))
        return redirect("guarantees:discharge_job", pk=job.pk)
    context = {
        "form": form,
        "columns": FILE_FIELDS,
        "recent": _jobs(request).order_by("-created_at", "-pk")[:5],
    }
    return render(request, "guarantees/discharge/upload.html", context)


@require_safe
@login_required
def discharge_job(request, pk):
    require(request, "discharge.upload")
    job = get_object_or_404(_jobs(request), pk=pk)
    processed = job.done + job.duplicates + job.failed
    in_progress = job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    context = {
        "job": job,
        "processed": processed,
        "percent": min(100, round(100 * processed / job.total)) if job.total else (0 if in_progress else 100),
        "in_progress": in_progress,
        "refresh_seconds": JOB_REFRESH_SECONDS,
        "errors": [_error_row(e) for e in job.errors or [] if isinstance(e, dict)],
    }
    return render(request, "guarantees/discharge/detail.html", context)


def _error_row(error: dict) -> dict:
    """One refused line: its number, code and sentence, and the fields at fault (``{"office": ["…"]}``)."""
    fields = error.get("errors") if isinstance(error.get("errors"), dict) else {}
    known = {"line", "code", "detail", "errors"}
    return {
        "line": error.get("line"),
        "code": error.get("code", ""),
        "detail": error.get("detail", ""),
        "fields": [(name, "; ".join(str(m) for m in (msgs if isinstance(msgs, list) else [msgs])))
                   for name, msgs in fields.items()],
        "extra": [(k, v) for k, v in error.items() if k not in known],
    }
