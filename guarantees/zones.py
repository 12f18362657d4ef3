"""Each country's time zone, read once per process: the zone the people of an organisation of that country read
times in (``guarantees.web.zones`` for pages, ``reporting.snapshots`` for reports read by a task)."""

from __future__ import annotations

import zoneinfo

# Country code → zone name. A country's zone does not change while the process lives; caching it spares every
# page a query (and the tests that count queries a surprise).
_ZONES: dict[str, str] = {}


def country_zone_name(country_id: str | None) -> str | None:
    if not country_id:
        return None
    if country_id not in _ZONES:
        from guarantees.models import Country

        name = Country.objects.filter(pk=country_id).values_list("timezone", flat=True).first()
        if not name:
            return None
        _ZONES[country_id] = name
    return _ZONES[country_id]


def country_zone(country_id: str | None) -> zoneinfo.ZoneInfo | None:
    """The zone of the country with this code, or ``None`` (no country, an unknown or broken zone name)."""
    name = country_zone_name(country_id)
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
