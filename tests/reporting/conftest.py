"""A small world for the reports, built through the services, with figures computed by hand below.

Bank A (a Burkinabè bank) issued G1 = 100 000 000 FCFA to forwarder F. On G1, declared at Lomé:
- T1 LOM-OUA 4 500 000, 90 days ago, enquiry 45 days ago, claim of 4 000 000 paid in part: 3 000 000
  (hold PAID: paid 3 000 000; the rest released);
- T2 LOM-OUA 10 000 000, 4 days ago (5-day time limit), partially discharged: 4 000 000 released (held 6 000 000);
- T3 LOM-NIA 2 000 000, 2 days ago, open (touches TG, BF and NE);
- T4 LOM-OUA 3 000 000, 3 days ago: arrived 2 days ago, discharged 1 day ago, released when applied (now).
So G1: amount 100 000 000, held 8 000 000, claimed 0, paid 3 000 000, available 89 000 000.
Bank B issued G2 = 50 000 000 FCFA to forwarder F2; T5 LOM-OUA 1 000 000 on it, open.
"""

import datetime
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.roles import Role
from guarantees.models import Guarantee, Transit
from guarantees.reference.importer import reference_import
from guarantees.services.claims import claim_examine, claim_issue, claim_pay, claim_prepare
from guarantees.services.enquiries import enquiry_open
from guarantees.services.events import transit_event_apply, transit_event_receive
from tests.accounts.helpers import give_totp, sign_in_as
from tests.builders import declare_as_of, Scene, active_guarantee, scene
from tests.factories import CustomsFactory, SecretariatFactory, country, member


@dataclass
class World:
    s: Scene
    g1: Guarantee
    s2: Scene
    g2: Guarantee
    togo: Organisation
    niger: Organisation
    tg_officer: User
    ne_officer: User
    secretariat: User
    t1: Transit
    t2: Transit
    t3: Transit
    t4: Transit
    t5: Transit
    now: datetime.datetime

    def client(self, user, language="en") -> Client:
        from allauth.mfa.models import Authenticator

        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            give_totp(user)
        client = sign_in_as(Client(), user)
        client.cookies["cu_language"] = language
        return client


def _declare(sender, g, ref, *, amount, days_ago, corridor="LOM-OUA", destination="BFOUAG"):
    transit, _ = declare_as_of(sender=sender, guarantee=g, data={
        "declaration_ref": ref, "office_of_departure": "TGLOME", "office_of_destination": destination,
        "corridor": corridor, "declared_at": timezone.now() - datetime.timedelta(days=days_ago),
        "amount": amount, "transport": {"vehicle": "BF-1234-AB"},
    })
    return transit


def _event(sender, ref, message_id, type_, *, days_ago, office="BFOUAG", **extra):
    event, _ = transit_event_receive(sender=sender, data={
        "message_id": message_id, "declaration_ref": ref, "type": type_, "office": office,
        "occurred_at": (timezone.now() - datetime.timedelta(days=days_ago)).isoformat(), **extra,
    })
    transit_event_apply(event_id=event.pk)
    return event


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    reference_import()
    s = scene("BF")
    s2 = scene("BF")
    togo = CustomsFactory(country=country("TG"))
    niger = CustomsFactory(country=country("NE"))
    g1 = active_guarantee(s, amount=100_000_000)
    g2 = active_guarantee(s2, amount=50_000_000)

    t1 = _declare(togo, g1, "TG-T1", amount=4_500_000, days_ago=90)
    enquiry_open(transit=t1, by=s.officer, ground="overdue", reason="Pas d'apurement reçu.",
                 now=timezone.now() - datetime.timedelta(days=45))
    claim = claim_issue(transit=t1, by=s.supervisor, grounds="Non apuré.", amount=4_000_000)
    claim = claim_examine(claim=claim, by=s.maker)
    claim_prepare(claim=claim, by=s.maker, decision="pay", amount=3_000_000, comment="Montant justifié.")
    claim_pay(claim=claim, by=s.checker, amount=3_000_000, payment_reference="VIR-1",
              payment_date=timezone.localdate())

    t2 = _declare(togo, g1, "TG-T2", amount=10_000_000, days_ago=4)
    _event(s.customs, "TG-T2", "P-1", "partial_discharge", days_ago=1, amount_released=4_000_000)

    t3 = _declare(togo, g1, "TG-T3", amount=2_000_000, days_ago=2, corridor="LOM-NIA", destination="NENIAM")

    t4 = _declare(togo, g1, "TG-T4", amount=3_000_000, days_ago=3)
    _event(s.customs, "TG-T4", "A-4", "arrival", days_ago=2)
    _event(s.customs, "TG-T4", "D-4", "discharge", days_ago=1)

    t5 = _declare(togo, g2, "TG-T5", amount=1_000_000, days_ago=4)

    for t in (t1, t2, t3, t4, t5):
        t.refresh_from_db()
    g1.refresh_from_db()
    g2.refresh_from_db()
    return World(
        s=s, g1=g1, s2=s2, g2=g2, togo=togo, niger=niger,
        tg_officer=member(togo, Role.CUSTOMS_OFFICER), ne_officer=member(niger, Role.CUSTOMS_OFFICER),
        secretariat=member(SecretariatFactory(), Role.SECRETARIAT_ADMIN),
        t1=t1, t2=t2, t3=t3, t4=t4, t5=t5, now=timezone.now(),
    )
