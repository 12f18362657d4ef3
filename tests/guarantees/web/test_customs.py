"""The customs look-up: a guarantee of the officer's country opens its page; any other is checked with the
principal's access code, and an unknown number and a wrong code give the same answer; repeated wrong codes
are slowed down."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from accounts.roles import Role
from guarantees.errors import TooManyAttempts
from guarantees.services.access_codes import access_code_issue
from tests.accounts.helpers import sign_in_as
from tests.builders import active_guarantee, scene
from tests.factories import CustomsFactory, country, member

NOT_FOUND = "No guarantee matches this reference number and access code."


def client_for(user) -> Client:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    if user.mfa_required and not Authenticator.objects.filter(user=user).exists():
        TOTP.activate(user, generate_totp_secret())
    client = Client()
    sign_in_as(client, user)
    return client


def french(message) -> str:
    with translation.override("fr"):
        return escape(str(message))


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def s(db):
    return scene("BF")


@pytest.fixture
def malian_officer(db):
    return member(CustomsFactory(country=country("ML")), Role.CUSTOMS_OFFICER)


def test_own_country_guarantee_opens_its_page(s):
    g = active_guarantee(s)
    response = client_for(s.officer).get(reverse("guarantees:lookup"), {"grn": g.grn.lower()})
    assert response.status_code == 302 and response["Location"] == reverse("guarantees:detail", args=[g.pk])


def test_other_country_guarantee_is_checked_with_the_access_code(s, malian_officer):
    g = active_guarantee(s, amount=40_000_000)
    code = access_code_issue(guarantee=g, by=s.agent)
    client = client_for(malian_officer)
    response = client.get(reverse("guarantees:lookup"), {"grn": g.grn})
    assert response.status_code == 200 and response.context["check_form"] is not None
    response = client.post(reverse("guarantees:lookup"), {"grn": g.grn, "access_code": code.lower()})
    assert response.context["result"] == g
    text = response.content.decode()
    assert "40\u202f000\u202f000\u00a0FCFA" in text and g.principal.name in text


def test_unknown_number_and_wrong_code_give_the_same_answer(s, malian_officer):
    g = active_guarantee(s)
    access_code_issue(guarantee=g, by=s.agent)
    client = client_for(malian_officer)
    wrong_code = client.post(reverse("guarantees:lookup"), {"grn": g.grn, "access_code": "ZZZZ"})
    unknown = client.post(reverse("guarantees:lookup"), {"grn": "26BF999999999999-00", "access_code": "ZZZZ"})
    with translation.override("fr"):
        expected = translation.gettext(NOT_FOUND)
    for response in (wrong_code, unknown):
        assert response.status_code == 200 and response.context["result"] is None
        assert response.context["check_form"].non_field_errors() == [expected]


def test_repeated_wrong_codes_slow_down_that_officer_and_say_for_how_long(s, malian_officer, settings):
    settings.REGISTRY_ACCESS_CODE_MAX_FAILURES = 3
    settings.REGISTRY_ACCESS_CODE_WINDOW_SECONDS = 900
    g = active_guarantee(s)
    code = access_code_issue(guarantee=g, by=s.agent)
    client = client_for(malian_officer)
    for _ in range(3):
        client.post(reverse("guarantees:lookup"), {"grn": g.grn, "access_code": "ZZZZ"})
    # Even the right code is refused for this officer until the window has passed, and the page says how long.
    response = client.post(reverse("guarantees:lookup"), {"grn": g.grn, "access_code": code})
    assert response.status_code == 429 and response.context["result"] is None
    assert 890 <= int(response["Retry-After"]) <= 900
    with translation.override("fr"):
        expected = escape(str(TooManyAttempts(retry_after=int(response["Retry-After"])).message))
    assert "15 minutes" in expected and expected in response.content.decode()
    # Another officer of the same administration, with the right code, is not slowed down.
    colleague = member(malian_officer.organisation, Role.CUSTOMS_OFFICER)
    response = client_for(colleague).post(reverse("guarantees:lookup"), {"grn": g.grn, "access_code": code})
    assert response.status_code == 200 and response.context["result"] == g


def test_customs_queue_lists_confirmed_guarantees_of_the_country_only(s, malian_officer):
    from tests.builders import confirmed_guarantee

    g = confirmed_guarantee(s)
    mine = client_for(s.officer).get(reverse("guarantees:customs_queue"))
    assert [x.pk for x in mine.context["page"].object_list] == [g.pk]
    theirs = client_for(malian_officer).get(reverse("guarantees:customs_queue"))
    assert list(theirs.context["page"].object_list) == []
