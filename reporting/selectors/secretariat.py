"""The secretariat's figures, on the whole registry (it sees every guarantee and transit): by country, bank and
corridor; the banks near their ceiling; the health of the sweeps and background jobs."""

from __future__ import annotations

import datetime

from django.db.models import Count, F, Min, Q, Sum

from guarantees.models import (
    OPEN_TRANSIT_STATUSES,
    DischargeFile,
    EventStatus,
    HoldStatus,
    JobStatus,
    Notification,
    TaskFailure,
    TransitEvent,
    Transit,
    TransitStatus,
)
from guarantees.selectors.guarantees import banks_with_exposure
from reporting.selectors.banks import EXPOSED_STATUSES
from reporting.selectors.common import DB, percentile, visible_guarantees, visible_transits


def _balances():
    return {
        "guarantees": Count("pk"),
        "amount": Sum("amount", default=0),
        "held": Sum("held", default=0),
        "claimed": Sum("claimed", default=0),
        "paid": Sum("paid", default=0),
    }


def _available(rows):
    for row in rows:
        row["available"] = row["amount"] - row["held"] - row["claimed"] - row["paid"]
    return rows


def system_by_country(*, user) -> list[dict]:
    """Per country of issue: the guarantees carrying money and their balances."""
    return _available(list(
        visible_guarantees(user).filter(status__in=EXPOSED_STATUSES)
        .values(code=F("country_id")).annotate(**_balances()).order_by("code")
    ))


def system_by_bank(*, user, near_pct: int) -> list[dict]:
    """Per approved bank: balances of its guarantees, its exposure (``banks_with_exposure``, the figure that the
    ceiling check uses), its ceiling, the share used and whether it is near (``near_pct`` %) or over it."""
    balances = {
        row["bank_id"]: row
        for row in visible_guarantees(user).filter(status__in=EXPOSED_STATUSES)
        .values("bank_id").annotate(**_balances()).order_by()
    }
    rows = []
    for bank in banks_with_exposure().using(DB).order_by("organisation__name"):
        b = balances.get(bank.pk, {"guarantees": 0, "amount": 0, "held": 0, "claimed": 0, "paid": 0})
        pct = round(100 * bank.exposure / bank.exposure_ceiling) if bank.exposure_ceiling else None
        rows.append({
            "bank_id": bank.pk, "name": bank.organisation.name, "short": bank.organisation.display_name,
            "approved": bank.is_approved,
            "guarantees": b["guarantees"], "amount": b["amount"], "held": b["held"], "claimed": b["claimed"],
            "paid": b["paid"], "available": b["amount"] - b["held"] - b["claimed"] - b["paid"],
            "exposure": bank.exposure, "ceiling": bank.exposure_ceiling, "pct": pct,
            "near": pct is not None and pct >= near_pct,
        })
    return rows


def system_by_corridor(*, user, now: datetime.datetime) -> list[dict]:
    """Per corridor: open transits, overdue ones, and what their holds secure."""
    return list(
        visible_transits(user).filter(status__in=OPEN_TRANSIT_STATUSES)
        .values(code=F("corridor__code"), name=F("corridor__name"))
        .annotate(transits=Count("pk"), overdue=Count("pk", filter=Q(deadline__lt=now)),
                  held=Sum("hold__amount", default=0), claimed=Sum("hold__claimed_amount", default=0))
        .order_by("-transits", "code")
    )


def system_health(*, now: datetime.datetime) -> dict:
    """The background work: events received and not yet applied (and the oldest), events waiting for their
    declaration, discharged transits whose hold is not yet released (how many, the oldest), the release lag
    (discharge → release) of the holds released in the last day (median, p95), discharge files queued or running, failed tasks unresolved, e-mails
    unsent."""
    events = TransitEvent.objects.using(DB).aggregate(
        received=Count("pk", filter=Q(status=EventStatus.RECEIVED)),
        oldest_received=Min("received_at", filter=Q(status=EventStatus.RECEIVED)),
        waiting=Count("pk", filter=Q(status=EventStatus.WAITING)),
        oldest_waiting=Min("received_at", filter=Q(status=EventStatus.WAITING)),
    )
    unreleased = visible_transits_all().filter(status=TransitStatus.DISCHARGED, hold__status=HoldStatus.HELD).aggregate(
        count=Count("pk"), oldest=Min("discharged_at"),
    )
    since = now - datetime.timedelta(days=1)
    lags = sorted(
        (released - discharged).total_seconds()
        for discharged, released in visible_transits_all()
        .filter(hold__closed_at__gte=since, discharged_at__isnull=False)
        .values_list("discharged_at", "hold__closed_at").order_by()[:50_000]
    )
    files = DischargeFile.objects.using(DB).aggregate(
        queued=Count("pk", filter=Q(status=JobStatus.QUEUED)),
        running=Count("pk", filter=Q(status=JobStatus.RUNNING)),
        oldest=Min("created_at", filter=Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])),
    )
    return {
        "events_received": events["received"],
        "events_oldest_age": _age(now, events["oldest_received"]),
        "events_waiting": events["waiting"],
        "events_waiting_oldest_age": _age(now, events["oldest_waiting"]),
        "unreleased": unreleased["count"],
        "unreleased_oldest_age": _age(now, unreleased["oldest"]),
        "release_lag_median": percentile(lags, 50),
        "release_lag_p95": percentile(lags, 95),
        "release_lag_count": len(lags),
        "files_queued": files["queued"],
        "files_running": files["running"],
        "files_oldest_age": _age(now, files["oldest"]),
        "failed_tasks": TaskFailure.objects.using(DB).filter(resolved=False).count(),
        "emails_unsent": Notification.objects.using(DB).filter(emailed_at__isnull=True).count(),
    }


def visible_transits_all():
    """Every transit: the health figures are the secretariat's alone (the view checks who reads them)."""
    return Transit.objects.using(DB)


def _age(now, moment) -> float | None:
    """Seconds since ``moment``; ``None`` when there is nothing."""
    return None if moment is None else max((now - moment).total_seconds(), 0.0)
