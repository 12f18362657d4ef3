"""Pages of the background work: everyone's notifications; the reconciliation of open transits (customs send
their list and read the report, the secretariat reads every report; CSV download); the failed tasks the
secretariat sees and retries.

The checks follow ``views.common``: signed out → sign-in page, without the permission → 403, another
organisation's notification or another country's reconciliation → 404.
"""

import datetime
import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from guarantees.errors import DomainError
from guarantees.models import DifferenceKind, LedgerCheckpoint, Notification, ReconciliationStatus, TaskFailure
from guarantees.selectors.transits import refused_events_visible_to
from guarantees.services.calendar import country_zone
from guarantees.services.checkpoints import checkpoint_export
from guarantees.links import notification_path
from guarantees.services.notifications import notification_mark_read, notifications_mark_all_read
from guarantees.operations.reconciliation import (
    CSV_FIELDS,
    reconciliation_csv,
    reconciliation_lines,
    reconciliation_parse_csv,
    reconciliation_receive,
    reconciliations_visible_to,
)
from guarantees.operations.failures import task_failure_resolve, task_failure_retry
from guarantees.views.common import add_domain_error, form_data, paginate, require

# Seconds between two refreshes of a reconciliation page while its list is being compared.
REFRESH_SECONDS = 3
# A list still "received" after this long has lost its task (a failure is under the failed tasks): the page stops
# refreshing and says so, instead of refreshing forever.
STALLED_AFTER = datetime.timedelta(minutes=10)
MAX_LIST_BYTES = 20 * 1024 * 1024


# --- Notifications (everyone) --------------------------------------------------------------------------------

@require_safe
@login_required
def notification_list(request):
    require(request, "notification.view")
    notifications = Notification.objects.filter(recipient=request.user)
    unread_only = request.GET.get("unread") == "1"
    unread = notifications.filter(read_at__isnull=True).count()
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    page, query = paginate(request, notifications.order_by("-created_at", "-pk"))
    page.object_list = list(page.object_list)
    for notification in page.object_list:
        notification.link = notification_path(notification)
    return render(request, "guarantees/operations/notifications.html",
                  {"page": page, "query": query, "unread": unread, "unread_only": unread_only})


@require_POST
@login_required
def notification_open(request, pk):
    """Mark one notification read and follow its link (or come back to the list)."""
    require(request, "notification.view")
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notification_mark_read(notification=notification, user=request.user)
    target = notification_path(notification) if request.POST.get("follow") == "1" else ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("guarantees:notifications")


@require_POST
@login_required
def notifications_read_all(request):
    require(request, "notification.view")
    count = notifications_mark_all_read(user=request.user)
    messages.success(request, _("%(count)s notification(s) marked as read.") % {"count": count})
    return redirect("guarantees:notifications")


# --- Reconciliation (customs, secretariat) -------------------------------------------------------------------

class ReconciliationListForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("List of open transits (CSV)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    as_of = forms.DateTimeField(
        label=gettext_lazy("List taken at (your local time)"), required=False,
        help_text=gettext_lazy("Leave empty for now. Transits declared after this moment are not expected in it."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError(gettext_lazy("Send a file ending in .csv."))
        if upload.size == 0:
            raise forms.ValidationError(gettext_lazy("The file is empty."))
        if upload.size > MAX_LIST_BYTES:
            raise forms.ValidationError(gettext_lazy("The file is too large."))
        return upload


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


# --- Failed tasks (secretariat) --------------------------------------------------------------------------------

_STATES = {"open": {"resolved": False}, "resolved": {"resolved": True}, "all": {}}


@require_safe
@login_required
def task_failure_list(request):
    require(request, "task.retry")
    state = request.GET.get("state") if request.GET.get("state") in _STATES else "open"
    failures = TaskFailure.objects.filter(**_STATES[state]).select_related("retried_by")
    page, query = paginate(request, failures.order_by("-created_at", "-pk"))
    counts = {"open": TaskFailure.objects.filter(resolved=False).count()}
    return render(request, "guarantees/operations/task_failures.html",
                  {"page": page, "query": query, "state": state, "counts": counts})


@require_safe
@login_required
def task_failure_detail(request, pk):
    require(request, "task.retry")
    failure = get_object_or_404(TaskFailure.objects.select_related("retried_by"), pk=pk)
    return render(request, "guarantees/operations/task_failure_detail.html", {"failure": failure})


@require_POST
@login_required
def task_failure_retry_view(request, pk):
    require(request, "task.retry")
    failure = get_object_or_404(TaskFailure, pk=pk)
    try:
        task_failure_retry(failure=failure, by=request.user)
    except DomainError as exc:
        add_domain_error(request, exc)
    else:
        messages.success(request, _("The task was queued again. It is marked resolved once it succeeds."))
    return redirect("guarantees:task_failure_detail", pk=pk)


@require_POST
@login_required
def task_failure_resolve_view(request, pk):
    require(request, "task.retry")
    failure = get_object_or_404(TaskFailure, pk=pk)
    try:
        task_failure_resolve(failure=failure, by=request.user)
    except DomainError as exc:
        add_domain_error(request, exc)
    else:
        messages.success(request, _("The failure is marked resolved."))
    return redirect("guarantees:task_failure_detail", pk=pk)


# --- Refused transit events (secretariat: all; customs: those they sent) --------------------------------------

_EVENT_REASONS = {
    "not_on_route": gettext_lazy("Route does not cross the sender's country"),
    "sender_not_allowed": gettext_lazy("Sender may not report this event"),
    "office_not_allowed": gettext_lazy("Office not allowed for this event"),
    "office_not_yours": gettext_lazy("Office of another country"),
    "dated_before_declaration": gettext_lazy("Dated before the declaration"),
    "dated_in_future": gettext_lazy("Dated in the future"),
    "above_held": gettext_lazy("More than is held"),
}


@require_safe
@login_required
def refused_events(request):
    require(request, "event.refused")
    events = refused_events_visible_to(user=request.user)
    reason = request.GET.get("reason", "")
    if reason:
        events = events.filter(error_code=reason[:40])
    sender = request.GET.get("sender", "").upper()[:2]
    if sender and request.user.can("ledger.audit"):
        events = events.filter(sender__country=sender)
    page, query = paginate(request, events)
    context = {"page": page, "query": query, "reasons": _EVENT_REASONS, "reason": reason, "sender": sender,
               "senders": ["BF", "ML", "NE", "TG"] if request.user.can("ledger.audit") else []}
    return render(request, "guarantees/operations/refused_events.html", context)


# --- The ledger's signed checkpoints (secretariat) ---------------------------------------------------------

@require_safe
@login_required
def ledger_checkpoints(request):
    require(request, "ledger.audit")
    page, query = paginate(request, LedgerCheckpoint.objects.defer("document").order_by("-created_at", "-pk"))
    return render(request, "guarantees/operations/ledger_checkpoints.html", {"page": page, "query": query})


@require_safe
@login_required
def ledger_checkpoint_download(request, pk):
    require(request, "ledger.audit")
    checkpoint = get_object_or_404(LedgerCheckpoint, pk=pk)
    response = HttpResponse(json.dumps(checkpoint_export(checkpoint), indent=1), content_type="application/json")
    name = f"ledger-checkpoint-{checkpoint.created_at:%Y%m%dT%H%M%SZ}-{checkpoint.digest[:12]}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
