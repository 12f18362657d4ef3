"""Whole scenes built through the services, so tests start from states the application itself produces."""

import datetime
import re
from dataclasses import dataclass, field

from django.utils import timezone

from accounts.models import Organisation, User
from accounts.roles import OrganisationKind, Role
from guarantees.models import Bank, Guarantee, Transit
from guarantees.reference.importer import reference_import
from guarantees.services.enquiries import enquiry_open
from guarantees.services.transits import transit_declare
from guarantees.terms import guarantee_terms
from guarantees.services.guarantees import (
    guarantee_accept,
    guarantee_confirm,
    guarantee_prepare,
    guarantee_request,
)
from tests.accounts.helpers import give_totp
from tests.factories import BankFactory, CustomsFactory, ForwarderFactory, SecretariatFactory, country, member


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
    from guarantees.models import GuaranteeVersion

    start = guarantee.valid_from - datetime.timedelta(days=days)
    Guarantee.objects.filter(pk=guarantee.pk).update(valid_from=start)
    GuaranteeVersion.objects.filter(guarantee=guarantee).update(valid_from=start)
    guarantee.valid_from = start
    return guarantee


def declare_as_of(*, sender, guarantee: Guarantee, data: dict, **kwargs):
    """``transit_declare`` for a transit declared long ago (an overdue one, for enquiries and claims): the registry
    refuses a declaration whose time limit has already passed, so it is declared whole days later, within the last
    four days (within any corridor's limit; the same data gives the same content, so a replay stays a replay), and
    its moments (declaration, deadline) are then moved back to ``data["declared_at"]``, as if it had come then."""
    from django.db.models import F

    declared_at = data.get("declared_at")
    now = timezone.now()
    if declared_at is None or declared_at > now - datetime.timedelta(days=4):
        return transit_declare(sender=sender, guarantee=guarantee, data=data, **kwargs)
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


# --- The one world ----------------------------------------------------------------------------------------

_CUSTOMS_PERSON = re.compile(r"^(?P<country>[a-z]{2})_(?P<role>officer|supervisor)\d*$")
_CUSTOMS_ROLES = {"officer": Role.CUSTOMS_OFFICER, "supervisor": Role.CUSTOMS_SUPERVISOR}
NAMES = {"TG": "togo", "BF": "burkina", "NE": "niger", "ML": "mali"}


@dataclass
class World:
    """A scene (``s``: forwarder, bank, the customs of its country), its active guarantee, the customs of the
    other countries asked for, and the people asked for by name (``world.tg_officer`` reads ``people``)."""

    s: Scene
    guarantee: Guarantee | None
    customs: dict[str, Organisation]
    people: dict[str, User] = field(default_factory=dict)
    other: Scene | None = None
    other_guarantee: Guarantee | None = None

    @property
    def g(self) -> Guarantee | None:
        return self.guarantee

    def __getattr__(self, name: str):
        # Only reached when normal lookup failed: a country's customs by its name, or a person by theirs.
        if name.startswith("_") or "people" not in self.__dict__:
            raise AttributeError(name)
        for code, country_name in NAMES.items():
            if name == country_name and code in self.customs:
                return self.customs[code]
        if name in self.people:
            return self.people[name]
        raise AttributeError(f"this world has no {name!r} (ask the builder for it)")

    def declare(self, ref: str = "TG-LOME-2026-T-004512", *, amount: int = 4_500_000, days_ago: int = 90,
                declared_at: datetime.datetime | None = None) -> Transit:
        """A transit declared by Togo's customs at Lomé for Ouagadougou on the corridor, ``days_ago`` days ago."""
        transit, _ = declare_as_of(sender=self.togo, guarantee=self.guarantee, data={
            "declaration_ref": ref, "office_of_departure": "TGLOME", "office_of_destination": "BFOUAG",
            "corridor": "LOM-OUA",
            "declared_at": declared_at or timezone.now() - datetime.timedelta(days=days_ago),
            "amount": amount, "transport": {"vehicle": "BF-1234-AB"},
        })
        return transit

    def noticed(self, ref: str = "TG-LOME-2026-T-004512", *, amount: int = 4_500_000, days_ago: int = 90,
                notice_days_ago: int = 45, by: User | None = None):
        """A transit with an enquiry opened ``notice_days_ago`` days ago: past the claim waiting period."""
        transit = self.declare(ref, amount=amount, days_ago=days_ago)
        enquiry = enquiry_open(
            transit=transit, by=by or self.s.officer, ground="overdue", reason="Pas d'apurement reçu.",
            now=timezone.now() - datetime.timedelta(days=notice_days_ago),
        )
        return transit, enquiry


def _person(name: str, c, customs: dict[str, Organisation]) -> User:
    if name == "other_agent":
        return member(ForwarderFactory(country=c), Role.FORWARDER_AGENT)
    if name == "other_checker":
        return member(BankFactory(organisation__country=c).organisation, Role.BANK_CHECKER)
    if name == "secretariat":
        return member(SecretariatFactory(country=c), Role.SECRETARIAT_ADMIN)
    match = _CUSTOMS_PERSON.match(name)
    if match is None or match["country"].upper() not in customs:
        raise ValueError(f"the builder makes no {name!r} (customs people need their country in ``customs``)")
    return member(customs[match["country"].upper()], _CUSTOMS_ROLES[match["role"]])


def world(country_code: str = "BF", *, amount: int | None = 100_000_000, customs: tuple[str, ...] = (),
          people: tuple[str, ...] = (), second: bool = False, totp: bool = False, reference: bool = True) -> World:
    """THE world of the tests, built through the services.

    - ``reference``: the seeded countries, offices, corridors, rates (``reference_import``);
    - a scene in ``country_code`` and, with ``amount``, its active guarantee of that amount (``None``: none);
    - ``second``: a second forwarder and bank of the same country (``world.other``, ``world.other_guarantee``);
    - ``customs``: the customs administrations of these other countries (``world.togo``, ``world.customs["TG"]``);
    - ``people``, by name: ``other_agent`` (another forwarder's), ``other_checker`` (another bank's),
      ``secretariat``, and ``<country>_officer`` / ``<country>_supervisor`` (``tg_officer``, ``bf_supervisor2``);
    - ``totp``: everyone who must use MFA is enrolled (pages signed in through ``sign_in_as``).
    """
    if reference:
        reference_import()
    c = country(country_code)
    s = scene(country_code)
    other = scene(country_code) if second else None
    by_country = {country_code: s.customs}
    for code in customs:
        by_country[code] = (
            Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country=code).first()
            or CustomsFactory(country=country(code))
        )
    w = World(
        s=s,
        guarantee=active_guarantee(s, amount=amount) if amount is not None else None,
        customs=by_country,
        other=other,
        other_guarantee=active_guarantee(other, amount=amount) if other and amount is not None else None,
    )
    w.people = {name: _person(name, c, by_country) for name in people}
    if totp:
        scenes = [s] + ([other] if other else [])
        everyone = [u for sc in scenes for u in (sc.agent, sc.maker, sc.checker, sc.officer, sc.supervisor)]
        for user in everyone + list(w.people.values()):
            if user.mfa_required and not user.authenticator_set.exists():
                give_totp(user)
    return w


def cases_world() -> World:
    """The world of enquiries, releases and claims: a Burkinabè guarantee of 100 000 000, Togo (departure) and
    Niger (off the route) with their people, a second BF supervisor, another bank and forwarder, the secretariat."""
    return world(customs=("TG", "NE"), people=(
        "tg_officer", "tg_supervisor", "bf_supervisor2", "ne_supervisor", "other_checker", "other_agent",
        "secretariat",
    ))


def transits_world(amount: int = 100_000_000) -> World:
    """The world of the background work: a Burkinabè guarantee, Togo's customs (departure) and an officer there,
    the secretariat; everyone who must is enrolled in TOTP."""
    return world(amount=amount, customs=("TG",), people=("tg_officer", "secretariat"), totp=True)


def balances(g: Guarantee) -> tuple[int, int, int, int]:
    g.refresh_from_db()
    return g.amount, g.held, g.claimed, g.paid


def declaration(ref: str, *, amount: int = 4_500_000, declared_at=None, **over) -> dict:
    """A declaration from Lomé to Ouagadougou through the two border posts, two hours ago, no corridor."""
    data = {
        "declaration_ref": ref, "office_of_departure": "TGLOME", "office_of_destination": "BFOUAG",
        "route": ["TGCINK", "BFCINK"], "corridor": None,
        "declared_at": declared_at or (timezone.now() - datetime.timedelta(hours=2)).replace(microsecond=0),
        "amount": amount, "goods": [], "transport": {"vehicle": "BF-1234-AB"},
    }
    data.update(over)
    return data


def declare(w: World, ref: str, **over) -> Transit:
    transit, _ = declare_as_of(sender=w.togo, guarantee=w.guarantee, data=declaration(ref, **over))
    return transit


def event(ref: str, message_id: str, type: str = "discharge", office: str = "BFOUAG", at=None, **over) -> dict:
    at = at or timezone.now().replace(microsecond=0)
    return {"message_id": message_id, "declaration_ref": ref, "type": type, "office": office,
            "occurred_at": at.isoformat(), **over}


def enrolled(user: User) -> User:
    """``user`` enrolled in TOTP (once), as the pages of people who must use MFA need; returns the user."""
    if not user.authenticator_set.exists():
        give_totp(user)
    return user
