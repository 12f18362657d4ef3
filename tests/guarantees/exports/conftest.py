"""A small world for the exports: two forwarders at two banks (one Burkinabè, one Nigerien forwarder whose pages
read Niamey time), transits declared at Lomé for Ouagadougou and for Niamey, the customs of Togo, Burkina Faso and
Niger, the secretariat; one principal's name is a spreadsheet formula."""

import csv
import datetime
import io
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.roles import Role
from guarantees.models import Guarantee, Transit
from guarantees.reference.importer import reference_import
from tests.accounts.helpers import sign_in_as
from tests.builders import declare_as_of, Scene, active_guarantee, scene
from tests.factories import CustomsFactory, SecretariatFactory, country, member

FORMULA_NAME = '=HYPERLINK("http://evil.example","cliquez")'
# 2026-03-02 23:30 UTC: already the 3rd in Niamey (UTC+1), still the 2nd in Ouagadougou and Lomé.
LATE_EVENING = datetime.datetime(2026, 3, 2, 23, 30, tzinfo=datetime.timezone.utc)


@dataclass
class World:
    a: Scene
    b: Scene
    ga: Guarantee
    gb: Guarantee
    togo: Organisation
    tg_officer: User
    niger: Organisation
    ne_officer: User
    secretariat: User

    def declare(self, g: Guarantee, ref: str, *, to: str = "BFOUAG", corridor: str = "LOM-OUA",
                amount: int = 4_500_000, declared_at: datetime.datetime | None = None) -> Transit:
        transit, _ = declare_as_of(sender=self.togo, guarantee=g, data={
            "declaration_ref": ref, "office_of_departure": "TGLOME", "office_of_destination": to,
            "corridor": corridor, "declared_at": declared_at or timezone.now() - datetime.timedelta(days=2),
            "amount": amount, "transport": {"vehicle": "BF-1234-AB"},
        })
        return transit


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    reference_import()
    a = scene("BF")
    a.forwarder.name = FORMULA_NAME
    a.forwarder.save(update_fields=["name"])
    b = scene("NE")
    togo = CustomsFactory(country=country("TG"))
    w = World(
        a=a, b=b, ga=active_guarantee(a, amount=100_000_000), gb=active_guarantee(b, amount=80_000_000),
        togo=togo, tg_officer=member(togo, Role.CUSTOMS_OFFICER), niger=b.customs, ne_officer=b.officer,
        secretariat=member(SecretariatFactory(), Role.SECRETARIAT_ADMIN),
    )
    w.declare(w.ga, "TG-A-001", amount=4_500_000, declared_at=LATE_EVENING)
    w.declare(w.ga, "TG-A-002", amount=2_000_000)
    w.declare(w.gb, "TG-B-001", to="NENIAM", corridor="LOM-NIA", amount=7_000_000, declared_at=LATE_EVENING)
    return w


def client_for(user) -> Client:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    if user.mfa_required and not Authenticator.objects.filter(user=user).exists():
        TOTP.activate(user, generate_totp_secret())
    return sign_in_as(Client(), user)


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(content: bytes):
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content))
    return workbook.worksheets[0]
