import pytest
from django.urls import reverse

from accounts.models import SignInAttempt, User
from tests.accounts.helpers import sign_in

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (test) Chromium", "REMOTE_ADDR": "196.28.245.10"}


def test_successful_sign_in_is_recorded_with_ip_and_user_agent(client, forwarder_agent):
    response = sign_in(client, forwarder_agent.email, **BROWSER)
    assert response.status_code == 302
    attempt = SignInAttempt.objects.get()
    assert attempt.succeeded
    assert attempt.user == forwarder_agent
    assert attempt.email == forwarder_agent.email
    assert attempt.ip_address == "196.28.245.10"
    assert "Chromium" in attempt.user_agent


def test_wrong_password_shows_a_french_message_and_is_recorded(client, forwarder_agent):
    response = sign_in(client, forwarder_agent.email, "not-the-password", **BROWSER)
    assert response.status_code == 200
    assert "L’adresse e-mail ou le mot de passe sont incorrects." in response.content.decode()
    attempt = SignInAttempt.objects.get()
    assert not attempt.succeeded
    assert attempt.user == forwarder_agent
    assert attempt.ip_address == "196.28.245.10"


def test_unknown_address_is_recorded_without_a_user(client, db):
    sign_in(client, "nobody@example.org", "whatever-password")
    attempt = SignInAttempt.objects.get()
    assert attempt.email == "nobody@example.org"
    assert attempt.user is None and not attempt.succeeded


def test_repeated_failures_are_slowed_down_even_with_the_right_password(client, forwarder_agent):
    for _ in range(5):
        response = sign_in(client, forwarder_agent.email, "not-the-password")
        assert response.status_code == 200
    response = sign_in(client, forwarder_agent.email)  # right password, too late
    assert response.status_code in (200, 429)
    assert not response.wsgi_request.user.is_authenticated
    body = response.content.decode()
    assert "Trop de tentatives" in body
    assert SignInAttempt.objects.filter(succeeded=False).count() == 6


def test_a_locked_out_person_is_told_for_how_long(client, forwarder_agent):
    """Five failures a minute from one address: the sixth attempt is told to wait one minute, not "later"."""
    for _ in range(5):
        sign_in(client, forwarder_agent.email, "not-the-password", **BROWSER)
    body = sign_in(client, forwarder_agent.email, **BROWSER).content.decode()
    assert "Trop de tentatives de connexion échouées. Réessayez dans 1\u00a0minute." in body
    assert "plus tard" not in body


def test_the_wait_follows_the_longest_limit_reached(client, forwarder_agent):
    """Ten failures on one login in five minutes, each from another address: the per-login limit holds for about
    five minutes, whichever address tries next."""
    for n in range(10):
        sign_in(client, forwarder_agent.email, "not-the-password", REMOTE_ADDR=f"196.28.245.{20 + n}")
    body = sign_in(client, forwarder_agent.email, REMOTE_ADDR="196.28.246.1").content.decode()
    assert "Réessayez dans 5\u00a0minutes." in body


def test_too_many_sign_in_requests_get_the_french_429_page(client, forwarder_agent, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    for _ in range(2):
        sign_in(client, forwarder_agent.email, "not-the-password")
    response = sign_in(client, forwarder_agent.email, "not-the-password")
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()


def test_sign_in_page_is_french_and_offers_no_sign_up(client, db):
    body = client.get(reverse("account_login")).content.decode()
    assert "Se connecter" in body
    assert "Mot de passe oublié" in body
    assert reverse("account_signup") not in body


def test_open_sign_up_is_closed(client, db):
    response = client.post(
        reverse("account_signup"), {"email": "new@example.org", "password1": "x" * 12, "password2": "x" * 12}
    )
    assert "Pas d’inscription libre" in response.content.decode()
    assert not User.objects.filter(email="new@example.org").exists()


def test_unverified_address_cannot_sign_in(client, forwarder):
    from tests.factories import member

    user = member(forwarder, "forwarder_agent", email="fresh@transit-sahel.bf")
    response = sign_in(client, user.email)
    assert not client.get(reverse("home")).wsgi_request.user.is_authenticated
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")


def test_sign_in_attempts_are_read_only_in_the_admin(client, admin_client, forwarder_agent):
    sign_in(client, forwarder_agent.email, "not-the-password")
    page = admin_client.get(reverse("admin:accounts_signinattempt_changelist"))
    assert page.status_code == 200
    assert forwarder_agent.email in page.content.decode()
    assert admin_client.get(reverse("admin:accounts_signinattempt_add")).status_code == 403
