"""The figures of a guarantee's monthly statement, read from its ledger and nothing else.

A month is the calendar month in the zone of the guarantee's country of issue (where its bank and principal read
it): from its first instant to the first instant of the next. The balances at an instant are the sums of the
entries written before it (the ledger is the truth; the guarantee's row is only their running total), so the
opening of a month is the closing of the one before, and the closing is the opening plus every movement of the
month, entry by entry. Everything is whole francs and JSON-safe: the statement keeps these figures beside its
PDF, and computing them again gives the same.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.db.models import Count, Sum

from guarantees.models import EntryKind, Guarantee, LedgerEntry

BALANCES = ("amount", "held", "claimed", "paid")


def month_first(value: datetime.date) -> datetime.date:
    return value.replace(day=1)


def month_next(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def month_previous(month: datetime.date) -> datetime.date:
    return (month.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def guarantee_zone(guarantee: Guarantee) -> zoneinfo.ZoneInfo:
    name = getattr(guarantee.country, "timezone", "") or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def month_bounds(*, guarantee: Guarantee, month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The first instant of ``month`` and of the next one, in the zone of the guarantee's country."""
    zone = guarantee_zone(guarantee)
    start = datetime.datetime.combine(month_first(month), datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(month_next(month), datetime.time.min, tzinfo=zone)
    return start, end


def _balances(entries) -> dict[str, int]:
    totals = entries.aggregate(amount=Sum("d_amount", default=0), held=Sum("d_held", default=0),
                               claimed=Sum("d_claimed", default=0), paid=Sum("d_paid", default=0))
    figures = {key: int(totals[key]) for key in BALANCES}
    figures["available"] = figures["amount"] - figures["held"] - figures["claimed"] - figures["paid"]
    return figures


def statement_figures(*, guarantee: Guarantee, month: datetime.date) -> dict:
    """Opening and closing balances of the month, every movement in it (in ledger order, with the balance
    available after it) and the movements' totals by kind."""
    start, end = month_bounds(guarantee=guarantee, month=month)
    entries = LedgerEntry.objects.filter(guarantee=guarantee)
    opening = _balances(entries.filter(created_at__lt=start))
    closing = _balances(entries.filter(created_at__lt=end))
    movements = []
    running = dict(opening)
    in_month = (entries.filter(created_at__gte=start, created_at__lt=end).select_related("hold").order_by("seq")
                .only("seq", "kind", "d_amount", "d_held", "d_claimed", "d_paid", "reference", "created_at",
                      "hold__reference"))
    for entry in in_month:
        for key in BALANCES:
            running[key] += getattr(entry, f"d_{key}")
        running["available"] = running["amount"] - running["held"] - running["claimed"] - running["paid"]
        movements.append({
            "seq": entry.seq, "kind": entry.kind, "at": entry.created_at.isoformat(),
            "transit": entry.hold.reference if entry.hold_id else "", "reference": entry.reference,
            "d_amount": entry.d_amount, "d_held": entry.d_held, "d_claimed": entry.d_claimed, "d_paid": entry.d_paid,
            "available": running["available"],
        })
    by_kind = {
        row["kind"]: {"count": row["count"], "d_amount": int(row["d_amount"]), "d_held": int(row["d_held"]),
                      "d_claimed": int(row["d_claimed"]), "d_paid": int(row["d_paid"])}
        for row in entries.filter(created_at__gte=start, created_at__lt=end).values("kind").annotate(
            count=Count("pk"), d_amount=Sum("d_amount"), d_held=Sum("d_held"), d_claimed=Sum("d_claimed"),
            d_paid=Sum("d_paid"),
        ).order_by("kind")
    }
    return {
        "month": month_first(month).isoformat()[:7],
        "zone": guarantee_zone(guarantee).key,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "opening": opening,
        "closing": closing,
        "movements": movements,
        "by_kind": {kind: by_kind[kind] for kind in EntryKind.values if kind in by_kind},
    }


# --- What the statement's charts draw: from the figures alone (no database), so that a stored statement's content
# is all its renderer needs. -------------------------------------------------------------------------------------

RELEASES = (EntryKind.RELEASE, EntryKind.PARTIAL_RELEASE)


def _month_days(figures: dict) -> tuple[zoneinfo.ZoneInfo, list[datetime.date]]:
    zone = zoneinfo.ZoneInfo(figures["zone"])
    first = datetime.datetime.fromisoformat(figures["start"]).astimezone(zone).date()
    last = (datetime.datetime.fromisoformat(figures["end"]).astimezone(zone) - datetime.timedelta(days=1)).date()
    return zone, [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


def statement_days(figures: dict) -> list[dict]:
    """The balances at the end of each day of the month, in the zone of the guarantee's country: the opening
    plus every movement dated that day or before. The last day's are the closing."""
    zone, days = _month_days(figures)
    running = dict(figures["opening"])
    movements = iter(figures["movements"])
    pending = next(movements, None)
    out = []
    for day in days:
        while pending is not None and datetime.datetime.fromisoformat(pending["at"]).astimezone(zone).date() <= day:
            for key in BALANCES:
                running[key] += pending[f"d_{key}"]
            running["available"] = pending["available"]
            pending = next(movements, None)
        out.append({"day": day, **running})
    return out


def statement_weeks(figures: dict) -> list[dict]:
    """The amounts held and released in each week of the month — days 1–7, 8–14, 15–21, 22–28 and what is left —
    with how many holds and releases. A claim turns what is held into what is claimed: it is not a release."""
    zone, days = _month_days(figures)
    weeks = [{"first": days[i], "last": days[min(i + 6, len(days) - 1)], "held": 0, "holds": 0, "released": 0,
              "releases": 0} for i in range(0, len(days), 7)]
    for m in figures["movements"]:
        week = weeks[(datetime.datetime.fromisoformat(m["at"]).astimezone(zone).day - 1) // 7]
        if m["kind"] == EntryKind.HOLD:
            week["held"] += m["d_held"]
            week["holds"] += 1
        elif m["kind"] in RELEASES:
            week["released"] -= m["d_held"]
            week["releases"] += 1
    return weeks


def guarantees_for_statements(*, month: datetime.date):
    """The guarantees that get a statement for ``month``: activated before its end, and in force during it, or
    with something held or claimed, or with a movement in it."""
    from django.db.models import Exists, OuterRef, Q

    # Bounds in UTC±1 at most; a day's margin either side is caught by the exact bounds of each statement.
    start = datetime.datetime.combine(month_first(month), datetime.time.min, tzinfo=datetime.timezone.utc)
    end = datetime.datetime.combine(month_next(month), datetime.time.min, tzinfo=datetime.timezone.utc)
    margin = datetime.timedelta(days=1)
    moved = LedgerEntry.objects.filter(guarantee_id=OuterRef("pk"), created_at__gte=start - margin,
                                       created_at__lt=end + margin)
    return (Guarantee.objects.filter(activated_at__lt=end + margin)
            .filter(Q(valid_until__gte=month_first(month)) | Q(held__gt=0) | Q(claimed__gt=0) | Exists(moved))
            .order_by("pk"))
