import pyotp
import pytest
from django.urls import reverse

from tests.accounts.helpers import give_totp, sign_in

pytestmark = pytest.mark.django_db


def test_bank_user_without_totp_is_sent_to_enrolment_from_every_page(client, bank_maker):
    client.force_login(bank_maker)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert client.get(reverse("organisation_members"))["Location"] == reverse("mfa_activate_totp")


def test_customs_user_without_totp_is_sent_to_enrolment(client, customs_officer):
    client.force_login(customs_officer)
    assert client.get(reverse("home"))["Location"] == reverse("mfa_activate_totp")


def test_bank_user_with_totp_reaches_the_home_page(client, bank_maker):
    give_totp(bank_maker)
    client.force_login(bank_maker)
    assert client.get(reverse("home")).status_code == 200


def test_forwarder_is_not_asked_to_enrol(client, forwarder_agent):
    client.force_login(forwarder_agent)
    assert client.get(reverse("home")).status_code == 200


def test_enrolment_sign_out_and_language_switch_stay_reachable_before_enrolment(client, bank_maker):
    sign_in(client, bank_maker.email)
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.post(reverse("account_logout")).status_code == 302
    assert not client.get(reverse("home")).wsgi_request.user.is_authenticated


def test_api_call_from_a_session_without_totp_is_refused_with_json(client, bank_maker):
    client.force_login(bank_maker)
    response = client.get("/api/v1/anything/")
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_enrolment_right_after_sign_in_needs_no_second_password_and_ends_on_recovery_codes(client, bank_maker):
    response = sign_in(client, bank_maker.email)
    assert response.status_code == 302
    response = client.get(reverse("home"))
    assert response["Location"] == reverse("mfa_activate_totp")

    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200  # not the reauthentication page
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_view_recovery_codes")

    codes = client.get(reverse("mfa_view_recovery_codes"))
    assert codes.status_code == 200
    assert reverse("home") in codes.content.decode()
    assert client.get(reverse("home")).status_code == 200


def test_enrolment_long_after_sign_in_asks_for_the_password_again(client, bank_maker, settings):
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    sign_in(client, bank_maker.email)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_enrolled_user_is_asked_for_the_totp_code_at_sign_in(client, bank_maker):
    secret = give_totp(bank_maker)
    response = sign_in(client, bank_maker.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert not client.get(reverse("mfa_authenticate")).wsgi_request.user.is_authenticated

    response = client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_wrong_totp_code_does_not_sign_in(client, bank_maker):
    give_totp(bank_maker)
    sign_in(client, bank_maker.email)
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
