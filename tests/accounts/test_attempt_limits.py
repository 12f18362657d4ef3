"""Every secret a person types is counted: N wrong tries, then the right one is refused too.

Password and codes at sign-in and at reauthentication, recovery codes, password-reset links. The limits are
allauth's (``ACCOUNT_RATE_LIMITS``: ``login_failed`` 5 a minute per address and 10 per 5 minutes per account or
per TOTP user); these tests hold them, and show that changing address does not reset the per-account count.
"""

import re

import pyotp
import pytest
from django.urls import reverse

from tests.accounts.helpers import PASSWORD, give_totp, sign_in, sign_in_as

pytestmark = pytest.mark.django_db

TOO_MANY = "Trop de tentatives"


def _from(n: int) -> dict:
    return {"REMOTE_ADDR": f"198.51.100.{n}"}


def test_wrong_passwords_from_ever_new_addresses_then_the_right_one_is_refused(client, forwarder_agent):
    for n in range(10):
        sign_in(client, forwarder_agent.email, "not-the-password", **_from(n))
    response = sign_in(client, forwarder_agent.email, PASSWORD, **_from(99))
    assert not response.wsgi_request.user.is_authenticated
    assert TOO_MANY in response.content.decode()


def test_wrong_totp_codes_at_sign_in_then_the_right_one_is_refused(client, bank_maker):
    secret = give_totp(bank_maker)
    sign_in(client, bank_maker.email)
    for _ in range(5):
        client.post(reverse("mfa_authenticate"), {"code": "000000"})
    response = client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert TOO_MANY in response.content.decode()


def test_wrong_totp_codes_from_ever_new_addresses_then_the_right_one_is_refused(client, bank_maker):
    secret = give_totp(bank_maker)
    sign_in(client, bank_maker.email, **_from(1))
    for n in range(10):
        client.post(reverse("mfa_authenticate"), {"code": "000000"}, **_from(n))
    response = client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()}, **_from(99))
    assert not response.wsgi_request.user.is_authenticated
    assert TOO_MANY in response.content.decode()


def test_wrong_recovery_codes_at_sign_in_then_a_right_one_is_refused(client, bank_maker):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    give_totp(bank_maker)
    right = RecoveryCodes.activate(bank_maker).get_unused_codes()[0]
    sign_in(client, bank_maker.email)
    for _ in range(5):
        client.post(reverse("mfa_authenticate"), {"code": "12345678"})
    response = client.post(reverse("mfa_authenticate"), {"code": right})
    assert not response.wsgi_request.user.is_authenticated
    assert TOO_MANY in response.content.decode()


def test_wrong_totp_codes_at_reauthentication_then_the_right_one_is_refused(client, bank_maker):
    secret = give_totp(bank_maker)
    sign_in_as(client, bank_maker)
    for _ in range(5):
        client.post(reverse("mfa_reauthenticate"), {"code": "000000"})
    response = client.post(reverse("mfa_reauthenticate"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()
    # still not reauthenticated: turning TOTP off asks again
    assert client.get(reverse("mfa_deactivate_totp")).status_code == 302


def test_wrong_passwords_at_reauthentication_then_the_right_one_is_refused(client, forwarder_agent):
    sign_in_as(client, forwarder_agent)
    for _ in range(5):
        client.post(reverse("account_reauthenticate"), {"password": "not-the-password"})
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()
    assert client.get(reverse("mfa_activate_totp")).status_code == 302  # still asks for the password


def test_password_reset_e_mails_are_limited_per_address(client, forwarder_agent, mailoutbox):
    for n in range(5):
        client.post(reverse("account_reset_password"), {"email": forwarder_agent.email}, **_from(n))
    assert len(mailoutbox) == 3  # "3/m/key": a fourth and fifth request send nothing


def test_wrong_reset_links_then_the_right_one_is_refused(client, forwarder_agent, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": forwarder_agent.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mailoutbox[0].body).group(1)
    uidb36 = link.rstrip("/").rsplit("/", 1)[1].split("-", 1)[0]
    new = {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"}
    for n in range(20):
        client.post(reverse("account_reset_password_from_key", kwargs={"uidb36": uidb36, "key": f"wrong{n}"}), new)
    set_password_page = client.get(link)["Location"]
    response = client.post(set_password_page, new)
    assert response.status_code == 429
    forwarder_agent.refresh_from_db()
    assert forwarder_agent.check_password(PASSWORD)
