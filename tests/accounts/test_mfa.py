"""TOTP: who must enrol, and a session reaches nothing until *it* has passed the code (a device is not enough)."""

import pyotp
import pytest
from django.urls import reverse
from django.utils.http import urlencode

from accounts.models import User
from tests.accounts.helpers import PASSWORD, give_totp, sign_in, sign_in_as, verified

pytestmark = pytest.mark.django_db


def code_page(path: str) -> str:
    return f"{reverse('mfa_reauthenticate')}?{urlencode({'next': path})}"


def test_bank_user_without_totp_is_sent_to_enrolment_from_every_page(client, bank_maker):
    client.force_login(bank_maker)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert client.get(reverse("organisation_members"))["Location"] == reverse("mfa_activate_totp")


def test_customs_user_without_totp_is_sent_to_enrolment(client, customs_officer):
    client.force_login(customs_officer)
    assert client.get(reverse("home"))["Location"] == reverse("mfa_activate_totp")


def test_bank_user_whose_session_passed_totp_reaches_the_home_page(client, bank_maker):
    give_totp(bank_maker)
    sign_in_as(client, bank_maker)
    assert client.get(reverse("home")).status_code == 200


def test_forwarder_is_not_asked_to_enrol(client, forwarder_agent):
    client.force_login(forwarder_agent)
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("flags", [{"is_staff": True}, {"is_staff": True, "is_superuser": True}])
def test_staff_and_superusers_without_membership_must_enrol_before_the_admin(client, flags):
    person = verified(User.objects.create_user("root@registre.example", PASSWORD, **flags))
    assert not person.active_memberships
    client.force_login(person)
    assert client.get(reverse("admin:index"))["Location"] == reverse("mfa_activate_totp")
    assert client.get(reverse("home"))["Location"] == reverse("mfa_activate_totp")


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
    # Enrolling (typing the new device's code) counts as this session having passed MFA.
    assert client.get(reverse("home")).status_code == 200
    # The convenience covers that one display only: a second look at the codes needs the password or a code.
    again = client.get(reverse("mfa_view_recovery_codes"))
    assert again.status_code == 302 and again["Location"].startswith(reverse("account_reauthenticate"))


def test_enrolment_long_after_sign_in_asks_for_the_password_again(client, bank_maker, settings):
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    sign_in(client, bank_maker.email)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_a_forwarder_enrolling_by_choice_types_the_password_again(client, forwarder_agent):
    # The first-enrolment convenience is for the people forced into it right after signing in, not for anyone.
    sign_in(client, forwarder_agent.email)
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


# --- A session that skipped the TOTP step (any path but allauth's sign-in) -------------------------------------


def test_a_session_opened_without_the_code_is_sent_to_the_code_page_from_every_page(client, bank_maker):
    give_totp(bank_maker)
    assert client.login(email=bank_maker.email, password=PASSWORD)  # Django's own sign-in: no TOTP step
    for path in (reverse("home"), reverse("organisation_members"), "/transits/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == code_page(path)


def test_a_session_opened_without_the_code_gets_the_json_403_from_the_api(client, bank_maker):
    give_totp(bank_maker)
    client.force_login(bank_maker)
    response = client.get("/api/v1/guarantees/")
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_a_forwarder_with_totp_whose_session_skipped_it_is_asked_too(client, forwarder_agent):
    give_totp(forwarder_agent)
    client.force_login(forwarder_agent)
    assert client.get(reverse("home"))["Location"] == code_page(reverse("home"))


@pytest.mark.parametrize(
    "url_name", ["mfa_deactivate_totp", "mfa_generate_recovery_codes", "mfa_view_recovery_codes",
                 "account_reauthenticate", "account_change_password", "account_email", "mfa_index"],
)
def test_a_session_that_skipped_the_code_cannot_reach_the_pages_that_would_turn_it_off(client, bank_maker, url_name):
    give_totp(bank_maker)
    client.force_login(bank_maker)
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"] == code_page(reverse(url_name))


def test_typing_the_code_on_the_code_page_opens_the_session_and_returns_to_the_page(client, bank_maker):
    secret = give_totp(bank_maker)
    client.force_login(bank_maker)
    assert client.get(code_page(reverse("organisation_members"))).status_code == 200
    response = client.post(code_page(reverse("organisation_members")), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response["Location"] == reverse("organisation_members")
    assert client.get(reverse("home")).status_code == 200


def test_a_wrong_code_on_the_code_page_opens_nothing(client, bank_maker):
    give_totp(bank_maker)
    client.force_login(bank_maker)
    response = client.post(code_page("/"), {"code": "000000"})
    assert response.status_code == 200
    assert client.get(reverse("home"))["Location"] == code_page(reverse("home"))


def test_sign_out_works_before_the_code(client, bank_maker):
    give_totp(bank_maker)
    client.force_login(bank_maker)
    assert client.post(reverse("account_logout")).status_code == 302
    assert not client.get(reverse("account_login")).wsgi_request.user.is_authenticated


def test_the_central_test_sign_in_opens_the_admin_for_an_enrolled_superuser(admin_client):
    assert admin_client.get(reverse("admin:index")).status_code == 200
