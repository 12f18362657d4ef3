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
import functools
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
        amount = value if type(value) is int else int(Decimal(str(value)).to_integral_value())
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
    local = value.astimezone(zone)
    pattern = _strftime_pattern(formats.get_format("SHORT_DATETIME_FORMAT"))
    # Django's date formatting parses its format on every call: a guarantee's page writes some 150 moments.
    # (strftime writes a year before 1000 without Django's leading zeros.)
    if pattern and local.year >= 1000:
        return local.strftime(pattern)
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")


# Django's format letters that strftime writes the same way, whatever the language: numbers only.
_SAME_IN_STRFTIME = {"d": "%d", "m": "%m", "Y": "%Y", "H": "%H", "i": "%M"}


@functools.lru_cache(maxsize=16)
def _strftime_pattern(django_format: str) -> str | None:
    """``"d/m/Y H:i"`` → ``"%d/%m/%Y %H:%M"``: the same text from ``strftime``; ``None`` when the format has a
    letter (or an escape) that only Django's formatting knows."""
    out = []
    for char in django_format:
        if char in _SAME_IN_STRFTIME:
            out.append(_SAME_IN_STRFTIME[char])
        elif char.isalpha() or char == "\\":
            return None
        else:
            out.append("%%" if char == "%" else char)
    return "".join(out)


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
