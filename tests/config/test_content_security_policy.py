"""Every HTML page carries a Content-Security-Policy that allows no inline script or style and no framing."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.accounts.helpers import give_totp, sign_in_as

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


def _assert_strict(response):
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy.get("style-src", []) and "'unsafe-eval'" not in policy["script-src"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]


def _assert_no_inline_code(html: str):
    assert not re.search(r"<style[\s>]", html), "inline <style>"
    assert not re.search(r"\sstyle=\"", html), "style attribute"
    assert not re.search(r"\son[a-z]+=\"", html), "inline event handler"
    for script in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in script or 'type="application/json"' in script, script


@pytest.fixture
def bank_client(db):
    from accounts.roles import Role
    from tests.accounts.helpers import verified
    from tests.factories import BankFactory, member

    user = verified(member(BankFactory().organisation, Role.BANK_CHECKER, email="checker@banque.example"))
    give_totp(user)
    return sign_in_as(Client(), user)


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/password/reset/", "/verify/", "/api/v1/docs/"])
def test_public_pages_carry_the_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    _assert_strict(response)
    _assert_no_inline_code(response.content.decode())


def test_signed_in_pages_carry_the_policy(bank_client):
    for path in (reverse("home"), "/bank/queue/", "/bank/portfolio/", "/guarantees/", "/transits/", reverse("mfa_index")):
        response = bank_client.get(path, follow=True)
        assert response.status_code == 200, path
        _assert_strict(response)
        _assert_no_inline_code(response.content.decode())


def test_error_pages_carry_the_policy(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    _assert_strict(response)


def test_the_admin_carries_the_policy(admin_client):
    response = admin_client.get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 200
    _assert_strict(response)
