"""A customs administration's figures, on the transits whose route touches its country (``transits_visible_to``):
duties secured by holds, open transits by age and corridor, release lead times, enquiries and claims."""

from __future__ import annotations

import datetime

from django.db import connections
from django.db.models import (
    Aggregate, Case, Count, DurationField, ExpressionWrapper, F, FloatField, Func, Min, Q, Sum, Value, When,
)
from django.db.models.functions import Cast, Coalesce, Extract, Greatest

from guarantees.models import OPEN_TRANSIT_STATUSES, HoldStatus
from guarantees.selectors.claims import claims_visible_to, enquiries_visible_to
from reporting.selectors.common import DB, Period, by_month, month_of, percentile, visible_transits

SECURING_HOLDS = (HoldStatus.HELD, HoldStatus.CLAIMED)


def _transits(user, *, corridor=None):
    qs = visible_transits(user)
    if corridor:
        qs = qs.filter(corridor__code=corridor)
    return qs


def customs_secured_now(*, user, corridor=None) -> dict:
    """What the holds still secure today: held plus claimed-not-paid, on the open transits."""
    return _transits(user, corridor=corridor).filter(hold__status__in=SECURING_HOLDS).aggregate(
        transits=Count("pk"), held=Sum("hold__amount", default=0), claimed=Sum("hold__claimed_amount", default=0),
    )


def customs_secured_by_month(*, user, period: Period, corridor=None) -> list[dict]:
    """Per month of declaration: transits declared, the duties and taxes secured at departure, and what of it is
    still secured today."""
    rows = (
        _transits(user, corridor=corridor)
        .filter(declared_at__gte=period.since, declared_at__lt=period.until)
        .values(month=by_month("declared_at"))
        .annotate(
            transits=Count("pk"),
            secured=Sum("amount_held", default=0),
            still_held=Sum("hold__amount", filter=Q(hold__status__in=SECURING_HOLDS), default=0),
        )
        .order_by()
    )
    found = {month_of(r["month"]): r for r in rows}
    return [
        {"month": m, "transits": found.get(m, {}).get("transits", 0), "secured": found.get(m, {}).get("secured", 0),
         "still_held": found.get(m, {}).get("still_held", 0)}
        for m in period.months
    ]


AGE_BANDS = ((0, 7), (8, 15), (16, 30), (31, 60), (61, None))


def customs_open_by_age(*, user, now: datetime.datetime, corridor=None) -> list[dict]:
    """Open transits by days since declaration: how many, how many past their time limit, the amount held."""
    open_ = _transits(user, corridor=corridor).filter(status__in=OPEN_TRANSIT_STATUSES)
    aggregates = {}
    for low, high in AGE_BANDS:
        window = Q(declared_at__lte=now - datetime.timedelta(days=low))
        if high is not None:
            window &= Q(declared_at__gt=now - datetime.timedelta(days=high + 1))
        key = f"{low}"
        aggregates[f"n{key}"] = Count("pk", filter=window)
        aggregates[f"o{key}"] = Count("pk", filter=window & Q(deadline__lt=now))
        aggregates[f"a{key}"] = Sum("hold__amount", filter=window, default=0)
    row = open_.aggregate(**aggregates)
    return [{"from": low, "to": high, "transits": row[f"n{low}"], "overdue": row[f"o{low}"],
             "held": row[f"a{low}"]} for low, high in AGE_BANDS]


def customs_open_by_corridor(*, user, now: datetime.datetime, corridor=None) -> list[dict]:
    """Open transits per corridor: how many, how many overdue, the amount held, and the oldest deadline passed
    (read as the most days overdue)."""
    rows = list(
        _transits(user, corridor=corridor).filter(status__in=OPEN_TRANSIT_STATUSES)
        .values(code=F("corridor__code"), name=F("corridor__name"))
        .annotate(
            transits=Count("pk"),
            overdue=Count("pk", filter=Q(deadline__lt=now)),
            held=Sum("hold__amount", default=0),
        )
        .order_by("-overdue", "-transits", "code")
    )
    firsts = (
        _transits(user, corridor=corridor).filter(status__in=OPEN_TRANSIT_STATUSES, deadline__lt=now)
        .values("corridor__code").annotate(first=Min("deadline")).order_by()
    )
    oldest = {r["corridor__code"]: r["first"] for r in firsts}
    for row in rows:
        first = oldest.get(row["code"])
        row["max_days_overdue"] = (now - first).days if first else 0
    return rows


def customs_most_overdue(*, user, now: datetime.datetime, corridor=None, limit: int = 50) -> list:
    """The open transits longest past their time limit, with their days overdue."""
    rows = list(
        _transits(user, corridor=corridor)
        .filter(status__in=OPEN_TRANSIT_STATUSES, deadline__lt=now)
        .order_by("deadline", "pk")[:limit]
    )
    for t in rows:
        t.days_overdue = (now - t.deadline).days
    return rows


LEAD_BANDS_HOURS = ((0, 1), (1, 6), (6, 24), (24, 72), (72, 168), (168, None))


def _hours(later, earlier) -> float | None:
    if later is None or earlier is None:
        return None
    return max((later - earlier).total_seconds() / 3600, 0.0)


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)`` (NULLs left out)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def _hours_between(later: str, earlier) -> Func:
    """Hours from ``earlier`` to ``later`` (fields or expressions), never negative, in SQL."""
    missing = Q(**{f"{earlier}__isnull": True}) if isinstance(earlier, str) else None
    earlier = F(earlier) if isinstance(earlier, str) else earlier
    seconds = Cast(Extract(ExpressionWrapper(F(later) - earlier, output_field=DurationField()), "epoch"), FloatField())
    hours = Greatest(ExpressionWrapper(seconds / Value(3600.0), output_field=FloatField()), Value(0.0))
    if missing is None:
        return hours
    # GREATEST skips a NULL: without its earlier moment (no arrival reported) a leg has no length, not zero.
    return Case(When(missing, then=Value(None)), default=hours, output_field=FloatField())


LEGS = {"ad": ("discharged_at", "arrived_at"), "dr": ("hold__closed_at", "discharged_at"),
        "ar": ("hold__closed_at", Coalesce("arrived_at", "discharged_at"))}


def _release_times_sql(rows) -> dict:
    """``customs_release_times`` computed by PostgreSQL: percentiles and bands in two grouped queries, however many
    transits (at a million, the secretariat's 300 000 discharges took 24 s read into Python; now ~1 s)."""
    legs = {key: _hours_between(*fields) for key, fields in LEGS.items()}
    rows = rows.annotate(**{f"h_{key}": expression for key, expression in legs.items()})
    per_office = {}
    for key in LEGS:
        per_office[f"{key}_median"] = PercentileCont(f"h_{key}", 0.5)
        per_office[f"{key}_p95"] = PercentileCont(f"h_{key}", 0.95)
    offices = [
        {"code": r["office_of_destination__code"], "name": r["office_of_destination__name"],
         "country": r["office_of_destination__country_id"], **{k: r[k] for k in per_office}, "transits": r["transits"]}
        for r in rows.values("office_of_destination__code", "office_of_destination__name",
                             "office_of_destination__country_id")
        .annotate(transits=Count("pk"), **per_office).order_by("office_of_destination__code")
    ]
    bands = {}
    for low, high in LEAD_BANDS_HOURS:
        window = Q(h_ar__gte=low) if high is None else Q(h_ar__gte=low, h_ar__lt=high)
        bands[f"b{low}"] = Count("pk", filter=window)
    whole = rows.aggregate(transits=Count("pk"), median=PercentileCont("h_ar", 0.5), p95=PercentileCont("h_ar", 0.95),
                           **bands)
    return {"offices": offices,
            "bands": [{"from": low, "to": high, "transits": whole[f"b{low}"]} for low, high in LEAD_BANDS_HOURS],
            "transits": whole["transits"], "median": whole["median"], "p95": whole["p95"]}


def customs_release_times(*, user, period: Period, corridor=None) -> dict:
    """For the transits discharged in the period: arrival → discharge → release of the hold, in hours. Per
    office of destination: how many, median and p95 of each leg and of the whole; and the distribution of the
    whole (arrival, or the discharge when no arrival was reported, to the release) in bands. On PostgreSQL the
    database computes it (``percentile_cont``); elsewhere (the embedded default's SQLite) the rows are read and
    the same figures computed here, by the same interpolation."""
    in_period = (
        _transits(user, corridor=corridor)
        .filter(discharged_at__gte=period.since, discharged_at__lt=period.until, hold__closed_at__isnull=False)
        .order_by()
    )
    if connections[DB].vendor == "postgresql":
        return _release_times_sql(in_period)
    rows = in_period.values_list(
        "office_of_destination__code", "office_of_destination__name", "office_of_destination__country_id",
        "arrived_at", "discharged_at", "hold__closed_at",
    )
    legs: dict[str, dict] = {}
    everything: list[float] = []
    for code, name, country, arrived, discharged, released in rows.iterator(chunk_size=2000):
        office = legs.setdefault(code, {"code": code, "name": name, "country": country, "ad": [], "dr": [], "ar": []})
        ad, dr = _hours(discharged, arrived), _hours(released, discharged)
        whole = _hours(released, arrived or discharged)
        if ad is not None:
            office["ad"].append(ad)
        office["dr"].append(dr)
        office["ar"].append(whole)
        everything.append(whole)
    offices = []
    for office in sorted(legs.values(), key=lambda o: o["code"]):
        for key in ("ad", "dr", "ar"):
            values = sorted(office.pop(key))
            office[f"{key}_median"] = percentile(values, 50)
            office[f"{key}_p95"] = percentile(values, 95)
            if key == "ar":
                office["transits"] = len(values)
        offices.append(office)
    everything.sort()
    bands = []
    for low, high in LEAD_BANDS_HOURS:
        bands.append({"from": low, "to": high,
                      "transits": sum(1 for v in everything if v >= low and (high is None or v < high))})
    return {"offices": offices, "bands": bands, "transits": len(everything),
            "median": percentile(everything, 50), "p95": percentile(everything, 95)}


def customs_cases(*, user, period: Period, corridor=None) -> dict:
    """Enquiries opened and claims issued in the period, per status: how many and the amounts at stake."""
    enquiries = enquiries_visible_to(user=user).using(DB).filter(opened_at__gte=period.since, opened_at__lt=period.until)
    claims = claims_visible_to(user=user).using(DB).filter(issued_at__gte=period.since, issued_at__lt=period.until)
    if corridor:
        enquiries = enquiries.filter(transit__corridor__code=corridor)
        claims = claims.filter(transit__corridor__code=corridor)
    return {
        "enquiries": list(
            enquiries.values("status").annotate(cases=Count("pk"), amount=Sum("transit__amount_held", default=0))
            .order_by("status")
        ),
        "claims": list(
            claims.values("status").annotate(cases=Count("pk"), amount=Sum("amount", default=0),
                                             paid=Sum("paid_amount", default=0))
            .order_by("status")
        ),
    }
