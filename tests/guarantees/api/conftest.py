"""A small world for the API tests: reference data, a forwarder's active guarantee issued in Burkina Faso with
an access code, the customs administrations of the four countries, and an API key for each."""

import datetime
from dataclasses import dataclass, field

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create
from accounts.models import ApiKey, Organisation, User
from guarantees.models import Guarantee
from guarantees.reference.importer import reference_import
from guarantees.services.access_codes import access_code_issue
from tests.accounts.helpers import sign_in_as
from tests.builders import Scene
from tests.builders import world as build_world


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
    w = build_world(amount=50_000_000, customs=("TG", "ML", "NE"), reference=False, totp=True,
                    people=("other_agent", "other_checker", "tg_officer", "ml_officer", "secretariat"))
    s = w.s
    code = access_code_issue(guarantee=w.guarantee, by=s.agent, label="SIDONIA")
    keys, raw = {}, {}
    for code_, organisation in w.customs.items():
        keys[code_], raw[code_] = api_key_create(organisation=organisation, name=f"SIDONIA {code_}")
    people = {
        "agent": s.agent, "agent_other": w.other_agent, "checker": s.checker, "checker_other": w.other_checker,
        "officer": s.officer, "officer_tg": w.tg_officer, "officer_ml": w.ml_officer, "secretariat": w.secretariat,
    }
    return World(s=s, guarantee=w.guarantee, code=code, customs=w.customs, keys=keys, raw=raw, people=people)


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
