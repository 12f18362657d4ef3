"""How the registry writes amounts and moments, the same in pages, PDFs, e-mails and messages.

Amounts: ``12 500 000 FCFA``. Groups of three digits are separated by U+202F NARROW NO-BREAK SPACE (the French
typographic thousands separator) and the unit by U+00A0 NO-BREAK SPACE, so an amount never breaks across lines; the
same characters in both languages. XOF has no minor unit: whole francs only.

Moments: day/month/year and 24 hours in both languages (``config/formats``), in a zone named the way its readers
name it: ``27/11/2026 19:57, heure de Niamey (UTC+1)``. A page for a signed-in person shows every moment in the
reader's zone and names it once (``guarantees.web.zones``, the ``when`` filter); a moment that must be read in another
zone says which.
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


def format_moment(value, zone: datetime.tzinfo) -> str:
    """A moment in ``zone``, day/month/year and 24 hours, the zone not named: ``27/11/2026 19:57``."""
    if value is None or value == "":
        return EMPTY
    if not isinstance(value, datetime.datetime):
        return str(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.timezone.utc)
    return formats.date_format(value.astimezone(zone), "SHORT_DATETIME_FORMAT")


def format_in_zone(value, where) -> str:
    """A moment in the zone ``where`` names, with the zone named: ``27/11/2026 19:57, heure de Niamey (UTC+1)``
    (``… UTC`` in UTC, or when the zone is unknown)."""
    if value is None or value == "":
        return EMPTY
    zone = zone_of(where) or datetime.timezone.utc
    text = format_moment(value, zone)
    if not isinstance(value, datetime.datetime):
        return text
    label = zone_label(zone, value)
    return f"{text} {label}" if label == "UTC" else f"{text}, {label}"
