"""The API's anonymous limit counts the client's address as ``accounts.network.client_ip`` reads it: a spoofed
X-Forwarded-For does not get a fresh count, and behind the proxy each client has its own."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def _anonymous_limit(settings):
    settings.API_THROTTLE_RATES = {"api_key": "", "user": "", "anon": "2/m"}


def _schema(client, **meta):
    # The schema is the API's page open to anonymous callers, so the only one their limit applies to.
    return client.get(reverse("api-schema"), **meta).status_code


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_new_spoofed_x_forwarded_for_each_time_does_not_reset_the_count(settings, proxies):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = proxies
    client = Client(REMOTE_ADDR=PROXY if proxies else "203.0.113.7")
    # With a proxy, it appends the address it saw (203.0.113.7) after whatever the client sent.
    seen = ", 203.0.113.7" if proxies else ""
    statuses = [_schema(client, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}{seen}") for n in range(3)]
    assert statuses == [200, 200, 429]


def test_behind_one_proxy_two_clients_are_counted_apart(settings):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 1
    client = Client(REMOTE_ADDR=PROXY)
    assert [_schema(client, HTTP_X_FORWARDED_FOR="203.0.113.7") for _ in range(3)] == [200, 200, 429]
    assert _schema(client, HTTP_X_FORWARDED_FOR="198.51.100.9") == 200
