"""A guarantee of a Burkinabè forwarder at a Burkinabè bank, transits declared at Lomé for Ouagadougou (route
TG → BF), the customs of Togo, Burkina Faso (on the route) and Niger (not on it), and the bank's calendar."""

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.roles import Role
from guarantees.models import Guarantee, Transit
from guarantees.reference.importer import reference_import
from guarantees.services.enquiries import enquiry_open
from guarantees.services.transits import transit_declare
from tests.builders import Scene, active_guarantee, declare_as_of, scene
from tests.factories import BankFactory, CustomsFactory, ForwarderFactory, SecretariatFactory, country, member


@dataclass
class World:
    s: Scene
    g: Guarantee
    togo: Organisation
    tg_officer: User
    tg_supervisor: User
    bf_supervisor2: User
    niger: Organisation
    ne_supervisor: User
    other_checker: User
    other_agent: User
    secretariat: User

    def declare(self, ref: str = "TG-LOME-2026-T-004512", *, amount: int = 4_500_000, days_ago: int = 90,
                declared_at: datetime.datetime | None = None) -> Transit:
        transit, _ = declare_as_of(sender=self.togo, guarantee=self.g, data={
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


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    reference_import()
    s = scene("BF")
    togo = CustomsFactory(country=country("TG"))
    niger = CustomsFactory(country=country("NE"))
    return World(
        s=s,
        g=active_guarantee(s, amount=100_000_000),
        togo=togo,
        tg_officer=member(togo, Role.CUSTOMS_OFFICER),
        tg_supervisor=member(togo, Role.CUSTOMS_SUPERVISOR),
        bf_supervisor2=member(s.customs, Role.CUSTOMS_SUPERVISOR),
        niger=niger,
        ne_supervisor=member(niger, Role.CUSTOMS_SUPERVISOR),
        other_checker=member(BankFactory(organisation__country=country("BF")).organisation, Role.BANK_CHECKER),
        other_agent=member(ForwarderFactory(country=country("BF")), Role.FORWARDER_AGENT),
        secretariat=member(SecretariatFactory(), Role.SECRETARIAT_ADMIN),
    )


def balances(g: Guarantee) -> tuple[int, int, int, int]:
    g.refresh_from_db()
    return g.amount, g.held, g.claimed, g.paid
