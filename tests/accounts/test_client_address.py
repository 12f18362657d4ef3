"""allauth's sign-in limits count the client's address as ``accounts.network.client_ip`` reads it, behind
``TRUSTED_PROXY_COUNT`` proxies: a spoofed X-Forwarded-For is no fresh start, and behind the proxy one
person's typos do not lock everyone out."""

import pytest
from django.test import Client

from accounts.models import SignInAttempt
from tests.accounts.helpers import sign_in

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
TOO_MANY = "Trop de tentatives"


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_new_spoofed_x_forwarded_for_each_time_does_not_reset_the_failed_sign_in_count(
    settings, forwarder_agent, proxies
):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = proxies
    client = Client(REMOTE_ADDR=PROXY if proxies else "203.0.113.7")
    seen = ", 203.0.113.7" if proxies else ""
    # Five wrong passwords on five different accounts (so only the per-address limit counts), each with a new
    # forged address in front.
    for n in range(5):
        sign_in(client, f"nobody{n}@example.org", "not-the-password", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}{seen}")
    response = sign_in(client, forwarder_agent.email, HTTP_X_FORWARDED_FOR=f"192.0.2.99{seen}")
    assert not response.wsgi_request.user.is_authenticated
    assert TOO_MANY in response.content.decode()


def test_behind_one_proxy_one_persons_typos_do_not_lock_out_another(settings, forwarder_agent, forwarder_admin):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 1
    typist, other = Client(REMOTE_ADDR=PROXY), Client(REMOTE_ADDR=PROXY)
    for n in range(6):
        sign_in(typist, f"nobody{n}@example.org", "not-the-password", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert TOO_MANY in sign_in(typist, forwarder_agent.email, HTTP_X_FORWARDED_FOR="203.0.113.7").content.decode()

    response = sign_in(other, forwarder_admin.email, HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert response.status_code == 302
    assert response.wsgi_request.user.is_authenticated


def test_sign_in_records_keep_the_client_address_behind_the_proxy(settings, forwarder_agent):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 1
    sign_in(Client(REMOTE_ADDR=PROXY), forwarder_agent.email, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9")
    assert SignInAttempt.objects.get().ip_address == "198.51.100.9"
