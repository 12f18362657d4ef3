"""Template filters and tags of the registry: amounts in FCFA, times in an office's zone, permissions, links.

Amounts: groups of three digits are separated by U+202F NARROW NO-BREAK SPACE (the French typographic
thousands separator) and the unit by U+00A0 NO-BREAK SPACE, so "12 500 000 FCFA" never breaks across lines.
The same characters are used in both languages.
"""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats, timezone

from accounts.navigation import url_or_none

register = template.Library()

THOUSANDS_SEPARATOR = "\u202f"
UNIT_SEPARATOR = "\u00a0"
EMPTY = "—"


def format_fcfa(value) -> str:
    """``12500000`` → ``"12 500 000 FCFA"``; ``None`` → ``"—"``. Whole francs: XOF has no minor unit."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = int(Decimal(str(value)).to_integral_value())
    except (InvalidOperation, ValueError, TypeError):
        return str(value)
    digits = f"{abs(amount):,}".replace(",", THOUSANDS_SEPARATOR)
    sign = "-" if amount < 0 else ""
    return f"{sign}{digits}{UNIT_SEPARATOR}FCFA"


@register.filter
def fcfa(value) -> str:
    return format_fcfa(value)


def _zone(where) -> zoneinfo.ZoneInfo | None:
    name = where if isinstance(where, str) else getattr(where, "timezone", None)
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


# The towns the zones of the four countries are named after, spelled as their people spell them.
_TOWNS = {"Africa/Lome": "Lomé"}


def zone_label(zone: datetime.tzinfo, at: datetime.datetime | None = None) -> str:
    """``heure de Niamey (UTC+1)`` / ``Niamey time (UTC+1)``; ``UTC`` for UTC itself."""
    from django.utils.translation import gettext

    at = at or timezone.now()
    offset = at.astimezone(zone).utcoffset() or datetime.timedelta(0)
    key = getattr(zone, "key", None) or str(zone)
    if key in ("UTC", "Etc/UTC") or zone is datetime.timezone.utc:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    hours, rest = divmod(abs(minutes), 60)
    utc = f"UTC{'+' if minutes >= 0 else '−'}{hours}" + (f":{rest:02d}" if rest else "")
    town = _TOWNS.get(key) or key.rsplit("/", 1)[-1].replace("_", " ")
    # Translators: a time zone named after its town, e.g. "heure de Niamey (UTC+1)".
    return gettext("%(town)s time (%(utc)s)") % {"town": town, "utc": utc}


def _in(value, zone) -> str:
    if value is None or value == "":
        return EMPTY
    if not isinstance(value, datetime.datetime):
        if isinstance(value, datetime.date):
            return formats.date_format(value, "SHORT_DATE_FORMAT")
        return str(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.timezone.utc)
    return formats.date_format(value.astimezone(zone), "SHORT_DATETIME_FORMAT")


@register.filter
def when(value) -> str:
    """A moment in the reader's zone (``accounts.zones``), day/month/year and 24 hours: ``27/11/2026 19:57``.

    The zone is not repeated beside each time: the page names it once (``{% reader_zone %}``)."""
    return _in(value, timezone.get_current_timezone())


@register.filter
def in_zone(value, where) -> str:
    """A moment in a given zone, named: ``value|in_zone:"UTC"`` → ``27/11/2026 19:57 UTC``.

    For the rare time that must be read in a zone other than the reader's (a public page, a document). Pages
    for signed-in people use ``|when``, so that one page never shows one instant in two zones."""
    if value is None or value == "":
        return EMPTY
    zone = _zone(where) or datetime.timezone.utc
    text = _in(value, zone)
    if not isinstance(value, datetime.datetime):
        return text
    return f"{text} {zone_label(zone, value)}" if zone_label(zone, value) == "UTC" else f"{text}, {zone_label(zone, value)}"


@register.simple_tag
def reader_zone() -> str:
    """The zone the page's times are in, named: ``heure de Ouagadougou (UTC+0)``."""
    return zone_label(timezone.get_current_timezone())


@register.filter
def can(user, permission: str) -> bool:
    """``user|can:"guarantee.view"``: whether the person's roles grant the permission."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.can(permission)


register.filter("has_perm", can)


@register.simple_tag
def url_if_exists(url_name: str, *args, **kwargs) -> str:
    """``{% url_if_exists "guarantees:list" as url %}{% if url %}…{% endif %}``: "" when the URL does not exist."""
    return url_or_none(url_name, *args, **kwargs) or ""


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> dict:
    """``{% unread_notifications as unread %}``: the reader's unread notifications (``unread.count``) and the URL
    of their page (``unread.url``), for the badge of the navigation. One indexed count per page."""
    request = context.get("request")
    user = getattr(request, "user", None)
    url = url_or_none("guarantees:notifications")
    if url is None or user is None or not user.is_authenticated:
        return {"count": 0, "url": url}
    from guarantees.models import Notification

    return {"count": Notification.objects.filter(recipient=user, read_at__isnull=True).count(), "url": url}
