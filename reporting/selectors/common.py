"""What every report shares: the database alias, the reader's scope, months and percentiles."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models.functions import TruncMonth
from django.utils import timezone

from guarantees.selectors.guarantees import guarantees_visible_to
from guarantees.selectors.transits import transits_visible_to

DB = "reporting"


def visible_guarantees(user):
    return guarantees_visible_to(user=user).using(DB)


def visible_transits(user):
    return transits_visible_to(user=user).using(DB)


# For subqueries: the inner query is written into the outer one and runs on the outer query's connection (the
# "reporting" alias); naming a database on it too would be refused as a cross-database subquery.
def visible_guarantee_ids(user):
    return guarantees_visible_to(user=user).values("pk")


@dataclass(frozen=True)
class Period:
    """Whole months from ``start`` (first day) to ``end`` (first day of the last month), both included."""

    start: datetime.date
    end: datetime.date

    @property
    def months(self) -> list[datetime.date]:
        out, month = [], self.start
        while month <= self.end:
            out.append(month)
            month = next_month(month)
        return out

    @property
    def since(self) -> datetime.datetime:
        return datetime.datetime.combine(self.start, datetime.time.min, tzinfo=datetime.timezone.utc)

    @property
    def until(self) -> datetime.datetime:
        """The first moment after the period."""
        return datetime.datetime.combine(next_month(self.end), datetime.time.min, tzinfo=datetime.timezone.utc)


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def last_months(count: int, *, today: datetime.date | None = None) -> Period:
    end = first_of_month(today or timezone.now().date())
    start = end
    for _ in range(count - 1):
        start = first_of_month(start - datetime.timedelta(days=1))
    return Period(start=start, end=end)


def month_of(value) -> datetime.date | None:
    """The first day of the month of a ``TruncMonth`` result (a date or an aware datetime, in UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.timezone.utc).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def by_month(field: str):
    return TruncMonth(field, tzinfo=datetime.timezone.utc)


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """The ``pct`` percentile (0–100) of ``sorted_values`` by linear interpolation, as PostgreSQL's
    ``percentile_cont``; ``None`` for no value."""
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return sorted_values[0]
    rank = (len(sorted_values) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)
