"""Working-day deadlines counted on a country's calendar: weekends (``REGISTRY_WEEKEND_DAYS``) and the public
holidays kept as data (``PublicHoliday``).

The rule, as in URDG 758's "business days": the day something happens is not counted; the deadline is the
end of the Nth working day after it, in the country's time zone. ``guarantees.reference.holidays`` loads a few illustrative
2026 holidays per country; the secretariat completes and corrects them in the admin.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.db.models import Q

from guarantees.models import Country, PublicHoliday


def holiday_dates(*, country: Country | str, first: datetime.date, last: datetime.date) -> set[datetime.date]:
    """The public holidays of ``country`` between ``first`` and ``last`` (inclusive)."""
    code = country if isinstance(country, str) else country.pk
    rows = PublicHoliday.objects.filter(country_id=code).filter(
        Q(date__range=(first, last)) | Q(recurs_yearly=True)
    ).values_list("date", "recurs_yearly")
    days: set[datetime.date] = set()
    for day, yearly in rows:
        if not yearly:
            days.add(day)
            continue
        for year in range(first.year, last.year + 1):
            try:
                candidate = day.replace(year=year)
            except ValueError:  # 29 February in a common year
                continue
            if first <= candidate <= last:
                days.add(candidate)
    return days


def is_working_day(*, country: Country | str, day: datetime.date) -> bool:
    return day.weekday() not in settings.REGISTRY_WEEKEND_DAYS and day not in holiday_dates(
        country=country, first=day, last=day
    )


def working_days_add(*, country: Country | str, start: datetime.date, days: int) -> datetime.date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    # Enough room for weekends and a dense run of holidays; widened if ever exhausted.
    window = days * 2 + 30
    holidays = holiday_dates(country=country, first=start, last=start + datetime.timedelta(days=window))
    day, counted = start, 0
    while counted < days:
        day += datetime.timedelta(days=1)
        if day > start + datetime.timedelta(days=window):
            window *= 2
            holidays = holiday_dates(country=country, first=start, last=start + datetime.timedelta(days=window))
        if day.weekday() in settings.REGISTRY_WEEKEND_DAYS or day in holidays:
            continue
        counted += 1
    return day


def country_zone(country: Country | str) -> zoneinfo.ZoneInfo:
    """The time zone of a country (a ``Country`` or its ISO code, as an organisation holds it); UTC if unknown."""
    name = country.timezone if isinstance(country, Country) else (
        Country.objects.filter(pk=country).values_list("timezone", flat=True).first())
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_date(*, country: Country | str, at: datetime.datetime) -> datetime.date:
    return at.astimezone(country_zone(country)).date()


def end_of_day(*, country: Country | str, day: datetime.date) -> datetime.datetime:
    """The first instant after ``day`` in the country's zone (the deadline is "by the end of ``day``")."""
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0), tzinfo=country_zone(country))


def working_deadline(*, country: Country | str, at: datetime.datetime, days: int) -> tuple[datetime.date, datetime.datetime]:
    """``(due date, deadline instant)``: the end of the ``days``-th working day after ``at`` in ``country``."""
    due = working_days_add(country=country, start=local_date(country=country, at=at), days=days)
    return due, end_of_day(country=country, day=due)
