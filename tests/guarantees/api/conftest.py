"""A small world for the API tests: reference data, a forwarder's active guarantee issued in Burkina Faso with
an access code, the customs administrations of the four countries, and an API key for each."""

import datetime
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create
from accounts.models import ApiKey, Organisation, User
from accounts.roles import OrganisationKind, Role
from guarantees.models import Guarantee
from guarantees.reference.importer import reference_import
from guarantees.services.access_codes import access_code_issue
from tests.accounts.helpers import sign_in_as
from tests.builders import Scene, active_guarantee, scene
from tests.factories import BankFactory, CustomsFactory, ForwarderFactory, SecretariatFactory, country, member


def give_totp(user):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle and access-code counters live in the cache (LocMem in tests): no test inherits another's.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def reference(db):
    reference_import()


@dataclass
class World:
    s: Scene
    guarantee: Guarantee
    code: str
    customs: dict[str, Organisation]
    keys: dict[str, ApiKey]
    raw: dict[str, str]
    people: dict[str, User] = field(default_factory=dict)

    def key_client(self, country_code: str, **headers) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {self.raw[country_code]}", **headers)
        return client

    def person_client(self, who: str, *, csrf: bool = False) -> APIClient:
        client = APIClient(enforce_csrf_checks=csrf)
        sign_in_as(client, self.people[who])
        return client


@pytest.fixture
def world(reference) -> World:
    s = scene("BF")
    guarantee = active_guarantee(s, amount=50_000_000)
    code = access_code_issue(guarantee=guarantee, by=s.agent, label="SIDONIA")
    customs = {"BF": s.customs}
    for code_ in ("TG", "ML", "NE"):
        customs[code_] = (
            Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country=code_).first()
            or CustomsFactory(country=country(code_))
        )
    keys, raw = {}, {}
    for code_, organisation in customs.items():
        keys[code_], raw[code_] = api_key_create(organisation=organisation, name=f"SIDONIA {code_}")
    other_bank = BankFactory(organisation__country=country("BF"))
    people = {
        "agent": s.agent,
        "agent_other": member(ForwarderFactory(country=country("BF")), Role.FORWARDER_AGENT),
        "checker": s.checker,
        "checker_other": member(other_bank.organisation, Role.BANK_CHECKER),
        "officer": s.officer,
        "officer_tg": member(customs["TG"], Role.CUSTOMS_OFFICER),
        "officer_ml": member(customs["ML"], Role.CUSTOMS_OFFICER),
        "secretariat": member(SecretariatFactory(country=country("BF")), Role.SECRETARIAT_ADMIN),
    }
    for user in people.values():
        if user.mfa_required:
            give_totp(user)
    return World(s=s, guarantee=guarantee, code=code, customs=customs, keys=keys, raw=raw, people=people)


def declaration(world: World, **overrides) -> dict:
    """A declaration from Lomé port to Ouagadougou on the Lomé – Ouagadougou corridor, as API.md shows it."""
    body = {
        "declaration_ref": "TG-LOME-2026-T-004512",
        "grn": world.guarantee.grn,
        "access_code": world.code,
        "office_of_departure": "TGLOME",
        "office_of_destination": "BFOUAG",
        "route": ["TGCINK", "BFCINK"],
        "corridor": "LOM-OUA",
        "declared_at": (timezone.now() - datetime.timedelta(hours=2)).replace(microsecond=0).isoformat(),
        "amount": 4_500_000,
        "goods": [{"hs_code": "100630", "description": "Riz", "customs_value": 25_000_000, "gross_mass_kg": 30000}],
        "transport": {"vehicle": "BF-1234-AB", "containers": ["MSCU1234567"], "seals": ["TG000123"]},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}
