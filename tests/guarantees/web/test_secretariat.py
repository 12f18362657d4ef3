"""The secretariat's bank pages: approve a bank organisation, change a ceiling with its reason, see exposure."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from guarantees.models import Bank, BankCeilingChange
from tests.accounts.helpers import sign_in_as
from tests.builders import active_guarantee, scene
from tests.factories import BankOrganisationFactory, SecretariatFactory, member


def client_for(user) -> Client:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, generate_totp_secret())
    client = Client()
    sign_in_as(client, user)
    return client


@pytest.fixture
def secretariat(db):
    return client_for(member(SecretariatFactory(), Role.SECRETARIAT_ADMIN))


def test_approve_a_bank_organisation(secretariat):
    organisation = BankOrganisationFactory(name="Banque de l'Union")
    page = secretariat.get(reverse("guarantees:banks"))
    assert organisation in page.context["form"].fields["organisation"].queryset
    response = secretariat.post(reverse("guarantees:banks"), {
        "organisation": organisation.pk, "exposure_ceiling": "5 000 000 000", "approval_reference": "Décision 12",
    })
    bank = Bank.objects.get(organisation=organisation)
    assert response.status_code == 302 and response["Location"] == reverse("guarantees:bank_detail", args=[bank.pk])
    assert bank.is_approved and bank.exposure_ceiling == 5_000_000_000
    assert organisation not in secretariat.get(reverse("guarantees:banks")).context["form"].fields[
        "organisation"].queryset


def test_change_the_ceiling_needs_a_reason_and_is_recorded(secretariat):
    s = scene()
    active_guarantee(s, amount=30_000_000)
    url = reverse("guarantees:bank_detail", args=[s.bank.pk])
    page = secretariat.get(url)
    assert page.context["bank"].exposure == 30_000_000
    response = secretariat.post(url, {"exposure_ceiling": "1 000 000 000", "reason": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    response = secretariat.post(url, {"exposure_ceiling": "1 000 000 000", "reason": "Revue annuelle"})
    assert response.status_code == 302
    s.bank.refresh_from_db()
    assert s.bank.exposure_ceiling == 1_000_000_000
    change = BankCeilingChange.objects.get(bank=s.bank)
    assert (change.previous_ceiling, change.new_ceiling, change.reason) == (10_000_000_000, 1_000_000_000,
                                                                            "Revue annuelle")
    assert "Revue annuelle" in secretariat.get(url).content.decode()


def test_banks_list_shows_exposure_and_room(secretariat):
    s = scene(ceiling=100_000_000)
    active_guarantee(s, amount=30_000_000)
    response = secretariat.get(reverse("guarantees:banks"))
    row = next(b for b in response.context["page"].object_list if b.pk == s.bank.pk)
    assert (row.exposure, row.room) == (30_000_000, 70_000_000)
    assert "70\u202f000\u202f000\u00a0FCFA" in response.content.decode()
