"""The signed status list of offline verification: where every version of every guarantee stands, as of a time.

One entry per version, at the version's status index (its key: the payload in the QR code carries it as ``si``),
4 bits each: where the version stands (``version_standing``'s rule, ``standing_of``) and whether the guarantee
was called (a claim made on it: something claimed or paid). Valid versions are zeros, so the deflated bitstring
stays small (see ``guarantees.documents.offline`` for the format).

Refreshed by Celery beat every hour and after every change that moves an entry (suspension, reactivation, expiry,
cancellation, closure, a new version, a claim): ``status_list_changed`` queues the refresh after the commit.
``issued_at`` is taken *before* reading, so of two refreshes racing, the one published last (the newest
``issued_at``) is never the one that read before the other.
"""

from __future__ import annotations

import base64
import datetime
import zoneinfo

from django.conf import settings
from django.utils import timezone

from guarantees.documents.offline import CALLED, STATUS_CODES, status_list_claims, status_list_sign
from guarantees.documents.offline_keys import offline_signing_key
from guarantees.models import GuaranteeVersion, StatusList
from guarantees.queue import queue_after_commit

KEEP = 48  # lists kept (two days of hourly refreshes)
REFRESH_TASK = "guarantees.tasks.refresh_status_list"


def status_list_changed() -> None:
    """Something a status list says changed: refresh it once this transaction commits."""
    queue_after_commit(REFRESH_TASK)


def _today_in(zone_name: str, now: datetime.datetime, cache: dict) -> datetime.date:
    if zone_name not in cache:
        try:
            zone = zoneinfo.ZoneInfo(zone_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = datetime.UTC
        cache[zone_name] = timezone.localtime(now, zone).date()
    return cache[zone_name]


def status_list_entries(*, now: datetime.datetime) -> tuple[dict[int, int], int]:
    """``({status index: 4-bit value} for the versions not valid, length)`` as of ``now``."""
    from guarantees.services.certificates import standing_of

    rows = GuaranteeVersion.objects.values_list(
        "pk", "number", "valid_from", "valid_until", "guarantee__version", "guarantee__status",
        "guarantee__claimed", "guarantee__paid", "guarantee__country__timezone",
    ).order_by()
    entries: dict[int, int] = {}
    length = 0
    todays: dict = {}
    for pk, number, valid_from, valid_until, current, status, claimed, paid, zone in rows.iterator(chunk_size=5000):
        length = max(length, pk + 1)
        standing = standing_of(status=status, is_current=number == current, valid_from=valid_from,
                               valid_until=valid_until, today=_today_in(zone, now, todays))
        value = STATUS_CODES[standing] | (CALLED if claimed or paid else 0)
        if value:
            entries[pk] = value
    return entries, length


def status_list_refresh(*, now: datetime.datetime | None = None) -> StatusList:
    """Build, sign and store the list as of ``now``; trim the old ones."""
    now = now or timezone.now()
    entries, length = status_list_entries(now=now)
    key = offline_signing_key()
    ttl = datetime.timedelta(seconds=settings.OFFLINE_STATUS_LIST_TTL_SECONDS)
    claims = status_list_claims(entries=entries, length=length, issued_at=now, ttl=ttl)
    signed = status_list_sign(claims, private_key=key.private_key, kid=key.kid)
    issued_at = now.replace(microsecond=0)  # what the list says (whole seconds)
    row = StatusList.objects.create(
        issued_at=issued_at, expires_at=issued_at + ttl, kid=base64.b64encode(key.kid).decode("ascii"),
        length=length, flagged=len(entries), size=len(signed), signed=signed,
    )
    stale = StatusList.objects.order_by("-issued_at", "-pk").values_list("pk", flat=True)[KEEP:]
    StatusList.objects.filter(pk__in=list(stale)).delete()
    return row


def status_list_current() -> StatusList:
    """The newest list; made now when there is none yet (a fresh registry before its first hourly refresh)."""
    row = StatusList.objects.order_by("-issued_at", "-pk").first()
    return row if row is not None else status_list_refresh()
