"""Whole scenes built through the services, so tests start from states the application itself produces."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import Organisation, User
from accounts.roles import OrganisationKind, Role
from guarantees.models import Bank, Guarantee, GuaranteeVersion
from guarantees.terms import guarantee_terms
from guarantees.services.guarantees import (
    guarantee_accept,
    guarantee_confirm,
    guarantee_prepare,
    guarantee_request,
)
from tests.factories import BankFactory, CustomsFactory, ForwarderFactory, country, member


@dataclass
class Scene:
    forwarder: Organisation
    agent: User
    bank: Bank
    maker: User
    checker: User
    customs: Organisation
    officer: User
    supervisor: User


def scene(country_code: str = "BF", *, ceiling: int = 10_000_000_000) -> Scene:
    """A forwarder, an approved bank with a maker and a checker, and the customs of ``country_code``."""
    c = country(country_code)
    forwarder = ForwarderFactory(country=c)
    bank = BankFactory(exposure_ceiling=ceiling, organisation__country=c)
    customs = Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country=c.pk).first() or CustomsFactory(country=c)
    return Scene(
        forwarder=forwarder,
        agent=member(forwarder, Role.FORWARDER_AGENT),
        bank=bank,
        maker=member(bank.organisation, Role.BANK_MAKER),
        checker=member(bank.organisation, Role.BANK_CHECKER),
        customs=customs,
        officer=member(customs, Role.CUSTOMS_OFFICER),
        supervisor=member(customs, Role.CUSTOMS_SUPERVISOR),
    )


def requested_guarantee(s: Scene, *, amount: int = 50_000_000, days: int = 365, submit: bool = True) -> Guarantee:
    today = timezone.now().date()
    return guarantee_request(
        principal=s.forwarder, bank=s.bank, requested_amount=amount, valid_from=today,
        valid_until=today + datetime.timedelta(days=days), purpose="Transit Lomé – Ouagadougou", by=s.agent,
        submit=submit,
    )


def confirmed_guarantee(s: Scene, *, amount: int = 50_000_000, days: int = 365) -> Guarantee:
    g = requested_guarantee(s, amount=amount, days=days)
    g = guarantee_prepare(guarantee=g, by=s.maker)
    return guarantee_confirm(guarantee=g, by=s.checker, expected=guarantee_terms(g))


def active_guarantee(s: Scene | None = None, *, amount: int = 50_000_000, days: int = 365,
                     in_force_days: int = 400) -> Guarantee:
    """An active guarantee, valid for ``days`` from today and in force since ``in_force_days`` ago: a request
    starts today at the earliest, so its start is moved back afterwards (as if requested then), and the tests'
    transits may be declared in the past, within its validity, as the registry requires."""
    s = s or scene()
    g = confirmed_guarantee(s, amount=amount, days=days)
    g = guarantee_accept(guarantee=g, by=s.officer)
    if in_force_days:
        backdate(g, days=in_force_days)
    return g


def backdate(guarantee: Guarantee, *, days: int) -> Guarantee:
    """Move the start of ``guarantee``'s validity (and of its versions') ``days`` back."""
    start = guarantee.valid_from - datetime.timedelta(days=days)
    Guarantee.objects.filter(pk=guarantee.pk).update(valid_from=start)
    GuaranteeVersion.objects.filter(guarantee=guarantee).update(valid_from=start)
    guarantee.valid_from = start
    return guarantee


def declare_as_of(*, sender, guarantee: Guarantee, data: dict, **kwargs):
    """``transit_declare`` for a transit declared long ago (an overdue one, for enquiries and claims): the registry
    refuses a declaration whose time limit has already passed, so it is declared a minute ago and its moments
    (declaration, deadline) are then moved back to ``data["declared_at"]``, as if it had come then."""
    from django.db.models import F

    from guarantees.models import Transit
    from guarantees.services.transits import transit_declare

    declared_at = data.get("declared_at")
    now = timezone.now()
    if declared_at is None or declared_at > now - datetime.timedelta(days=4):  # within any corridor's limit
        return transit_declare(sender=sender, guarantee=guarantee, data=data, **kwargs)
    # Whole days later, within the last day: the same data gives the same content (a replay stays a replay).
    shift = datetime.timedelta(days=(now - declared_at).days)
    transit, created = transit_declare(sender=sender, guarantee=guarantee,
                                       data={**data, "declared_at": declared_at + shift}, **kwargs)
    if created:
        Transit.objects.filter(pk=transit.pk).update(declared_at=F("declared_at") - shift,
                                                     deadline=F("deadline") - shift)
        available = getattr(transit, "available_after_hold", None)
        transit.refresh_from_db()
        transit.available_after_hold = available
    return transit, created
