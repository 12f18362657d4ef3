"""A guarantor bank's figures, on its own guarantees only (``guarantees_visible_to``): exposure per forwarder,
corridor and country, the use of its ceiling over time, expiries ahead, and its claims with their answer times."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import Count, F, Q, Sum

from guarantees.models import (
    COMMITTED_STATUSES,
    WINDING_DOWN_STATUSES,
    BankCeilingChange,
    ClaimStatus,
    GuaranteeStatus,
    HoldStatus,
    LedgerEntry,
    Transit,
)
from guarantees.selectors.claims import claims_visible_to
from guarantees.selectors.guarantees import guarantees_visible_to
from reporting.selectors.common import DB, Period, by_month, month_of, next_month, percentile, visible_guarantees

# Guarantees that carry money: committed (the bank stands behind the full amount) or winding down (still held or
# claimed). Requests, declined and withdrawn ones carry nothing.
EXPOSED_STATUSES = (*COMMITTED_STATUSES, *WINDING_DOWN_STATUSES, GuaranteeStatus.CLOSED)
OPEN_HOLD_STATUSES = (HoldStatus.HELD, HoldStatus.CLAIMED, HoldStatus.PAID)


def _exposed(user, *, principal=None):
    qs = visible_guarantees(user).filter(status__in=EXPOSED_STATUSES)
    if principal is not None:
        qs = qs.filter(principal_id=principal)
    return qs


def _exposed_ids(user, *, principal=None):
    """The same guarantees' ids, as a subquery (no database named: it runs on the outer query's)."""
    qs = guarantees_visible_to(user=user).filter(status__in=EXPOSED_STATUSES)
    if principal is not None:
        qs = qs.filter(principal_id=principal)
    return qs.values("pk")


def _balances(**extra):
    return {
        "guarantees": Count("pk"),
        "amount": Sum("amount", default=0),
        "held": Sum("held", default=0),
        "claimed": Sum("claimed", default=0),
        "paid": Sum("paid", default=0),
        **extra,
    }


def _with_available(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["available"] = row["amount"] - row["held"] - row["claimed"] - row["paid"]
    return rows


def bank_exposure_by_forwarder(*, user, principal=None) -> list[dict]:
    """Per principal: guarantees, reference amount, held, claimed (unpaid), paid and available."""
    rows = (
        _exposed(user, principal=principal)
        .values("principal_id", name=F("principal__name"))
        .annotate(**_balances())
        .order_by("-amount", "name")
    )
    return _with_available(list(rows))


def bank_exposure_totals(*, user, principal=None) -> dict:
    row = _exposed(user, principal=principal).aggregate(**_balances())
    return _with_available([row])[0]


def _holds_by(user, field: str, label: str, principal=None) -> list[dict]:
    transits = Transit.objects.using(DB).filter(
        guarantee__in=_exposed_ids(user, principal=principal), hold__status__in=OPEN_HOLD_STATUSES
    )
    return list(
        transits.values(key=F(field), name=F(label))
        .annotate(
            transits=Count("pk"),
            held=Sum("hold__amount", default=0),
            claimed=Sum("hold__claimed_amount", default=0),
            paid=Sum("hold__paid_amount", default=0),
        )
        .order_by("-held", "name")
    )


def bank_exposure_by_corridor(*, user, principal=None) -> list[dict]:
    """Per corridor of the transits drawing on the bank's guarantees: held, claimed and paid. (The reference
    amount and what is available belong to a guarantee, which covers every corridor: they are not split.)"""
    return _holds_by(user, "corridor__code", "corridor__name", principal)


def bank_exposure_by_country(*, user, principal=None) -> list[dict]:
    """Per country of destination of those transits: held, claimed and paid."""
    return _holds_by(user, "office_of_destination__country_id", "office_of_destination__country_id", principal)


def bank_ceiling_over_time(*, user, bank, period: Period) -> list[dict]:
    """At the end of each month: the reference amount of the bank's guarantees still valid that day, what was
    drawn on them (held, claimed, paid), and the ceiling then in force — from the ledger and the ceiling's
    history, so a past month reads as it stood."""
    months = period.months
    ends = [next_month(m) - datetime.timedelta(days=1) for m in months]
    guarantees = {
        row["pk"]: row for row in _exposed(user).values("pk", "valid_from", "valid_until")
    }
    movements = (
        LedgerEntry.objects.using(DB)
        .filter(guarantee_id__in=_exposed_ids(user), created_at__lt=period.until)
        .values("guarantee_id", month=by_month("created_at"))
        .annotate(amount=Sum("d_amount"), drawn=Sum(F("d_held") + F("d_claimed") + F("d_paid")))
        .order_by()
    )
    per_guarantee: dict[int, dict[datetime.date, tuple[int, int]]] = defaultdict(dict)
    for row in movements:
        per_guarantee[row["guarantee_id"]][month_of(row["month"])] = (row["amount"] or 0, row["drawn"] or 0)
    changes = list(
        BankCeilingChange.objects.using(DB).filter(bank=bank).order_by("changed_at", "pk")
        .values_list("changed_at", "new_ceiling")
    )
    series = []
    for month, end in zip(months, ends):
        committed = drawn = 0
        for pk, by_m in per_guarantee.items():
            amount = sum(a for m, (a, _d) in by_m.items() if m <= month)
            used = sum(d for m, (_a, d) in by_m.items() if m <= month)
            g = guarantees.get(pk)
            if g and g["valid_from"] <= end <= g["valid_until"]:
                committed += amount
            else:
                committed += used  # past its validity: only what is still drawn counts
            drawn += used
        ceiling = bank.exposure_ceiling
        earlier = [c for at, c in changes if at.date() <= end]
        if earlier:
            ceiling = earlier[-1]
        elif changes:
            ceiling = changes[0][1]
        series.append({"month": month, "committed": committed, "drawn": drawn, "ceiling": ceiling,
                       "pct": round(100 * committed / ceiling) if ceiling else None})
    return series


EXPIRY_BANDS = (30, 60, 90)


def bank_expiring(*, user, today: datetime.date, principal=None) -> tuple[list[dict], list]:
    """Live guarantees (active or suspended) ending within 30, 60 and 90 days: per band, how many, their
    reference amount and what is still held or claimed on them; and the guarantees themselves, soonest first."""
    live = _exposed(user, principal=principal).filter(
        status__in=[GuaranteeStatus.ACTIVE, GuaranteeStatus.SUSPENDED],
        valid_until__gte=today, valid_until__lte=today + datetime.timedelta(days=EXPIRY_BANDS[-1]),
    )
    bands = []
    low = 0
    aggregates = {}
    for days in EXPIRY_BANDS:
        window = Q(valid_until__gt=today + datetime.timedelta(days=low)) if low else Q()
        window &= Q(valid_until__lte=today + datetime.timedelta(days=days))
        aggregates[f"n{days}"] = Count("pk", filter=window)
        aggregates[f"a{days}"] = Sum("amount", filter=window, default=0)
        aggregates[f"o{days}"] = Sum(F("held") + F("claimed"), filter=window, default=0)
        low = days
    row = live.aggregate(**aggregates)
    low = 0
    for days in EXPIRY_BANDS:
        bands.append({"from": low + 1 if low else 0, "to": days, "guarantees": row[f"n{days}"],
                      "amount": row[f"a{days}"], "outstanding": row[f"o{days}"]})
        low = days
    rows = list(live.order_by("valid_until", "pk")[:200])
    return bands, rows


def bank_claims(*, user, period: Period, examination_days: int) -> dict:
    """Claims received in the period on the bank's guarantees: per status, how many, the amount claimed and paid;
    and the answers' times against the examination period (``examination_days`` working days, whose end each
    claim records): answered on time, late, still awaiting, already past the end, median and p95 days."""
    claims = claims_visible_to(user=user).using(DB).filter(issued_at__gte=period.since, issued_at__lt=period.until)
    by_status = list(
        claims.values("status")
        .annotate(claims=Count("pk"), amount=Sum("amount", default=0), paid=Sum("paid_amount", default=0))
        .order_by("status")
    )
    answered = list(
        claims.filter(answered_at__isnull=False)
        .values_list("issued_at", "answered_at", "examination_deadline")
        .order_by()
    )
    days = sorted((a - i).total_seconds() / 86400 for i, a, _d in answered)
    on_time = sum(1 for _i, a, d in answered if a <= d)
    from django.utils import timezone

    now = timezone.now()
    awaiting = claims.filter(status__in=[ClaimStatus.ISSUED, ClaimStatus.UNDER_EXAMINATION])
    waiting = awaiting.aggregate(total=Count("pk"), late=Count("pk", filter=Q(examination_deadline__lt=now)))
    return {
        "by_status": by_status,
        "received": sum(r["claims"] for r in by_status),
        "answered": len(answered),
        "on_time": on_time,
        "late": len(answered) - on_time,
        "awaiting": waiting["total"],
        "awaiting_late": waiting["late"],
        "median_days": percentile(days, 50),
        "p95_days": percentile(days, 95),
        "limit_days": examination_days,
    }
