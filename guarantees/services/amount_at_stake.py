"""Amount at stake of a transit: the duties and taxes that would be due if its goods were diverted.

DESIGN, Rules: the hold is the **highest** amount of duties and taxes at stake in any country on the route,
at full rates, ignoring preferences. For each country and each good:

1. customs duty = customs value × TEC band of the good (``TariffLine``, longest HS prefix). A good whose
   HS code matches no tariff line gets the highest band (35 %, the highest customs-duty rate valid that
   day) and is flagged ``unknown_hs_code``;
2. every other ad valorem levy of the country valid that day with ``in_amount_at_stake`` (RS, PCS,
   PC-AES in ML/BF/NE, PC CEDEAO in TG, …) = customs value × rate;
3. VAT = (customs value + the amounts of 1 and 2) × VAT rate: the import VAT base of Directive
   02/98/CM/UEMOA art. 27 is the customs value plus customs duties and every other tax except VAT.

Rates are data (``Levy``, ``TariffLine``), never code. Money is ``Decimal``, never ``float``: **each line
is rounded half-up to a whole franc** (``ROUND_HALF_UP``, as a customs liquidation prints whole francs),
and the VAT base is built from the rounded lines. A country's total is the sum of its rounded lines.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from guarantees.models import Country, Levy, LevyKind
from guarantees.selectors.rates import levies_valid_on, tariff_band_for

HIGHEST_BAND_FALLBACK = Decimal("35")
HUNDRED = Decimal(100)
ONE_FRANC = Decimal(1)

# Warning codes (stable, for the API and the breakdown's ``flags``).
UNKNOWN_HS_CODE = "unknown_hs_code"
ILLUSTRATIVE_RATE = "illustrative_rate"
NO_VAT_RATE = "no_vat_rate"

_KIND_ORDER = {
    LevyKind.STATISTICAL_FEE: 1,
    LevyKind.SOLIDARITY_LEVY: 2,
    LevyKind.COMMUNITY_LEVY: 3,
    LevyKind.OTHER: 4,
}


class AmountAtStakeError(ValueError):
    """The amount at stake cannot be computed from what was sent."""


class NoGoodsError(AmountAtStakeError):
    def __init__(self, message=None):
        self.message = message or _("There are no goods to compute the amount at stake from.")
        super().__init__(str(self.message))


class InvalidGoodsError(AmountAtStakeError):
    """``errors``: ``{index of the good: {field: message}}``."""

    def __init__(self, errors: dict[int, dict[str, Any]]):
        self.errors = errors
        details = "; ".join(
            str(_("good %(index)s: %(problems)s"))
            % {"index": index, "problems": ", ".join(f"{name}: {message}" for name, message in problems.items())}
            for index, problems in sorted(errors.items())
        )
        self.message = _("Some goods are invalid: %(details)s") % {"details": details}
        super().__init__(str(self.message))


class InvalidCountriesError(AmountAtStakeError):
    def __init__(self, message):
        self.message = message
        super().__init__(str(message))


@dataclass(frozen=True)
class AmountAtStake:
    """The highest country total (``amount``, whole francs CFA) and the detail per country."""

    amount: int
    country: str
    breakdown: dict[str, dict[str, Any]]
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "amount": self.amount,
            "country": self.country,
            "breakdown": copy.deepcopy(self.breakdown),
            "warnings": list(self.warnings),
        }


def _pct(value: Decimal) -> str:
    """``Decimal("10.00")`` → ``"10"``, ``Decimal("0.800")`` → ``"0.8"``."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _apply(base: int, rate_pct: Decimal) -> int:
    return int((Decimal(base) * rate_pct / HUNDRED).quantize(ONE_FRANC, rounding=ROUND_HALF_UP))


def _line(head: dict[str, Any], levy_code: str, rate: Decimal, base: int, flags: list[str]) -> dict[str, Any]:
    return {
        **head,
        "levy": levy_code,
        "rate_pct": _pct(rate),
        "base": base,
        "amount": _apply(base, rate),
        "flags": list(flags),
    }


def _clean_goods(goods: Sequence[Mapping[str, Any]] | None) -> list[tuple[str, int]]:
    if not goods:
        raise NoGoodsError()
    errors: dict[int, dict[str, Any]] = {}
    cleaned: list[tuple[str, int]] = []
    for index, good in enumerate(goods):
        problems: dict[str, Any] = {}
        if not isinstance(good, Mapping):
            errors[index] = {"good": _("must be an object with hs_code and customs_value")}
            continue
        hs_code = good.get("hs_code")
        digits = re.sub(r"[.\s]", "", hs_code) if isinstance(hs_code, str) else ""
        if not re.fullmatch(r"[0-9]{6,10}", digits):
            problems["hs_code"] = _("must have 6 to 10 digits (dots and spaces allowed)")
        value = good.get("customs_value")
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            problems["customs_value"] = _("must be a whole number of francs CFA")
        elif value <= 0:
            problems["customs_value"] = _("must be greater than zero")
        if problems:
            errors[index] = problems
        else:
            cleaned.append((digits, value))
    if errors:
        raise InvalidGoodsError(errors)
    return cleaned


def _clean_countries(countries: Iterable[Country | str] | None) -> list[str]:
    codes: list[str] = []
    for item in countries or []:
        code = item.pk if isinstance(item, Country) else str(item).strip().upper()
        if code not in codes:
            codes.append(code)
    if not codes:
        raise InvalidCountriesError(_("The route must go through at least one country."))
    known = set(Country.objects.filter(pk__in=codes).values_list("pk", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidCountriesError(_("Unknown country: %(codes)s") % {"codes": ", ".join(unknown)})
    return codes


def _levies_in_force(country: str, on: date) -> list[Levy]:
    """One row per levy code: a country's own row wins over the row for all countries; among rows with the
    same code and scope valid that day, the one that started last wins."""
    chosen: dict[str, Levy] = {}
    for levy in levies_valid_on(country=country, on=on):
        current = chosen.get(levy.code)
        rank = (levy.country_id is not None, levy.valid_from or date.min)
        if current is None or rank > (current.country_id is not None, current.valid_from or date.min):
            chosen[levy.code] = levy
    return list(chosen.values())


def amount_at_stake_compute(
    *, goods: Sequence[Mapping[str, Any]], countries: Iterable[Country | str], on: date
) -> AmountAtStake:
    """The amount at stake of ``goods`` (``[{"hs_code": "1006.30", "customs_value": 25_000_000, ...}]``)
    on a route through ``countries`` (codes or ``Country``), with the rates valid on ``on``.

    Raises ``NoGoodsError`` (no goods), ``InvalidGoodsError`` (bad HS code or customs value, listed per
    good) or ``InvalidCountriesError`` (no or unknown country); all are ``ValueError``.
    """
    cleaned = _clean_goods(goods)
    codes = _clean_countries(countries)
    warnings: list[str] = []

    def warn(code: str) -> None:
        if code not in warnings:
            warnings.append(code)

    tariff = [tariff_band_for(hs_code=digits, on=on) for digits, _value in cleaned]
    breakdown: dict[str, dict[str, Any]] = {}
    for country in codes:
        levies = [levy for levy in _levies_in_force(country, on) if levy.rate_pct is not None]
        duties = {levy.rate_pct: levy for levy in levies if levy.kind == LevyKind.CUSTOMS_DUTY}
        highest_band = max(duties, default=HIGHEST_BAND_FALLBACK)
        others = sorted(
            (
                levy
                for levy in levies
                if levy.in_amount_at_stake and levy.kind not in {LevyKind.CUSTOMS_DUTY, LevyKind.VAT}
            ),
            key=lambda levy: (_KIND_ORDER.get(levy.kind, 9), levy.code),
        )
        vats = sorted(
            (levy for levy in levies if levy.in_amount_at_stake and levy.kind == LevyKind.VAT),
            key=lambda levy: levy.code,
        )
        if not vats:
            warn(NO_VAT_RATE)
        lines: list[dict[str, Any]] = []
        for index, ((digits, value), line) in enumerate(zip(cleaned, tariff, strict=True)):
            flags: list[str] = []
            if line is None:
                band = highest_band
                flags.append(UNKNOWN_HS_CODE)
                warn(UNKNOWN_HS_CODE)
            else:
                band = line.band_pct
                if line.is_illustrative:
                    warn(ILLUSTRATIVE_RATE)

            head = {"good": index, "hs_code": digits, "band_pct": _pct(band)}
            good_lines: list[dict[str, Any]] = []
            used: list[Levy] = []
            duty_row = duties.get(band)
            if duty_row is None or duty_row.in_amount_at_stake:
                good_lines.append(_line(head, duty_row.code if duty_row else f"DD{_pct(band)}", band, value, flags))
                used += [duty_row] if duty_row else []
            for levy in others:
                good_lines.append(_line(head, levy.code, levy.rate_pct, value, flags))
                used.append(levy)
            # VAT base (Directive 02/98/CM/UEMOA art. 27): customs value + every other duty and tax of the good.
            vat_base = value + sum(item["amount"] for item in good_lines)
            for levy in vats:
                good_lines.append(_line(head, levy.code, levy.rate_pct, vat_base, flags))
                used.append(levy)
            if any(levy.is_illustrative for levy in used):
                warn(ILLUSTRATIVE_RATE)
            lines += good_lines
        breakdown[country] = {"lines": lines, "total": sum(item["amount"] for item in lines)}

    # The highest total wins; on a tie, the first country on the route.
    winner = max(codes, key=lambda code: (breakdown[code]["total"], -codes.index(code)))
    return AmountAtStake(
        amount=int(breakdown[winner]["total"]), country=winner, breakdown=breakdown, warnings=warnings
    )
