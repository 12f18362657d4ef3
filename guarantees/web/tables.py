"""The registry's list pages as tables: the rows each page shows (its visibility and its filters, read from the URL)
and the columns its CSV and XLSX exports write.

One function per list finds its rows (``<list>_rows(user, params)``); the page and its export both call it, so an
export holds exactly what the page lists, never another organisation's row. ``params`` is the query string of the
page (a ``QueryDict``); a background export keeps it and finds the rows again for its owner. Registered with
``guarantees.tabular`` when the app is ready.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guarantees.models import (
    AWAITING_BANK_STATUSES,
    ClaimStatus,
    DischargeFile,
    EnquiryStatus,
    Hold,
    HoldStatus,
    Notification,
    TaskFailure,
)
from guarantees.selectors.claims import claims_visible_to, enquiries_visible_to
from guarantees.selectors.guarantees import guarantees_visible_to
from guarantees.selectors.transits import refused_events_visible_to, transits_visible_to
from guarantees.tabular import AMOUNT, DATE, MOMENT, NUMBER, Column, Table, table_register
from guarantees.web.filters.guarantees import GuaranteeFilter
from guarantees.web.filters.transits import TransitFilter, with_late_flag


def _asker(user):
    """What a FilterSet reads of its request: the person (the page's request, or a job's owner)."""
    return SimpleNamespace(user=user)


def _yes_no(value: bool) -> str:
    return str(_("yes") if value else _("no"))


def _name(obj) -> str:
    return getattr(obj, "name", "") if obj is not None else ""


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.email


# --- Guarantees --------------------------------------------------------------------------------------------------

def guarantee_filter(user, params: QueryDict | None) -> GuaranteeFilter:
    return GuaranteeFilter(params or None, queryset=guarantees_visible_to(user=user), request=_asker(user))


def guarantee_rows(user, params) -> QuerySet:
    return guarantee_filter(user, params).qs.order_by("-created_at", "-pk")


def _guarantee_row(g) -> list:
    return [
        g.grn or "", g.pk, g.get_status_display(), _name(g.principal), _name(g.bank.organisation), g.country_id,
        g.amount or g.requested_amount, g.held, g.claimed, g.paid, max(g.amount - g.held - g.claimed - g.paid, 0),
        g.valid_from, g.valid_until, g.activated_at,
    ]


GUARANTEES = table_register(Table(
    name="guarantees", title=_("Guarantees"), permissions=("guarantee.view",),
    columns=(
        Column(_("GRN"), width=22), Column(_("Request number"), NUMBER, 10), Column(_("Status")),
        Column(_("Principal"), width=30), Column(_("Guarantor bank"), width=30), Column(_("Country of issue"), width=8),
        Column(_("Reference amount (FCFA)"), AMOUNT), Column(_("Held (FCFA)"), AMOUNT),
        Column(_("Claimed, unpaid (FCFA)"), AMOUNT), Column(_("Paid on claims (FCFA)"), AMOUNT),
        Column(_("Available (FCFA)"), AMOUNT), Column(_("Valid from"), DATE, 12), Column(_("Valid until"), DATE, 12),
        Column(_("Activated"), MOMENT),
    ),
    rows=guarantee_rows, row=_guarantee_row,
))


# --- Holds (a guarantee's page lists its own; the export takes ``guarantee=<id>``, or every visible one) -------------

def hold_rows(user, params) -> QuerySet:
    params = params or {}
    holds = Hold.objects.filter(guarantee__in=guarantees_visible_to(user=user).values("pk")).select_related("guarantee")
    guarantee = str(params.get("guarantee", ""))
    if guarantee.isdigit():
        holds = holds.filter(guarantee_id=int(guarantee))
    status = params.get("status", "")
    if status in HoldStatus.values:
        holds = holds.filter(status=status)
    return holds.order_by("-created_at", "-pk")


HOLDS = table_register(Table(
    name="holds", title=_("Holds of transits"), permissions=("guarantee.view",),
    columns=(
        Column(_("GRN"), width=22), Column(_("Transit"), width=26), Column(_("Status")),
        Column(_("Amount taken (FCFA)"), AMOUNT), Column(_("Held (FCFA)"), AMOUNT), Column(_("Claimed (FCFA)"), AMOUNT),
        Column(_("Paid (FCFA)"), AMOUNT), Column(_("Taken"), MOMENT), Column(_("Closed"), MOMENT),
    ),
    rows=hold_rows,
    row=lambda h: [h.guarantee.grn or "", h.reference, h.get_status_display(), h.initial_amount, h.amount,
                   h.claimed_amount, h.paid_amount, h.created_at, h.closed_at],
))


# --- Transits ----------------------------------------------------------------------------------------------------

def transit_filter(user, params: QueryDict | None) -> TransitFilter:
    queryset = with_late_flag(transits_visible_to(user=user).select_related(
        "office_of_departure__country", "office_of_destination__country", "guarantee__bank__organisation",
    ))
    return TransitFilter(params or None, queryset=queryset, request=_asker(user))


def transit_rows(user, params) -> QuerySet:
    return transit_filter(user, params).qs


def _transit_row(t) -> list:
    hold = t.hold
    return [
        t.declaration_ref, t.guarantee.grn or "", _name(t.guarantee.principal), t.get_status_display(),
        _yes_no(getattr(t, "is_late", False)), t.office_of_departure.code, t.office_of_destination.code,
        t.corridor.code if t.corridor_id else "", t.declared_at, t.deadline, t.amount_held,
        hold.amount if hold is not None else None, t.discharged_at,
    ]


TRANSITS = table_register(Table(
    name="transits", title=_("Transits"), permissions=("transit.view",),
    columns=(
        Column(_("Declaration reference"), width=26), Column(_("GRN"), width=22), Column(_("Principal"), width=30),
        Column(_("Status")), Column(_("Overdue"), width=9), Column(_("Office of departure"), width=10),
        Column(_("Office of destination"), width=10), Column(_("Corridor"), width=10), Column(_("Declared"), MOMENT),
        Column(_("Time limit"), MOMENT), Column(_("Amount held at departure (FCFA)"), AMOUNT),
        Column(_("Held now (FCFA)"), AMOUNT), Column(_("Discharged"), MOMENT),
    ),
    rows=transit_rows, row=_transit_row,
))


# --- Enquiries and claims ------------------------------------------------------------------------------------------

def enquiry_rows(user, params) -> QuerySet:
    queryset = enquiries_visible_to(user=user)
    status = (params or {}).get("status", "")
    if status in EnquiryStatus.values:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-opened_at", "-pk")


def _enquiry_row(e) -> list:
    t = e.transit
    return [
        e.pk, t.declaration_ref, t.guarantee.grn or "", _name(t.guarantee.principal), _name(e.customs),
        e.get_ground_display(), e.get_status_display(), e.get_outcome_display() if e.outcome else "",
        e.opened_at, e.answer_due, e.closed_at,
    ]


ENQUIRIES = table_register(Table(
    name="enquiries", title=_("Enquiries"), permissions=("enquiry.view",),
    columns=(
        Column(_("Number"), NUMBER, 8), Column(_("Declaration reference"), width=26), Column(_("GRN"), width=22),
        Column(_("Principal"), width=30), Column(_("Customs"), width=24), Column(_("Ground")), Column(_("Status")),
        Column(_("Outcome")), Column(_("Opened"), MOMENT), Column(_("Answer due by"), DATE, 12),
        Column(_("Closed"), MOMENT),
    ),
    rows=enquiry_rows, row=_enquiry_row,
))


def claim_rows(user, params) -> QuerySet:
    params = params or {}
    queryset = claims_visible_to(user=user)
    status = params.get("status", "")
    if status in ClaimStatus.values:
        queryset = queryset.filter(status=status)
    if params.get("overdue") == "on":
        queryset = queryset.filter(status__in=AWAITING_BANK_STATUSES, examination_deadline__lte=timezone.now())
    return queryset.order_by("-issued_at", "-pk")


def _claim_row(c) -> list:
    return [
        c.number, c.transit.declaration_ref, c.guarantee.grn or "", _name(c.guarantee.principal),
        _name(c.guarantee.bank.organisation), _name(c.customs), c.amount, c.get_status_display(), c.issued_at,
        c.examination_due, c.paid_amount, c.payment_date,
    ]


CLAIMS = table_register(Table(
    name="claims", title=_("Claims"), permissions=("claim.view",),
    columns=(
        Column(_("Claim number"), width=22), Column(_("Declaration reference"), width=26), Column(_("GRN"), width=22),
        Column(_("Principal"), width=30), Column(_("Guarantor bank"), width=30), Column(_("Claiming administration"), width=24),
        Column(_("Amount claimed (FCFA)"), AMOUNT), Column(_("Status")), Column(_("Issued"), MOMENT),
        Column(_("Answer due by"), DATE, 12), Column(_("Amount paid (FCFA)"), AMOUNT), Column(_("Payment date"), DATE, 12),
    ),
    rows=claim_rows, row=_claim_row,
))


# --- Notifications, discharge files, failed tasks, refused events -------------------------------------------------

def notification_rows(user, params) -> QuerySet:
    notifications = Notification.objects.filter(recipient=user)
    if (params or {}).get("unread") == "1":
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-pk")


NOTIFICATIONS = table_register(Table(
    name="notifications", title=_("Notifications"), permissions=("notification.view",),
    columns=(Column(_("Received"), MOMENT), Column(_("Subject"), width=50), Column(_("Message"), width=80),
             Column(_("Read"), MOMENT)),
    rows=notification_rows, row=lambda n: [n.created_at, n.subject, n.body, n.read_at],
))


def discharge_file_rows(user, params) -> QuerySet:
    organisation = getattr(user, "organisation", None)
    if organisation is None:
        return DischargeFile.objects.none()
    return (DischargeFile.objects.filter(sender=organisation).select_related("uploaded_by").defer("content")
            .order_by("-created_at", "-pk"))


DISCHARGE_FILES = table_register(Table(
    name="discharge-files", title=_("Discharge files"), permissions=("discharge.upload",),
    columns=(Column(_("File name"), width=30), Column(_("Status")), Column(_("Lines"), NUMBER, 8),
             Column(_("Accepted"), NUMBER, 8), Column(_("Already received"), NUMBER, 8), Column(_("Refused"), NUMBER, 8),
             Column(_("Sent by"), width=24), Column(_("Received"), MOMENT), Column(_("Finished"), MOMENT)),
    rows=discharge_file_rows,
    row=lambda f: [f.filename, f.get_status_display(), f.total, f.done, f.duplicates, f.failed,
                   _person(f.uploaded_by), f.created_at, f.finished_at],
))

TASK_FAILURE_STATES = {"open": {"resolved": False}, "resolved": {"resolved": True}, "all": {}}


def task_failure_state(params) -> str:
    state = (params or {}).get("state")
    return state if state in TASK_FAILURE_STATES else "open"


def task_failure_rows(user, params) -> QuerySet:
    failures = TaskFailure.objects.filter(**TASK_FAILURE_STATES[task_failure_state(params)])
    return failures.select_related("retried_by").order_by("-created_at", "-pk")


TASK_FAILURES = table_register(Table(
    name="failed-tasks", title=_("Failed tasks"), permissions=("task.retry",),
    columns=(Column(_("Failed"), MOMENT), Column(_("Task"), width=40), Column(_("Error"), width=24),
             Column(_("Message"), width=60), Column(_("Retries"), NUMBER, 8), Column(_("Resolved"), width=8)),
    rows=task_failure_rows,
    row=lambda f: [f.created_at, f.task_name, f.exception, f.error, f.retries, _yes_no(f.resolved)],
))


def refused_event_rows(user, params) -> QuerySet:
    params = params or {}
    events = refused_events_visible_to(user=user)
    reason = params.get("reason", "")
    if reason:
        events = events.filter(error_code=reason[:40])
    sender = params.get("sender", "").upper()[:2]
    if sender and user.can("ledger.audit"):
        events = events.filter(sender__country=sender)
    return events


REFUSED_EVENTS = table_register(Table(
    name="refused-events", title=pgettext_lazy("list", "Refused events"), permissions=("event.refused",),
    columns=(Column(_("Received"), MOMENT), Column(_("Sender"), width=24), Column(_("Message id"), width=24),
             Column(_("Declaration reference"), width=26), Column(_("Type")), Column(_("Office"), width=10),
             Column(_("Occurred"), MOMENT), Column(_("Code"), width=20), Column(_("Reason"), width=60)),
    rows=refused_event_rows,
    row=lambda e: [e.received_at, _name(e.sender), e.message_id, e.declaration_ref, e.get_type_display(),
                   e.office.code if e.office_id else "", e.occurred_at, e.error_code, e.error_detail],
))
