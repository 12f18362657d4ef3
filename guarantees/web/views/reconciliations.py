"""The reconciliation of open transits: customs send their list (CSV) and read the report; the secretariat
reads every report; CSV download. Another country's report is a 404."""

import datetime
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from guarantees.errors import DomainError
from guarantees.models import DifferenceKind, ReconciliationStatus
from guarantees.services.calendar import country_zone
from guarantees.operations.reconciliation import (
    CSV_FIELDS,
    reconciliation_csv,
    reconciliation_lines,
    reconciliation_parse_csv,
    reconciliation_receive,
    reconciliations_visible_to,
)
from guarantees.web.common import add_domain_error, form_data, paginate, require
from guarantees.web.forms.transits import ReconciliationListForm

# A list still "received" after this long is stalled: the page stops refreshing and says where to look.
STALLED_AFTER = datetime.timedelta(minutes=10)



# Seconds between two refreshes of a reconciliation page while its list is being compared.
REFRESH_SECONDS = 3




def _runs(request):
    return reconciliations_visible_to(user=request.user)


@require_safe
@login_required
def reconciliation_list(request):
    require(request, "reconciliation.view")
    page, query = paginate(request, _runs(request).order_by("-created_at", "-pk"))
    organisation = request.user.organisation
    can_send = request.user.can("discharge.upload") and organisation is not None and organisation.kind == "customs"
    return render(request, "guarantees/operations/reconciliation_list.html",
                  {"page": page, "query": query, "can_send": can_send})


def _local_as_of(value, organisation) -> datetime.datetime | None:
    """The officer types the time of the list in their country's zone."""
    if value is None:
        return None
    if timezone.is_aware(value):
        # The form made it aware in the page's zone (the reader's, guarantees.web.zones): read it back as typed.
        value = timezone.make_naive(value)
    zone = country_zone(organisation.country) if organisation and organisation.country else datetime.UTC
    return value.replace(tzinfo=zone)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def reconciliation_upload(request):
    require(request, "discharge.upload")
    form = ReconciliationListForm(form_data(request), request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        organisation = request.user.organisation
        try:
            run = reconciliation_receive(
                customs=organisation, transits=reconciliation_parse_csv(upload.read()),
                as_of=_local_as_of(form.cleaned_data.get("as_of"), organisation), source="page",
                filename=upload.name, by=request.user,
            )
        except DomainError as exc:
            add_domain_error(request, exc, form)
            for name, texts in (exc.extra.get("errors") or {}).items():
                form.add_error(None, f"{_where(name)}: {'; '.join(texts)}")
        else:
            messages.success(request, _("The list was received. It is being compared with the holds open here."))
            return redirect("guarantees:reconciliation_detail", pk=run.pk)
    return render(request, "guarantees/operations/reconciliation_upload.html",
                  {"form": form, "columns": CSV_FIELDS})


def _where(name: str) -> str:
    """``transits.3`` (the third transit listed) → "Line 4 of the file" (after the header line)."""
    prefix, _sep, number = name.partition(".")
    if prefix == "transits" and number.isdigit():
        return _("Line %(number)s of the file") % {"number": int(number) + 1}
    return name


@require_safe
@login_required
def reconciliation_detail(request, pk):
    require(request, "reconciliation.view")
    run = get_object_or_404(_runs(request), pk=pk)
    kind = request.GET.get("kind") or ""
    if kind not in DifferenceKind.values:
        kind = ""
    page, query = paginate(request, reconciliation_lines(run=run, kind=kind or None), per_page=100)
    context = {
        "run": run,
        "page": page,
        "query": query,
        "kind": kind,
        "kinds": [
            (DifferenceKind.CLOSED_THERE, DifferenceKind.CLOSED_THERE.label, run.closed_there),
            (DifferenceKind.UNKNOWN_HERE, DifferenceKind.UNKNOWN_HERE.label, run.unknown_here),
            (DifferenceKind.CLOSED_HERE, DifferenceKind.CLOSED_HERE.label, run.closed_here),
            (DifferenceKind.AMOUNT_DIFFERS, DifferenceKind.AMOUNT_DIFFERS.label, run.amount_differs),
        ],
        "in_progress": run.status == ReconciliationStatus.RECEIVED and timezone.now() - run.created_at < STALLED_AFTER,
        "stalled": run.status == ReconciliationStatus.RECEIVED and timezone.now() - run.created_at >= STALLED_AFTER,
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render(request, "guarantees/operations/reconciliation_detail.html", context)


@require_safe
@login_required
def reconciliation_download(request, pk):
    require(request, "reconciliation.view")
    run = get_object_or_404(_runs(request), pk=pk, status=ReconciliationStatus.DONE)
    response = HttpResponse(reconciliation_csv(run=run), content_type="text/csv; charset=utf-8")
    filename = f"reconciliation-{run.country_id}-{run.as_of:%Y%m%d-%H%M}-{run.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
