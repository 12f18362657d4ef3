"""The bounds of every amount, date and office the registry receives — one check for every entry point.

A request, an amendment, a bank's preparation, a declaration, a transit event, an enquiry's answer, a reconciliation
list: each is typed in a form, sent to the API or read from a file, and each path calls the service, which calls
these functions. So a bound holds the same way everywhere, and is refused in the same words (a machine ``code``,
a sentence naming the limit, the field it is about), before anything is written:

* amounts: whole francs CFA, at least 1 (or 0 where nothing is a valid answer), at most ``REGISTRY_MAX_AMOUNT``
  — a setting far below what the database's 64-bit columns hold (an amount above 2⁶³−1 was a 500 on SQLite and
  PostgreSQL alike);
* a guarantee's validity: starting today or later when requested, ending after it starts, no longer than
  ``REGISTRY_MAX_VALIDITY_DAYS``;
* a declaration: dated within its guarantee's validity, not in the future beyond
  ``REGISTRY_DECLARATION_CLOCK_SKEW_SECONDS``, with a deadline still ahead; departure and destination two
  different offices, and every office in a country of the corridor named;
* a payment date: not in the future.

Nothing here reads the clock: callers pass ``today``/``now`` (the services' explicit clock).
"""

import datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from guarantees.errors import InvalidAmount, InvalidInput
from guarantees.formats import format_fcfa

DB_AMOUNT_MAX = 2**63 - 1  # what a BigIntegerField holds; no setting may go above it


class AmountOutOfRange(InvalidAmount):
    """An amount that is not a whole number of francs within the registry's bounds; ``errors`` names the field,
    ``min`` and ``max`` the bounds."""

    code = "amount_out_of_range"
    default_message = _("The amount is out of range.")

    def __init__(self, *, field: str, minimum: int, maximum: int):
        message = _("Enter a whole number of francs CFA from %(min)s to %(max)s.") % {
            "min": format_fcfa(minimum), "max": format_fcfa(maximum)}
        super().__init__(message, errors={field: [str(message)]}, min=minimum, max=maximum)


class DateOutOfRange(InvalidInput):
    """A date outside what the registry accepts for it (a validity, a declaration, a payment); ``errors`` names
    the field and says why."""

    code = "date_out_of_range"
    default_message = _("A date is out of range.")

    def __init__(self, field: str, message, **extra):
        super().__init__(message, errors={field: [str(message)]}, **extra)


class InvalidOffices(InvalidInput):
    """Offices that cannot make a transit: departure and destination the same, or an office in a country the
    named corridor does not cross."""

    code = "invalid_offices"
    default_message = _("These offices do not make a transit.")

    def __init__(self, field: str, message, **extra):
        super().__init__(message, errors={field: [str(message)]}, **extra)


def amount_max() -> int:
    """The largest amount the registry takes: the setting, never above what the database holds."""
    return min(int(settings.REGISTRY_MAX_AMOUNT), DB_AMOUNT_MAX)


def amount_check(value, *, field: str = "amount", minimum: int = 1) -> int:
    """``value`` when it is a whole number of francs from ``minimum`` to :func:`amount_max`; else
    ``AmountOutOfRange`` naming both bounds."""
    maximum = amount_max()
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise AmountOutOfRange(field=field, minimum=minimum, maximum=maximum)
    return value


def amount_in_range(value, *, minimum: int = 1) -> bool:
    try:
        amount_check(value, minimum=minimum)
    except AmountOutOfRange:
        return False
    return True


def _day(value: datetime.date) -> str:
    from django.utils import formats

    return formats.date_format(value, "SHORT_DATE_FORMAT")


def validity_check(*, valid_from: datetime.date, valid_until: datetime.date, today: datetime.date | None,
                   from_field: str = "valid_from", until_field: str = "valid_until") -> None:
    """A guarantee's validity: ending on or after its start, no longer than ``REGISTRY_MAX_VALIDITY_DAYS``, and,
    when ``today`` is given (a request, not a later amendment), starting today or later."""
    if not isinstance(valid_from, datetime.date) or not isinstance(valid_until, datetime.date):
        raise DateOutOfRange(until_field, _("Give the first and the last day of validity."))
    if today is not None and valid_from < today:
        raise DateOutOfRange(from_field, _("The validity cannot start before today (%(today)s).")
                             % {"today": _day(today)})
    if valid_until < valid_from:
        raise DateOutOfRange(until_field, _("The validity must end after it starts."))
    days = int(settings.REGISTRY_MAX_VALIDITY_DAYS)
    if (valid_until - valid_from).days > days:
        raise DateOutOfRange(until_field, _("A guarantee is valid for at most %(days)s days: until %(last)s at "
                                            "the latest.") % {"days": days,
                                                              "last": _day(valid_from + datetime.timedelta(days))},
                             max_days=days)


def declared_at_check(*, declared_at: datetime.datetime, valid_from: datetime.date, valid_until: datetime.date,
                      deadline: datetime.datetime, now: datetime.datetime, field: str = "declared_at") -> None:
    """A declaration's moment: not ahead of ``now`` by more than the clock skew, within the guarantee's validity
    (its day as the registry counts days), and with its deadline still ahead."""
    skew = datetime.timedelta(seconds=int(settings.REGISTRY_DECLARATION_CLOCK_SKEW_SECONDS))
    if declared_at > now + skew:
        raise DateOutOfRange(field, _("A transit cannot be declared in the future."))
    day = declared_at.astimezone(datetime.timezone.utc).date()
    if not valid_from <= day <= valid_until:
        raise DateOutOfRange(field, _("The guarantee is valid from %(start)s to %(end)s: the declaration must be "
                                      "dated within that time.") % {"start": _day(valid_from),
                                                                    "end": _day(valid_until)})
    if deadline <= now:
        raise DateOutOfRange(field, _("This declaration's time limit has already passed: it cannot be declared "
                                      "now."))


def offices_check(*, departure, destination, route, corridor_countries: set[str] | None) -> None:
    """Offices that make a transit: departure ≠ destination, and, when a corridor is named, every office (route
    included) in one of its countries — an office elsewhere would let that country see the transit."""
    if departure.pk == destination.pk:
        raise InvalidOffices("office_of_destination",
                             _("The office of destination must differ from the office of departure."))
    if corridor_countries is None:
        return
    for field, places in (("office_of_departure", [departure]), ("office_of_destination", [destination]),
                          ("route", route)):
        for place in places:
            if place.country_id not in corridor_countries:
                raise InvalidOffices(field, _("The office %(code)s is not in a country of this corridor.")
                                     % {"code": place.code}, office=place.code)


def payment_date_check(*, paid_on, today: datetime.date, field: str = "paid_on") -> None:
    if paid_on is not None and paid_on > today:
        raise DateOutOfRange(field, _("A payment cannot be dated in the future."))
