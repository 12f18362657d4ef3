import pytest
from django.conf import settings
from django.urls import reverse

from tests.accounts.helpers import sign_in

pytestmark = pytest.mark.django_db


def test_switching_language_while_signed_in_is_saved_on_the_account(client, forwarder_agent):
    client.force_login(forwarder_agent)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    forwarder_agent.refresh_from_db()
    assert forwarder_agent.language == "en"
    assert "Welcome" in client.get(reverse("home")).content.decode()


def test_switching_language_anonymously_only_sets_the_cookie(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/accounts/login/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Sign in" in client.get(reverse("account_login")).content.decode()


def test_sign_in_opens_the_site_in_the_saved_language(client, forwarder_agent):
    forwarder_agent.language = "en"
    forwarder_agent.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    response = sign_in(client, forwarder_agent.email)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Welcome" in client.get(reverse("home")).content.decode()


def test_french_is_the_default(client, forwarder_agent):
    client.force_login(forwarder_agent)
    body = client.get(reverse("home")).content.decode()
    assert '<html lang="fr">' in body
    assert "Bienvenue" in body


def test_language_survives_sign_out_and_sign_in(client, forwarder_agent):
    sign_in(client, forwarder_agent.email)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    client.post(reverse("account_logout"))
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    sign_in(client, forwarder_agent.email)
    assert "Welcome" in client.get(reverse("home")).content.decode()
