"""A forwarder's figures, on its own guarantees (``guarantees_visible_to``): each guarantee's balance over
time, holds and releases per month, transits in progress, and the headroom forecast."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import Count, F, Q, Sum

from guarantees.forecast import WINDOW_DAYS, Forecast, headroom_forecast
from guarantees.models import OPEN_TRANSIT_STATUSES, GuaranteeStatus, LedgerEntry
from guarantees.selectors.pace import HOLD_KINDS, RELEASE_KINDS, guarantees_pace
from reporting.selectors.common import (
    DB,
    Period,
    by_month,
    month_of,
    visible_guarantee_ids,
    visible_guarantees,
    visible_transits,
)

# Guarantees that have a balance: activated (a confirmed one awaiting customs has no ledger yet).
BALANCE_STATUSES = (GuaranteeStatus.ACTIVE, GuaranteeStatus.SUSPENDED, GuaranteeStatus.EXPIRED,
                    GuaranteeStatus.CANCELLED)
LIVE_STATUSES = (GuaranteeStatus.ACTIVE, GuaranteeStatus.SUSPENDED)


def forwarder_guarantees(*, user, live_only: bool = False) -> list:
    """The forwarder's guarantees that have a balance (``live_only``: those that can still be drawn on)."""
    statuses = LIVE_STATUSES if live_only else BALANCE_STATUSES
    return list(visible_guarantees(user).filter(status__in=statuses).order_by("valid_until", "pk"))


def forwarder_balance_over_time(*, guarantees: list, period: Period) -> dict[int, list[dict]]:
    """``{guarantee_id: [{"month", "amount", "drawn", "available"}]}`` at the end of each month, from the
    ledger (one grouped query for all the guarantees)."""
    ids = [g.pk for g in guarantees]
    rows = (
        LedgerEntry.objects.using(DB)
        .filter(guarantee_id__in=ids, created_at__lt=period.until)
        .values("guarantee_id", month=by_month("created_at"))
        .annotate(amount=Sum("d_amount"), drawn=Sum(F("d_held") + F("d_claimed") + F("d_paid")))
        .order_by()
    )
    moves: dict[int, list[tuple[datetime.date, int, int]]] = defaultdict(list)
    for row in rows:
        moves[row["guarantee_id"]].append((month_of(row["month"]), row["amount"] or 0, row["drawn"] or 0))
    series = {}
    for pk in ids:
        out = []
        for month in period.months:
            amount = sum(a for m, a, _d in moves[pk] if m <= month)
            drawn = sum(d for m, _a, d in moves[pk] if m <= month)
            out.append({"month": month, "amount": amount, "drawn": drawn, "available": amount - drawn})
        series[pk] = out
    return series


def forwarder_movements_by_month(*, user, period: Period) -> list[dict]:
    """Per month, over all the forwarder's guarantees: holds taken (how many, how much) and releases (how many,
    how much given back, partial releases included)."""
    rows = (
        LedgerEntry.objects.using(DB)
        .filter(guarantee__in=visible_guarantee_ids(user),
                created_at__gte=period.since, created_at__lt=period.until, kind__in=HOLD_KINDS + RELEASE_KINDS)
        .values(month=by_month("created_at"))
        .annotate(
            holds=Count("pk", filter=Q(kind__in=HOLD_KINDS)),
            held=Sum("d_held", filter=Q(kind__in=HOLD_KINDS), default=0),
            releases=Count("pk", filter=Q(kind__in=RELEASE_KINDS)),
            released=Sum("d_held", filter=Q(kind__in=RELEASE_KINDS), default=0),
        )
        .order_by()
    )
    found = {month_of(r["month"]): r for r in rows}
    return [
        {"month": m, "holds": found.get(m, {}).get("holds", 0), "held": found.get(m, {}).get("held", 0),
         "releases": found.get(m, {}).get("releases", 0), "released": -found.get(m, {}).get("released", 0)}
        for m in period.months
    ]


def forwarder_transits_in_progress(*, user, limit: int = 100) -> tuple[int, list]:
    """How many of the forwarder's transits are open, and the first ``limit`` of them by time limit."""
    open_ = visible_transits(user).filter(status__in=OPEN_TRANSIT_STATUSES)
    return open_.count(), list(open_.select_related("guarantee").order_by("deadline", "pk")[:limit])


def forwarder_forecasts(*, guarantees: list, today: datetime.date, now: datetime.datetime) -> dict[int, Forecast]:
    """The headroom forecast of each live guarantee, at the pace of the last ``WINDOW_DAYS`` days."""
    live = [g for g in guarantees if g.status in LIVE_STATUSES]
    since = now - datetime.timedelta(days=WINDOW_DAYS)
    pace = guarantees_pace(guarantee_ids=[g.pk for g in live], since=since, using=DB)
    return {
        g.pk: headroom_forecast(available=g.available, held_in_window=pace.get(g.pk, (0, 0))[0],
                                released_in_window=pace.get(g.pk, (0, 0))[1], today=today)
        for g in live
    }


