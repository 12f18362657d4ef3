"""How the registry writes amounts and moments, the same in pages, PDFs, e-mails and messages.

Amounts: ``12 500 000 FCFA``.

Groups of three digits are separated by U+202F NARROW NO-BREAK SPACE (the French typographic thousands
separator) and the unit by U+00A0 NO-BREAK SPACE, so an amount never breaks across lines; the same characters in
both languages. XOF has no minor unit: whole francs only.
"""

import datetime
import zoneinfo
from decimal import Decimal, InvalidOperation

from django.utils import formats, timezone

THOUSANDS_SEPARATOR = "\u202f"
UNIT_SEPARATOR = "\u00a0"
EMPTY = "—"


def format_fcfa(value) -> str:
    """``12500000`` → ``"12 500 000 FCFA"``; ``None`` → ``"—"``."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = int(Decimal(str(value)).to_integral_value())
    except (InvalidOperation, ValueError, TypeError):
        return str(value)
    digits = f"{abs(amount):,}".replace(",", THOUSANDS_SEPARATOR)
    sign = "-" if amount < 0 else ""
    return f"{sign}{digits}{UNIT_SEPARATOR}FCFA"


def zone_of(where) -> zoneinfo.ZoneInfo | None:
    """The time zone named by ``where``: a zone name, or anything with a ``timezone`` (an office, a country)."""
    name = where if isinstance(where, str) else getattr(where, "timezone", None)
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def format_in_zone(value, where) -> str:
    """A UTC datetime shown in a zone, e.g. ``27/11/2026 19:57 WAT (UTC+01:00)``: the localised short date and time,
    the zone's abbreviation and its offset from UTC. Without a known zone, the time is shown in UTC."""
    if value is None or value == "":
        return EMPTY
    if not isinstance(value, datetime.datetime):
        return str(value)
    zone = zone_of(where) or datetime.timezone.utc
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.timezone.utc)
    local = value.astimezone(zone)
    offset = local.utcoffset() or datetime.timedelta(0)
    total_minutes = int(offset.total_seconds() // 60)
    sign = "+" if total_minutes >= 0 else "-"
    hours, minutes = divmod(abs(total_minutes), 60)
    abbreviation = local.tzname() or ""
    text = formats.date_format(local, "SHORT_DATETIME_FORMAT")
    utc_offset = f"UTC{sign}{hours:02d}:{minutes:02d}"
    if abbreviation and abbreviation != utc_offset and not abbreviation.startswith(("+", "-")):
        return f"{text} {abbreviation} ({utc_offset})"
    return f"{text} ({utc_offset})"
