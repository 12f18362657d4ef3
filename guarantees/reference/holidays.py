"""Public holidays as reference data: a few illustrative 2026 holidays per country, for the calendars of working
days (``guarantees.services.calendar``). The secretariat completes and corrects them in the administration; the
seed creates only what is missing, so their edits survive it."""

import datetime

from guarantees.models import Country, PublicHoliday

_SOURCE = "Illustrative seed (seed_holidays): check against each government's official calendar."
_COMMON_2026 = (
    ("2026-01-01", "Jour de l'An", True),
    ("2026-05-01", "Fête du Travail", True),
    ("2026-08-15", "Assomption", True),
    ("2026-11-01", "Toussaint", True),
    ("2026-12-25", "Noël", True),
)
# National days, and the independence days where they differ.
ILLUSTRATIVE_HOLIDAYS_2026: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "BF": _COMMON_2026 + (("2026-08-05", "Fête de l'Indépendance", True), ("2026-12-11", "Fête nationale", True)),
    "ML": _COMMON_2026 + (("2026-01-20", "Fête de l'Armée", True), ("2026-09-22", "Fête de l'Indépendance", True)),
    "NE": _COMMON_2026 + (
        ("2026-08-03", "Fête de l'Indépendance", True), ("2026-12-18", "Fête de la République", True),
    ),
    "TG": _COMMON_2026 + (("2026-04-27", "Fête de l'Indépendance", True),),
}


def holidays_seed() -> int:
    """Create the illustrative holidays of the covered countries that exist; existing rows are kept (the
    secretariat's corrections survive). Returns how many rows were created."""
    created = 0
    for code, rows in ILLUSTRATIVE_HOLIDAYS_2026.items():
        if not Country.objects.filter(pk=code).exists():
            continue
        for iso, name, yearly in rows:
            _obj, new = PublicHoliday.objects.get_or_create(
                country_id=code, date=datetime.date.fromisoformat(iso),
                defaults={"name": name, "recurs_yearly": yearly, "is_illustrative": True, "source": _SOURCE},
            )
            created += int(new)
    return created
