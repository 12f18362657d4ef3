"""Who downloads a certificate: the principal, the bank and the customs of the guarantee, the secretariat;
another forwarder, bank or customs administration gets a 404, a signed-out visitor the sign-in page."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from guarantees.models import Certificate
from tests.accounts.helpers import sign_in_as
from tests.factories import BankFactory, CustomsFactory, ForwarderFactory, SecretariatFactory, country, member

pytestmark = pytest.mark.django_db


def give_totp(user):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def people(s):
    users = {
        "principal": s.agent,
        "other_forwarder": member(ForwarderFactory(country=country("BF")), Role.FORWARDER_AGENT),
        "maker": s.maker,
        "checker": s.checker,
        "other_bank": member(BankFactory(organisation__country=country("BF")).organisation, Role.BANK_CHECKER),
        "officer": s.officer,
        "other_customs": member(CustomsFactory(country=country("ML")), Role.CUSTOMS_OFFICER),
        "secretariat": member(SecretariatFactory(), Role.SECRETARIAT_ADMIN),
    }
    for user in users.values():
        if user.mfa_required:
            give_totp(user)
    return users


EXPECTED = {
    "principal": 200, "other_forwarder": 404, "maker": 200, "checker": 200, "other_bank": 404, "officer": 200,
    "other_customs": 404, "secretariat": 200, "anonymous": 302,
}


def test_download_matrix(people, guarantee):
    url = reverse("guarantees:certificate_download", args=[guarantee.pk, 1])
    actual = {}
    for role in EXPECTED:
        client = Client()
        if role != "anonymous":
            sign_in_as(client, people[role])
        response = client.get(url)
        actual[role] = response.status_code
        if response.status_code == 200:
            assert response["Content-Type"] == "application/pdf"
            assert response.content.startswith(b"%PDF-")
            assert f'filename="caution-unique-{guarantee.grn}-v1-fr.pdf"' in response["Content-Disposition"]
    assert actual == EXPECTED
    # One stored certificate served to all: rendered once.
    assert Certificate.objects.filter(guarantee=guarantee).count() == 1


def test_english_on_request_and_unknown_version_or_language(people, guarantee):
    client = Client()
    sign_in_as(client, people["principal"])
    url = reverse("guarantees:certificate_download", args=[guarantee.pk, 1])
    response = client.get(url, {"lang": "en"})
    assert response.status_code == 200
    assert "-v1-en.pdf" in response["Content-Disposition"]
    assert client.get(url, {"lang": "de"}).status_code == 404
    assert client.get(reverse("guarantees:certificate_download", args=[guarantee.pk, 2])).status_code == 404
    stored = Certificate.objects.with_pdf().get(guarantee=guarantee, language="en")
    assert bytes(stored.pdf) == response.content


def test_the_guarantee_page_lists_the_certificates(people, guarantee):
    from guarantees.services.certificates import certificate_issue

    certificate = certificate_issue(version=guarantee.versions.get(), language="fr")
    client = Client()
    sign_in_as(client, people["principal"])
    html = client.get(reverse("guarantees:detail", args=[guarantee.pk])).content.decode()
    assert 'data-testid="certificates"' in html
    assert reverse("guarantees:certificate_download", args=[guarantee.pk, 1]) + "?lang=fr" in html
    assert reverse("guarantees:certificate_download", args=[guarantee.pk, 1]) + "?lang=en" in html
    assert certificate.fingerprint_display in html
    assert reverse("guarantees:verify", args=[guarantee.grn]) + "?v=1" in html
