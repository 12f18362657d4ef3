"""The periodic sweeps (Celery beat): re-drive stored events, overdue transits, expired guarantees, low-balance
and expiry alerts, the digest of releases, unsent e-mails and stalled discharge files.

The one idea: PostgreSQL is the source of truth and a sweep only ever moves rows that still need it. Each takes
its rows in batches with ``select_for_update(skip_locked=True)`` — rows another sweep or a worker holds are
left for the next run, nobody waits — re-checks their state under the lock, and writes the change, its trail
and its notifications in the same transaction. Two sweeps side by side, or one run twice, do the work once.
A run stops taking batches after ``REGISTRY_SWEEP_BUDGET_SECONDS`` and leaves the rest to its next run.
"""

import datetime
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, transaction
from django.db.models import Count, Exists, F, OuterRef, Sum
from django.utils import timezone

from accounts.roles import OrganisationKind
from guarantees.models import (
    AlertKind,
    DischargeFile,
    EntryKind,
    EventStatus,
    Guarantee,
    GuaranteeAlert,
    GuaranteeStatus,
    JobStatus,
    LedgerEntry,
    SweepMark,
    Transit,
    TransitEvent,
    TransitStatus,
)
from guarantees.services.discharge_bulk import transit_events_apply_batch
from guarantees.services.events import events_attach
from guarantees.services.guarantees import guarantee_expire
from guarantees.operations.emails import notification_emails_send
from guarantees.queue import queue_after_commit
from guarantees.services.notifications import notice_send

logger = logging.getLogger(__name__)

# Transits that can still be discharged in time: past their deadline, they become overdue.
_RUNNING = (TransitStatus.DECLARED, TransitStatus.IN_TRANSIT, TransitStatus.ARRIVED)
_LIVE = (GuaranteeStatus.ACTIVE, GuaranteeStatus.SUSPENDED)


class _Budget:
    def __init__(self, seconds: float | None):
        seconds = settings.REGISTRY_SWEEP_BUDGET_SECONDS if seconds is None else seconds
        self.until = time.monotonic() + seconds

    def left(self) -> bool:
        return time.monotonic() < self.until


def _batch(batch: int | None) -> int:
    return batch or settings.REGISTRY_SWEEP_BATCH


# --- Transit events: a lost message never loses a release ------------------------------------------------

def transit_events_sweep(*, older_than_seconds: int | None = None, batch: int | None = None,
                         budget_seconds: float | None = None, now=None) -> int:
    """Apply every stored event still not applied ``older_than_seconds`` after it was received: its message
    was lost, the broker was down when it came, or its worker died. Also attaches waiting events whose
    declaration has arrived meanwhile. Returns how many events were applied (or rejected) here.

    Batches of events are taken with ``select_for_update(skip_locked=True)`` and applied in one transaction
    each (``discharge_bulk.transit_events_apply_batch``: transits, guarantees and holds locked in the workers'
    order), so the sweep skips what a worker is applying right now and drains a backlog of thousands of
    stored events — after a broker outage — in seconds rather than one event at a time.
    """
    now = now or timezone.now()
    delay = settings.REGISTRY_EVENT_SWEEP_AFTER_SECONDS if older_than_seconds is None else older_than_seconds
    cutoff = now - datetime.timedelta(seconds=delay)
    size = _batch(batch)
    budget = _Budget(budget_seconds)
    _attach_waiting(cutoff=cutoff, batch=size)
    done = 0
    while budget.left():
        try:
            taken = transit_events_apply_batch(received_before=cutoff, limit=size)
        except OperationalError:
            # A deadlock with a path that locks in another order: PostgreSQL rolled this batch back; the next
            # run takes it again.
            logger.warning("sweep: a batch of transit events was rolled back by the database; retried next run")
            break
        done += taken
        if taken < size:
            break
    if done:
        logger.warning("sweep: applied %s transit event(s) that no task had applied", done)
    return done


def _attach_waiting(*, cutoff, batch: int) -> int:
    """Waiting events whose declaration is here by now (it came while they were being stored): each meets its
    declaration as it would have, checked against the rules with the transit's route (``events_attach``)."""
    refs = list(
        TransitEvent.objects.filter(status=EventStatus.WAITING, received_at__lt=cutoff)
        .filter(Exists(Transit.objects.filter(declaration_ref=OuterRef("declaration_ref"))))
        .order_by().values_list("declaration_ref", flat=True).distinct()[:batch]
    )
    attached = 0
    for ref in refs:
        transit = Transit.objects.filter(declaration_ref=ref).first()
        with transaction.atomic():
            ids = list(
                TransitEvent.objects.select_for_update(skip_locked=True)
                .filter(status=EventStatus.WAITING, declaration_ref=ref).values_list("pk", flat=True)
            )
            events_attach(transit=transit, event_ids=ids)
            attached += len(ids)
    return attached


# --- Overdue transits ---------------------------------------------------------------------------------

def transits_mark_overdue(*, now=None, batch: int | None = None, budget_seconds: float | None = None) -> int:
    """Transits past their time limit and not discharged become overdue, once each; the forwarder, its bank
    and the customs of every country on the route are told. Returns how many."""
    now = now or timezone.now()
    budget = _Budget(budget_seconds)
    marked = 0
    while budget.left():
        with transaction.atomic():
            rows = list(
                Transit.objects.filter(status__in=_RUNNING, deadline__lt=now, overdue_at__isnull=True)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("guarantee__principal", "guarantee__bank__organisation", "hold",
                                "office_of_destination__country")
                .order_by("deadline", "pk")[:_batch(batch)]
            )
            if not rows:
                break
            for transit in rows:
                transit.status = TransitStatus.OVERDUE
                transit.overdue_at = now
                transit.save(update_fields=["status", "overdue_at"])
                _tell_overdue(transit)
            marked += len(rows)
    return marked


def _tell_overdue(transit: Transit) -> None:
    from accounts.models import Organisation

    guarantee = transit.guarantee
    hold = transit.hold
    params = {
        "deadline": transit.deadline, "deadline_zone": transit.office_of_destination.country.timezone,
        "held": hold.amount + hold.claimed_amount if hold is not None else transit.amount_held,
    }
    recipients = [guarantee.principal, guarantee.bank.organisation]
    countries = set(transit.stops.values_list("country_id", flat=True))
    recipients += list(Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country__in=countries,
                                                   is_active=True).order_by("pk"))
    for organisation in recipients:
        notice_send(event="transit_overdue", organisation=organisation, guarantee=guarantee, transit=transit,
                    permission="transit.view", params=params)


# --- Guarantees at the end of their validity -----------------------------------------------------------

def guarantees_expire_due(*, today: datetime.date | None = None, batch: int | None = None,
                          budget_seconds: float | None = None) -> int:
    """Active or suspended guarantees past their validity expire (no new hold; holds kept): returns how many."""
    today = today or timezone.now().date()
    budget = _Budget(budget_seconds)
    expired = 0
    while budget.left():
        with transaction.atomic():
            ids = list(
                Guarantee.objects.filter(status__in=_LIVE, valid_until__lt=today)
                .select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)[:_batch(batch)]
            )
            if not ids:
                break
            for pk in ids:
                guarantee_expire(guarantee=pk, today=today)  # re-locks the row we hold: re-checks, notifies
            expired += len(ids)
    return expired


# --- Low-balance alerts ------------------------------------------------------------------------------

def _with_room(queryset):
    """Annotate ``available × 100`` and ``amount × threshold`` so that "low" is one comparison in SQL."""
    return queryset.annotate(
        room=(F("amount") - F("held") - F("claimed") - F("paid")) * 100,
        floor=F("amount") * F("low_balance_pct"),
    )


def low_balance_alerts_sweep(*, batch: int | None = None, budget_seconds: float | None = None) -> tuple[int, int]:
    """Alert the forwarder and its bank when an active guarantee's available balance is at or below its
    threshold (``low_balance_pct`` of the reference amount) — once, not again while it stays low; the alert is
    cleared when the balance recovers, and may then be given again. Returns ``(raised, cleared)``."""
    now = timezone.now()
    budget = _Budget(budget_seconds)
    open_alert = GuaranteeAlert.objects.filter(
        guarantee=OuterRef("pk"), kind=AlertKind.LOW_BALANCE, cleared_at__isnull=True
    )
    # Recovered: cleared first, so a guarantee that recovered and fell again in between is alerted again.
    recovered = _with_room(Guarantee.objects.filter(alerts__kind=AlertKind.LOW_BALANCE,
                                                    alerts__cleared_at__isnull=True)).filter(room__gt=F("floor"))
    cleared = GuaranteeAlert.objects.filter(
        kind=AlertKind.LOW_BALANCE, cleared_at__isnull=True, guarantee__in=recovered.values("pk")
    ).update(cleared_at=now)
    raised = 0
    while budget.left():
        with transaction.atomic():
            rows = list(
                _with_room(Guarantee.objects.filter(status=GuaranteeStatus.ACTIVE, amount__gt=0,
                                                    low_balance_pct__gt=0))
                .filter(room__lte=F("floor")).exclude(Exists(open_alert))
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("principal", "bank__organisation").order_by("pk")[:_batch(batch)]
            )
            if not rows:
                break
            for guarantee in rows:
                GuaranteeAlert.objects.create(guarantee=guarantee, kind=AlertKind.LOW_BALANCE,
                                              available=guarantee.available)
                params = {"available": guarantee.available, "threshold": guarantee.low_balance_pct}
                for organisation in (guarantee.principal, guarantee.bank.organisation):
                    notice_send(event="low_balance", organisation=organisation, guarantee=guarantee,
                                permission="guarantee.view", params=params)
            raised += len(rows)
    return raised, cleared


# --- Headroom forecast alerts ----------------------------------------------------------------------------

def headroom_alerts_sweep(*, now: datetime.datetime | None = None, batch: int | None = None,
                          budget_seconds: float | None = None) -> tuple[int, int]:
    """Tell the forwarder and its bank when an active guarantee's headroom forecast (``guarantees.forecast``: at
    the pace of the last 30 days' holds and releases, the day its available balance runs out) comes within
    ``REGISTRY_HEADROOM_ALERT_DAYS`` — once: the alert stays open while the forecast stays that near, and is
    cleared when it moves beyond (or the pace stops drawing), after which it may be given again. Run daily.
    Returns ``(raised, cleared)``."""
    from guarantees.forecast import WINDOW_DAYS, headroom_forecast
    from guarantees.selectors.pace import guarantees_pace

    now = now or timezone.now()
    today = now.date()
    horizon = today + datetime.timedelta(days=settings.REGISTRY_HEADROOM_ALERT_DAYS)
    since = now - datetime.timedelta(days=WINDOW_DAYS)
    budget = _Budget(budget_seconds)
    raised = cleared = 0
    after = 0
    while budget.left():
        with transaction.atomic():
            rows = list(
                Guarantee.objects.filter(status=GuaranteeStatus.ACTIVE, amount__gt=0, pk__gt=after)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("principal", "bank__organisation").order_by("pk")[:_batch(batch)]
            )
            if not rows:
                break
            after = rows[-1].pk
            pace = guarantees_pace(guarantee_ids=[g.pk for g in rows], since=since)
            open_ids = set(GuaranteeAlert.objects.filter(
                guarantee__in=rows, kind=AlertKind.HEADROOM, cleared_at__isnull=True).values_list("guarantee_id",
                                                                                                   flat=True))
            near, far = [], []
            for guarantee in rows:
                held, released = pace.get(guarantee.pk, (0, 0))
                forecast = headroom_forecast(available=guarantee.available, held_in_window=held,
                                             released_in_window=released, today=today)
                soon = forecast.runs_out_on is not None and forecast.runs_out_on <= horizon
                # A guarantee already empty is the low-balance alert's business; the forecast speaks of the future.
                if soon and guarantee.available > 0 and guarantee.pk not in open_ids:
                    near.append((guarantee, forecast))
                elif not soon and guarantee.pk in open_ids:
                    far.append(guarantee.pk)
            if far:
                cleared += GuaranteeAlert.objects.filter(guarantee_id__in=far, kind=AlertKind.HEADROOM,
                                                         cleared_at__isnull=True).update(cleared_at=now)
            for guarantee, forecast in near:
                GuaranteeAlert.objects.create(guarantee=guarantee, kind=AlertKind.HEADROOM,
                                              valid_until=forecast.runs_out_on, available=guarantee.available)
                params = {"available": forecast.available, "runs_out_on": forecast.runs_out_on,
                          "net_per_day": forecast.net_per_day, "window": forecast.window_days}
                for organisation in (guarantee.principal, guarantee.bank.organisation):
                    notice_send(event="headroom_forecast", organisation=organisation, guarantee=guarantee,
                                permission="guarantee.view", params=params)
                raised += 1
    return raised, cleared


# --- Expiry alerts ---------------------------------------------------------------------------------------

def expiry_kind(days: int) -> str:
    return f"expiry_{days}"


def expiry_alerts_sweep(*, today: datetime.date | None = None, batch: int | None = None,
                        budget_seconds: float | None = None) -> int:
    """Tell the forwarder and its bank that a guarantee expires, ``REGISTRY_EXPIRY_ALERT_DAYS`` before (30 and 7
    days): once per threshold and end of validity — an extension starts over. When a run comes late (beat was
    down), only the nearest threshold is told, and the farther ones are counted as given. Returns how many."""
    today = today or timezone.now().date()
    thresholds = sorted(settings.REGISTRY_EXPIRY_ALERT_DAYS)  # nearest first: 7, 30
    if not thresholds:
        return 0
    budget = _Budget(budget_seconds)
    told = 0
    after = 0
    while budget.left():
        with transaction.atomic():
            rows = list(
                Guarantee.objects.filter(
                    status__in=_LIVE, valid_until__gte=today,
                    valid_until__lte=today + datetime.timedelta(days=thresholds[-1]), pk__gt=after,
                )
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("principal", "bank__organisation").order_by("pk")[:_batch(batch)]
            )
            if not rows:
                break
            after = rows[-1].pk
            given = set(
                GuaranteeAlert.objects.filter(guarantee__in=rows, kind__startswith="expiry_")
                .values_list("guarantee_id", "kind", "valid_until")
            )
            for guarantee in rows:
                left = (guarantee.valid_until - today).days
                due = [d for d in thresholds if left <= d]  # e.g. 5 days left: [7, 30]
                nearest = expiry_kind(due[0])
                if (guarantee.pk, nearest, guarantee.valid_until) in given:
                    continue
                for days in due:
                    kind = expiry_kind(days)
                    if (guarantee.pk, kind, guarantee.valid_until) not in given:
                        GuaranteeAlert.objects.create(guarantee=guarantee, kind=kind,
                                                      valid_until=guarantee.valid_until)
                for organisation in (guarantee.principal, guarantee.bank.organisation):
                    notice_send(event="guarantee_expiring", organisation=organisation, guarantee=guarantee,
                                permission="guarantee.view")
                told += 1
    return told


# --- Digest of releases --------------------------------------------------------------------------------

RELEASE_DIGEST = "release-digest"
# Entries are stamped before their transaction commits: the window closes this long before now, so that an
# entry committed late still falls in the next window rather than in none.
_COMMIT_LAG = datetime.timedelta(seconds=60)


def release_digest_sweep(*, now=None, first_window: datetime.timedelta = datetime.timedelta(hours=1)) -> int:
    """Tell each forwarder what the discharges gave back on its guarantees since the last digest (one
    notification per guarantee and window, rather than one per release). Returns how many guarantees."""
    now = now or timezone.now()
    until = now - _COMMIT_LAG
    SweepMark.objects.get_or_create(name=RELEASE_DIGEST, defaults={"until": until - first_window})
    with transaction.atomic():
        mark = SweepMark.objects.select_for_update(skip_locked=True).filter(name=RELEASE_DIGEST).first()
        if mark is None or mark.until >= until:
            return 0  # another digest is running, or this window was told already
        since = mark.until
        totals = list(
            LedgerEntry.objects.filter(kind__in=[EntryKind.RELEASE, EntryKind.PARTIAL_RELEASE],
                                       created_at__gt=since, created_at__lte=until)
            .values("guarantee_id").annotate(released=Sum("d_held"), count=Count("id")).order_by("guarantee_id")
            .values_list("guarantee_id", "released", "count")
        )
        guarantees = Guarantee.objects.select_related("principal", "bank__organisation").in_bulk(
            [pk for pk, _released, _count in totals]
        )
        for pk, released, count in totals:
            guarantee = guarantees[pk]
            notice_send(
                event="holds_released", organisation=guarantee.principal, guarantee=guarantee,
                permission="transit.view",
                params={"since": since, "released": -released, "count": count, "available": guarantee.available},
            )
        mark.until = until
        mark.save(update_fields=["until"])
    return len(totals)


# --- Unsent e-mails and stalled discharge files ---------------------------------------------------------

def notification_emails_sweep() -> int:
    """Send the e-mails of notifications whose task was lost or failed (they were written with their
    decision; only the e-mail is missing)."""
    return notification_emails_send(older_than_seconds=settings.REGISTRY_NOTIFICATION_EMAIL_AFTER_SECONDS)


def discharge_files_sweep(*, now=None) -> list[int]:
    """Queue again the discharge files queued or running for longer than ``REGISTRY_DISCHARGE_FILE_STALE_SECONDS``
    (their message was lost or their worker died). The batched path resumes where the file stopped and takes
    an advisory lock per file, so a file is never processed twice side by side. Returns the ids queued."""
    now = now or timezone.now()
    stale = settings.REGISTRY_DISCHARGE_FILE_STALE_SECONDS
    ids = list(
        DischargeFile.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
                                     created_at__lt=now - datetime.timedelta(seconds=stale))
        .order_by("pk").values_list("pk", flat=True)[:100]
    )
    queued = []
    for pk in ids:
        # Once per stale period per file, whatever the number of beat runs in between.
        if cache.add(f"sweep:discharge-file:{pk}", 1, timeout=stale):
            queue_after_commit("guarantees.tasks.process_discharge_file_bulk", pk)
            queued.append(pk)
    return queued
