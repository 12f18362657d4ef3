"""Import of the reference data (countries, offices, corridors, levies, tariff) from the CSV files.

The files are those of ``../shared/data/`` copied into ``guarantees/reference/data/``; each row keeps
its ``source`` text, and a row whose source says it is *illustrative*, *unconfirmed* or a *default* is
marked ``is_illustrative``.

Rows are matched on a natural key:

* country: ``code``; office: ``code``; corridor: ``code`` (its stops are part of the corridor);
* levy: ``(country, code, valid_from)`` — ``country`` NULL for ``ALL``; a new rate is a new dated row;
* tariff line: ``(hs_code, valid_from)`` with ``hs_code`` in digits only (``1006.30`` → ``100630``).

The secretariat edits every value in the admin, so by default the import only **creates missing rows**
and leaves existing ones as they are, even when they differ from the files (counted as ``kept``). With
``update=True`` existing rows are overwritten with the values of the files (counted as ``updated``).
Rows present in the database and absent from the files are never deleted. Running the import twice
changes nothing the second time.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from guarantees.models import Corridor, CorridorStop, Country, Levy, LevyKind, Office, OfficeRole, TariffLine

DEFAULT_DIRECTORY = Path(__file__).resolve().parent / "data"

# Words in ``source`` that mark a value the sources did not confirm.
_ILLUSTRATIVE_RE = re.compile(r"illustrative|unconfirmed|default|non confirm|à confirmer", re.IGNORECASE)

_OUTCOMES = ("created", "updated", "unchanged", "kept")
_TABLES = ("countries", "offices", "corridors", "levies", "tariff_lines")


class ReferenceImportError(ValueError):
    """A reference file is missing or one of its rows cannot be read."""


def is_illustrative(source: str) -> bool:
    return bool(_ILLUSTRATIVE_RE.search(source or ""))


def hs_digits(hs_code: str) -> str:
    """``"1006.30"`` → ``"100630"``: the HS code with every non-digit removed."""
    return re.sub(r"\D", "", hs_code or "")


def levy_kind(code: str) -> str:
    """Kind of a levy from its code in ``levies.csv``."""
    normalised = code.strip().upper().replace("_", "-")
    if normalised.startswith("DD"):
        return LevyKind.CUSTOMS_DUTY
    if normalised in {"TVA", "VAT"}:
        return LevyKind.VAT
    if normalised == "RS":
        return LevyKind.STATISTICAL_FEE
    if normalised == "PCS":
        return LevyKind.SOLIDARITY_LEVY
    if normalised in {"PC", "PC-AES", "PC CEDEAO", "PC-CEDEAO", "PC ECOWAS", "PC-ECOWAS"}:
        return LevyKind.COMMUNITY_LEVY
    return LevyKind.OTHER


# Kinds whose ad valorem rows enter the amount at stake (DESIGN: TEC band, VAT, RS, PCS, PC-AES / PC CEDEAO).
_KINDS_AT_STAKE = {
    LevyKind.CUSTOMS_DUTY,
    LevyKind.VAT,
    LevyKind.STATISTICAL_FEE,
    LevyKind.SOLIDARITY_LEVY,
    LevyKind.COMMUNITY_LEVY,
}


def levy_in_amount_at_stake(*, kind: str, rate_pct: Decimal | None, applies_to: str) -> bool:
    """Whether a levy row of ``levies.csv`` counts in the amount at stake; decided per row as follows.

    * Customs duty (DD0…DD35), VAT, RS, PCS and the community levies (PC CEDEAO in TG, PC-AES in ML/BF/NE)
      with a rate: **yes**. Goods in transit are exempt from them, but they are due if the goods are
      diverted, so they count (DESIGN, Rules). The PC-AES row's "exclus: … marchandises en transit" is
      that transit exemption, not a suspension.
    * A row with no rate (specific: TG TPI 2 000 XOF/t, TG RI 5 000 XOF per declaration; per product:
      ML ISCP): **no**, there is no ad valorem rate to apply to the customs value.
    * A row suspended for goods in transit (TG RS: "SUSPENDUE pour les marchandises débarquées au Port
      de Lomé et déclarées en transit vers BF, ML ou NE"): **no**, it is not due on these transits.
    * Other ad valorem rows (TG PVI 0.75 %, TG TD 4 % customs stamp): **no**. Their current status is
      unconfirmed (2017-era text) and the stamp is charged on the suspensive regime itself, on the RS and
      TPI amounts, not on the customs value of diverted goods. The secretariat can switch them on.
    """
    if rate_pct is None:
        return False
    if "suspendu" in (applies_to or "").lower():
        return False
    return kind in _KINDS_AT_STAKE


@dataclass
class _Counter:
    counts: dict[str, dict[str, int]]

    def add(self, table: str, outcome: str) -> None:
        self.counts.setdefault(table, dict.fromkeys(_OUTCOMES, 0))[outcome] += 1


def _read(directory: Path, name: str) -> list[dict[str, str]]:
    path = directory / name
    if not path.exists():
        raise ReferenceImportError(_("Reference file not found: %(path)s") % {"path": path})
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(handle)]


def _decimal(value: str, *, file: str, line: int, column: str) -> Decimal | None:
    if value == "":
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ReferenceImportError(
            _("%(file)s line %(line)s: %(column)s is not a number: %(value)r")
            % {"file": file, "line": line, "column": column, "value": value}
        ) from None


def _date(value: str, *, file: str, line: int, column: str) -> date | None:
    if value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReferenceImportError(
            _("%(file)s line %(line)s: %(column)s is not a date (YYYY-MM-DD): %(value)r")
            % {"file": file, "line": line, "column": column, "value": value}
        ) from None


def _upsert(
    model: type[models.Model],
    *,
    lookup: dict[str, Any],
    values: dict[str, Any],
    update: bool,
    counter: _Counter,
    table: str,
) -> tuple[models.Model, str]:
    """Create the row matched by ``lookup`` or, if it exists, update it when ``update`` is set."""
    matches = list(model.objects.filter(**lookup)[:2])
    if len(matches) > 1:
        raise ReferenceImportError(
            _("%(table)s: several rows match %(key)s; remove the duplicate in the admin.")
            % {"table": table, "key": lookup}
        )
    if not matches:
        obj = model.objects.create(**lookup, **values)
        counter.add(table, "created")
        return obj, "created"
    obj = matches[0]
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        outcome = "unchanged"
    elif update:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=changed)
        outcome = "updated"
    else:
        outcome = "kept"
    counter.add(table, outcome)
    return obj, outcome


def _import_countries(rows, *, update, counter) -> None:
    for row in rows:
        _upsert(
            Country,
            lookup={"code": row["code"].upper()},
            values={
                "name_fr": row["name_fr"],
                "name_en": row["name_en"],
                "timezone": row["iana_timezone"],
                "currency": row.get("currency") or "XOF",
                "member_of": row.get("member_of", ""),
                "source": row.get("source", ""),
            },
            update=update,
            counter=counter,
            table="countries",
        )


def _import_offices(rows, *, update, counter) -> None:
    """Two passes: create the missing offices, then set every value, ``paired_with`` included.

    The facing office (``paired_with``) can only be resolved once every office exists.
    """
    file = "offices.csv"
    roles = set(OfficeRole.values)
    wanted: list[tuple[str, dict[str, Any], str]] = []
    for line, row in enumerate(rows, start=2):
        role = row["role"].lower()
        if role not in roles:
            raise ReferenceImportError(
                _("%(file)s line %(line)s: unknown office role %(role)r")
                % {"file": file, "line": line, "role": row["role"]}
            )
        source = row.get("source", "")
        values = {
            "name": row["name"],
            "country_id": row["country"].upper(),
            "role": role,
            "town": row.get("town", ""),
            "latitude": _decimal(row.get("latitude", ""), file=file, line=line, column="latitude"),
            "longitude": _decimal(row.get("longitude", ""), file=file, line=line, column="longitude"),
            "is_illustrative": is_illustrative(source),
            "source": source,
        }
        wanted.append((row["code"], values, row.get("paired_with", "")))

    existing = {o.code: o for o in Office.objects.filter(code__in=[code for code, _v, _p in wanted])}
    created: set[str] = set()
    for code, values, _pair in wanted:
        if code not in existing:
            existing[code] = Office.objects.create(code=code, **values)
            created.add(code)

    all_ids = dict(Office.objects.values_list("code", "pk"))
    for code, values, pair_code in wanted:
        if pair_code and pair_code not in all_ids:
            raise ReferenceImportError(
                _("%(file)s: office %(office)s is paired with an unknown office %(pair)s")
                % {"file": file, "office": code, "pair": pair_code}
            )
        values = {**values, "paired_with_id": all_ids[pair_code] if pair_code else None}
        office = existing[code]
        changed = [name for name, value in values.items() if getattr(office, name) != value]
        if code in created:
            if changed:
                office.paired_with_id = values["paired_with_id"]
                office.save(update_fields=["paired_with"])
            counter.add("offices", "created")
        elif not changed:
            counter.add("offices", "unchanged")
        elif update:
            for name in changed:
                setattr(office, name, values[name])
            office.save(update_fields=[name.removesuffix("_id") for name in changed])
            counter.add("offices", "updated")
        else:
            counter.add("offices", "kept")


def _import_corridors(rows, *, update, counter) -> None:
    file = "corridors.csv"
    offices = {o.code: o.pk for o in Office.objects.all()}
    for line, row in enumerate(rows, start=2):
        stops = [code.strip() for code in row["itinerary"].split(";") if code.strip()]
        unknown = [code for code in stops if code not in offices]
        if unknown:
            raise ReferenceImportError(
                _("%(file)s line %(line)s: unknown office(s) in the itinerary: %(codes)s")
                % {"file": file, "line": line, "codes": ", ".join(unknown)}
            )
        if len(stops) < 2:
            raise ReferenceImportError(
                _("%(file)s line %(line)s: an itinerary needs at least two offices") % {"file": file, "line": line}
            )
        days = _decimal(row["typical_transit_time_days"], file=file, line=line, column="typical_transit_time_days")
        if days is None or days < 1:
            raise ReferenceImportError(
                _("%(file)s line %(line)s: typical_transit_time_days must be a positive number of days")
                % {"file": file, "line": line}
            )
        distance = _decimal(row.get("distance_km", ""), file=file, line=line, column="distance_km")
        source = row.get("source", "")
        lookup = {"code": row["code"]}
        values = {
            "name": row["name"],
            "distance_km": int(distance) if distance is not None else None,
            # No official délai de route was found: the typical transit time (a default computed as
            # ceil(km / 300) + 1 day per border, data README) is the starting time limit, so every seeded
            # corridor is marked as a default value for the secretariat to confirm.
            "time_limit_days": int(days),
            "is_illustrative": True,
            "source": source,
        }
        wanted = [offices[code] for code in stops]
        existing = Corridor.objects.filter(**lookup).first()
        if existing is None:
            corridor = Corridor.objects.create(**lookup, **values)
            CorridorStop.objects.bulk_create(
                CorridorStop(corridor=corridor, position=i, office_id=pk) for i, pk in enumerate(wanted, start=1)
            )
            counter.add("corridors", "created")
            continue
        current = list(existing.stops.order_by("position").values_list("office_id", flat=True))
        changed = [name for name, value in values.items() if getattr(existing, name) != value]
        if not changed and current == wanted:
            counter.add("corridors", "unchanged")
        elif not update:
            counter.add("corridors", "kept")
        else:
            for name in changed:
                setattr(existing, name, values[name])
            if changed:
                existing.save(update_fields=changed)
            if current != wanted:
                existing.stops.all().delete()
                CorridorStop.objects.bulk_create(
                    CorridorStop(corridor=existing, position=i, office_id=pk) for i, pk in enumerate(wanted, start=1)
                )
            counter.add("corridors", "updated")


def _levy_rows(levy_rows, country_rows) -> Iterable[tuple[dict[str, Any], dict[str, Any]]]:
    """(lookup, values) of every levy row, plus a VAT row per country that ``levies.csv`` has none for."""
    file = "levies.csv"
    country_codes = [row["code"].upper() for row in country_rows]
    vat_countries: set[str] = set()
    for line, row in enumerate(levy_rows, start=2):
        where = row["country"].upper()
        country_id = None if where == "ALL" else where
        code = row["levy_code"]
        kind = levy_kind(code)
        rate = _decimal(row.get("rate_pct", ""), file=file, line=line, column="rate_pct")
        applies_to = row.get("applies_to", "")
        source = row.get("source", "")
        if kind == LevyKind.VAT:
            vat_countries.update(country_codes if country_id is None else [country_id])
        yield (
            {
                "country_id": country_id,
                "code": code,
                "valid_from": _date(row.get("valid_from", ""), file=file, line=line, column="valid_from"),
            },
            {
                "name": row["name_fr"],
                "kind": kind,
                "rate_pct": rate,
                "base": row.get("base", ""),
                "applies_to": applies_to,
                "in_amount_at_stake": levy_in_amount_at_stake(kind=kind, rate_pct=rate, applies_to=applies_to),
                "valid_until": _date(row.get("valid_until", ""), file=file, line=line, column="valid_until"),
                "is_illustrative": is_illustrative(source),
                "source": source,
            },
        )
    # countries.csv gives the standard VAT rate; it becomes a VAT row where levies.csv has none.
    for line, row in enumerate(country_rows, start=2):
        code = row["code"].upper()
        rate = _decimal(row.get("vat_standard_rate_pct", ""), file="countries.csv", line=line, column="vat")
        if code in vat_countries or rate is None:
            continue
        source = row.get("source", "")
        yield (
            {"country_id": code, "code": "TVA", "valid_from": None},
            {
                "name": "Taxe sur la valeur ajoutée (import)",
                "kind": LevyKind.VAT,
                "rate_pct": rate,
                "base": "valeur en douane + droits de douane et autres taxes d'entrée (hors TVA)",
                "applies_to": "importations mises à la consommation",
                "in_amount_at_stake": True,
                "valid_until": None,
                "is_illustrative": is_illustrative(source),
                "source": source,
            },
        )


def _import_levies(levy_rows, country_rows, *, update, counter) -> None:
    for lookup, values in _levy_rows(levy_rows, country_rows):
        _upsert(Levy, lookup=lookup, values=values, update=update, counter=counter, table="levies")


def _import_tariff(rows, *, update, counter) -> None:
    file = "tec_bands.csv"
    for line, row in enumerate(rows, start=2):
        digits = hs_digits(row["hs_code"])
        if not 2 <= len(digits) <= 12:
            raise ReferenceImportError(
                _("%(file)s line %(line)s: HS code %(code)r must have 2 to 12 digits")
                % {"file": file, "line": line, "code": row["hs_code"]}
            )
        source = row.get("source", "")
        _upsert(
            TariffLine,
            lookup={"hs_code": digits, "valid_from": None},
            values={
                "description_fr": row["description_fr"],
                "description_en": row.get("description_en", ""),
                "band_pct": _decimal(row["tec_band_pct"], file=file, line=line, column="tec_band_pct"),
                "valid_until": None,
                "is_illustrative": is_illustrative(source),
                "source": source,
            },
            update=update,
            counter=counter,
            table="tariff_lines",
        )


def reference_import(*, directory: str | Path | None = None, update: bool = False) -> dict[str, dict[str, int]]:
    """Import the five reference CSV files of ``directory`` (default: ``guarantees/reference/data``).

    Returns, per table (``countries``, ``offices``, ``corridors``, ``levies``, ``tariff_lines``), the number
    of rows ``created``, ``updated``, ``unchanged`` (equal to the file) and ``kept`` (different from the
    file, left as edited because ``update`` is false). Atomic: a bad row imports nothing.
    """
    directory = Path(directory) if directory else DEFAULT_DIRECTORY
    files = {
        name: _read(directory, f"{name}.csv") for name in ("countries", "offices", "corridors", "levies", "tec_bands")
    }
    counter = _Counter({table: dict.fromkeys(_OUTCOMES, 0) for table in _TABLES})
    steps: list[Callable[[], None]] = [
        lambda: _import_countries(files["countries"], update=update, counter=counter),
        lambda: _import_offices(files["offices"], update=update, counter=counter),
        lambda: _import_corridors(files["corridors"], update=update, counter=counter),
        lambda: _import_levies(files["levies"], files["countries"], update=update, counter=counter),
        lambda: _import_tariff(files["tec_bands"], update=update, counter=counter),
    ]
    with transaction.atomic():
        for step in steps:
            step()
    return counter.counts

