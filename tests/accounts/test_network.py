"""The client's address behind the trusted proxies, and a spoofed X-Forwarded-For."""

import pytest
from django.test import RequestFactory

from accounts.network import client_ip


def _request(remote="10.0.0.5", xff=None):
    meta = {"REMOTE_ADDR": remote}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **meta)


def test_without_trusted_proxy_the_header_is_ignored(settings):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(xff="203.0.113.9")) == "10.0.0.5"


def test_behind_one_proxy_the_address_it_appended_is_the_client(settings):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(xff="198.51.100.7")) == "198.51.100.7"


def test_a_spoofed_leftmost_address_changes_nothing(settings):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 1
    # The client sent "X-Forwarded-For: 1.2.3.4"; nginx appended the address it saw.
    assert client_ip(_request(xff="1.2.3.4, 198.51.100.7")) == "198.51.100.7"


def test_two_proxies_take_the_second_from_the_right(settings):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request(xff="1.2.3.4, 198.51.100.7, 10.0.0.9")) == "198.51.100.7"


def test_fewer_hops_than_proxies_falls_back_to_the_peer(settings):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request(xff="1.2.3.4")) == "10.0.0.5"


@pytest.mark.parametrize("garbage", ["not-an-ip", "", " , ", "999.1.1.1"])
def test_garbage_in_the_header_falls_back_to_the_peer(settings, garbage):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(xff=garbage)) == "10.0.0.5"


def test_ports_and_brackets_are_stripped(settings):
    settings.REGISTRY_TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(xff="[2001:db8::1]:443")) == "2001:db8::1"
    assert client_ip(_request(xff="192.0.2.1:8080")) == "192.0.2.1"
