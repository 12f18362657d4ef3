"""Labels a report prints: countries in the reader's language, months, and age bands."""

from __future__ import annotations

import datetime
from functools import lru_cache

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from guarantees.models import Country


@lru_cache(maxsize=1)
def _countries() -> dict[str, tuple[str, str]]:
    return {c.code: (c.name_fr, c.name_en) for c in Country.objects.using("reporting").all()}


def country_label(code) -> str:
    if not code:
        return "—"
    names = _countries().get(code)
    if names is None:
        _countries.cache_clear()
        names = _countries().get(code)
    if names is None:
        return str(code)
    return names[1] if (get_language() or "fr").startswith("en") else names[0]


def month_label(month: datetime.date) -> str:
    """``03/2026`` in both languages: short enough for an axis, unambiguous for a spreadsheet."""
    return month.strftime("%m/%Y")


def band_label(low, high, unit: str) -> str:
    """``0–7 days``, ``61 days and more`` (``unit``: "days" or "hours")."""
    if high is None:
        if unit == "hours":
            return _("%(low)s h and more") % {"low": low}
        return _("%(low)s days and more") % {"low": low}
    if unit == "hours":
        return _("%(low)s–%(high)s h") % {"low": low, "high": high}
    return _("%(low)s–%(high)s days") % {"low": low, "high": high}


def band_short(low, high, unit: str = "") -> str:
    """A band on a chart's axis, short: ``0–7``, ``61+`` (``unit`` appended: ``0–1 h``)."""
    text = f"{low}+" if high is None else f"{low}–{high}"
    return f"{text} {unit}" if unit else text
