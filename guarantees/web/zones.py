"""The reader's time zone: every time on a page is shown in the zone of the reader's organisation's country.

A page shows each instant once, in one zone, named once (the footer, and the headers of columns of times):
never "00:07 GMT" in one place and "01:07 WAT" in another for the same event. The four countries share two
zones (UTC+0 in Burkina Faso, Mali and Togo; UTC+1 in Niger), and a person reads times in their own. Someone
without an organisation (the public verification page) reads UTC. The API is left alone: it speaks ISO 8601
with offsets.
"""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

from guarantees.zones import country_zone


def reader_zone(user) -> zoneinfo.ZoneInfo | None:
    organisation = getattr(user, "organisation", None) if getattr(user, "is_authenticated", False) else None
    return country_zone(getattr(organisation, "country", None))


class ReaderZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = None if request.path.startswith("/api/") else reader_zone(getattr(request, "user", None))
        if zone is None:
            return self.get_response(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
