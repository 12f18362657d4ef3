"""Sessions end after a while without requests, and at the latest some hours after they were opened."""

import time

import pytest
from django.urls import reverse

from accounts.middleware import SESSION_SEEN_AT, SESSION_STARTED_AT
from tests.accounts.helpers import give_totp, sign_in, sign_in_as

pytestmark = pytest.mark.django_db

MINUTE = 60


def _age(client, *, idle: float = 0, since_start: float = 0) -> None:
    """Move the session's clock back: as if the last request came ``idle`` seconds ago and the sign-in
    ``since_start`` seconds ago."""
    session = client.session
    now = time.time()
    session[SESSION_SEEN_AT] = now - idle
    session[SESSION_STARTED_AT] = now - max(since_start, idle)
    session.save()


def _signed_in(client) -> bool:
    return client.get(reverse("home")).wsgi_request.user.is_authenticated


@pytest.fixture
def bank_client(client, bank_maker):
    give_totp(bank_maker)
    return sign_in_as(client, bank_maker)


def test_a_bank_session_ends_after_30_minutes_without_a_request(bank_client):
    _age(bank_client, idle=31 * MINUTE)
    response = bank_client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert not _signed_in(bank_client)


def test_a_bank_session_used_within_30_minutes_goes_on(bank_client):
    _age(bank_client, idle=29 * MINUTE, since_start=3 * 3600)
    assert bank_client.get(reverse("home")).status_code == 200
    # and the request counted as activity: 29 more minutes later it still goes on
    session = bank_client.session
    assert time.time() - session[SESSION_SEEN_AT] < MINUTE


def test_a_customs_session_ends_after_30_minutes_too(client, customs_officer):
    give_totp(customs_officer)
    sign_in_as(client, customs_officer)
    _age(client, idle=31 * MINUTE)
    assert not _signed_in(client)


def test_a_busy_bank_session_still_ends_after_12_hours(bank_client):
    _age(bank_client, idle=1 * MINUTE, since_start=12 * 3600 + MINUTE)
    assert not _signed_in(bank_client)


def test_a_forwarder_keeps_2_hours_of_idle_time_not_two_weeks(client, forwarder_agent):
    sign_in_as(client, forwarder_agent)
    _age(client, idle=90 * MINUTE)
    assert _signed_in(client)
    _age(client, idle=2 * 3600 + MINUTE)
    assert not _signed_in(client)


def test_the_api_answers_an_expired_session_as_signed_out(client, forwarder_agent):
    sign_in_as(client, forwarder_agent)
    _age(client, idle=3 * 3600)
    response = client.get("/api/v1/guarantees")
    assert response.status_code in (401, 403) and response.json()["code"] in ("not_authenticated", "permission_denied")


def test_the_timeouts_come_from_the_settings(settings, bank_client):
    settings.REGISTRY_SESSION_IDLE_SECONDS = 5 * MINUTE
    _age(bank_client, idle=6 * MINUTE)
    assert not _signed_in(bank_client)


def test_a_new_sign_in_starts_the_clock_again(client, forwarder_agent):
    sign_in(client, forwarder_agent.email)
    session = client.session
    assert time.time() - session[SESSION_STARTED_AT] < MINUTE
    assert session.get_expiry_age() <= 12 * 3600  # the cookie does not outlive the longest session
