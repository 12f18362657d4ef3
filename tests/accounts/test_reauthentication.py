"""Changing or reading MFA secrets needs the password or a code typed again: signing in a minute ago is not enough.

The one exception, the first enrolment right after signing in, is tested in test_mfa.py.
"""

import pyotp
import pytest
from django.urls import reverse

from tests.accounts.helpers import PASSWORD, give_totp, sign_in, sign_in_as

pytestmark = pytest.mark.django_db

MFA_PAGES = ["mfa_view_recovery_codes", "mfa_generate_recovery_codes", "mfa_deactivate_totp",
             "mfa_download_recovery_codes"]


@pytest.fixture
def enrolled_bank_maker(bank_maker):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    bank_maker.totp_secret = give_totp(bank_maker)
    RecoveryCodes.activate(bank_maker)
    return bank_maker


@pytest.mark.parametrize("url_name", MFA_PAGES)
def test_mfa_pages_ask_again_right_after_a_full_sign_in(client, enrolled_bank_maker, url_name):
    sign_in(client, enrolled_bank_maker.email)
    client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(enrolled_bank_maker.totp_secret).now()})
    assert client.get(reverse("home")).status_code == 200  # signed in, seconds ago, password and code
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_totp_cannot_be_turned_off_right_after_sign_in_without_typing_again(client, enrolled_bank_maker):
    from allauth.mfa.models import Authenticator

    sign_in_as(client, enrolled_bank_maker)
    client.post(reverse("mfa_deactivate_totp"))
    assert Authenticator.objects.filter(user=enrolled_bank_maker, type=Authenticator.Type.TOTP).exists()


def test_a_code_typed_again_opens_the_mfa_pages(client, enrolled_bank_maker):
    sign_in_as(client, enrolled_bank_maker)
    response = client.post(
        f"{reverse('mfa_reauthenticate')}?next={reverse('mfa_view_recovery_codes')}",
        {"code": pyotp.TOTP(enrolled_bank_maker.totp_secret).now()},
    )
    assert response["Location"] == reverse("mfa_view_recovery_codes")
    assert client.get(reverse("mfa_view_recovery_codes")).status_code == 200
    assert client.get(reverse("mfa_deactivate_totp")).status_code == 200


def test_the_password_typed_again_opens_the_mfa_pages(client, enrolled_bank_maker):
    sign_in_as(client, enrolled_bank_maker)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("mfa_view_recovery_codes")).status_code == 200

