"""Rate look-ups: the TEC band of an HS code and the levies of a country, as valid on a given day.

A ``valid_from`` left empty means "since always", a ``valid_until`` left empty "until further notice".
"""

from __future__ import annotations

import re
from datetime import date

from django.db.models import F, Q
from django.db.models.functions import Length

from guarantees.models import Country, Levy, TariffLine


def _valid_on(on: date) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=on)) & (Q(valid_until__isnull=True) | Q(valid_until__gte=on))


def tariff_band_for(*, hs_code: str, on: date) -> TariffLine | None:
    """The tariff line with the longest HS prefix of ``hs_code`` among the lines valid on ``on``.

    ``hs_code`` may contain dots or spaces (``"1006.30.00"``); only its digits are compared. A chapter
    line (``"84"``) applies to every code of the chapter unless a longer line (heading ``"8471"``,
    subheading ``"847130"``) matches. If two lines with the same code are valid on the same day, the one
    that started last wins. ``None`` when no line matches.
    """
    digits = re.sub(r"\D", "", hs_code or "")
    if len(digits) < 2:
        return None
    prefixes = [digits[:n] for n in range(2, len(digits) + 1)]
    return (
        TariffLine.objects.filter(_valid_on(on), hs_code__in=prefixes)
        .annotate(prefix_length=Length("hs_code"))
        .order_by("-prefix_length", F("valid_from").desc(nulls_last=True), "-pk")
        .first()
    )


def levies_valid_on(*, country: Country | str, on: date) -> list[Levy]:
    """The levies of ``country`` (a ``Country`` or its code) and those of every country (``country`` empty)
    valid on ``on``, ordered by kind and code, country-specific rows before the rows for all countries."""
    code = country.pk if isinstance(country, Country) else str(country).upper()
    rows = Levy.objects.filter(_valid_on(on), Q(country_id=code) | Q(country__isnull=True)).select_related("country")
    return sorted(rows, key=lambda levy: (levy.kind, levy.code, levy.country_id is None, levy.valid_from or date.min))
