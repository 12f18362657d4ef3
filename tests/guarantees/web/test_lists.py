"""Lists: only what the organisation may see, filters (status, bank, principal, country, validity, GRN) and
pagination by 25, with the filters kept across pages."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from guarantees.models import GuaranteeStatus
from tests.accounts.helpers import sign_in_as
from tests.builders import active_guarantee, requested_guarantee, scene
from tests.factories import BankFactory, ForwarderFactory, GuaranteeFactory, country, member

S = GuaranteeStatus


def client_for(user) -> Client:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    if user.mfa_required and not Authenticator.objects.filter(user=user).exists():
        TOTP.activate(user, generate_totp_secret())
    client = Client()
    sign_in_as(client, user)
    return client


def listed(response) -> list[int]:
    return [g.pk for g in response.context["page"].object_list]


@pytest.fixture
def s(db):
    return scene("BF")


def test_forwarder_sees_only_its_own_guarantees(s):
    mine = requested_guarantee(s, submit=False)
    other = GuaranteeFactory(principal=ForwarderFactory(country=country("BF")), bank=s.bank)
    response = client_for(s.agent).get(reverse("guarantees:list"))
    assert listed(response) == [mine.pk]
    assert other.pk not in listed(response)


def test_bank_sees_only_its_own_and_no_drafts(s):
    requested_guarantee(s, submit=False)
    submitted = requested_guarantee(s)
    other_bank = BankFactory()
    GuaranteeFactory(principal=s.forwarder, bank=other_bank, status=S.SUBMITTED)
    assert listed(client_for(s.checker).get(reverse("guarantees:list"))) == [submitted.pk]


def test_filter_by_status_and_grn(s):
    active = active_guarantee(s)
    submitted = requested_guarantee(s)
    agent = client_for(s.agent)
    assert listed(agent.get(reverse("guarantees:list"), {"status": "active"})) == [active.pk]
    assert listed(agent.get(reverse("guarantees:list"), {"status": "submitted"})) == [submitted.pk]
    # The GRN as typed, with spaces and in lower case, or a part of it.
    typed = f"{active.grn[:4].lower()} {active.grn[4:]}"
    assert listed(agent.get(reverse("guarantees:list"), {"q": typed})) == [active.pk]
    assert listed(agent.get(reverse("guarantees:list"), {"q": active.grn[-6:]})) == [active.pk]
    assert listed(agent.get(reverse("guarantees:list"), {"q": f"#{submitted.pk}"})) == [submitted.pk]


def test_filter_by_bank_principal_country_and_validity(s):
    today = timezone.localdate()
    short = requested_guarantee(s, days=30)
    long = requested_guarantee(s, days=400)
    other_bank = BankFactory(organisation__country=country("BF"))
    at_other_bank = GuaranteeFactory(principal=s.forwarder, bank=other_bank, status=S.SUBMITTED)
    secretariat_user = _secretariat()
    client = client_for(secretariat_user)
    url = reverse("guarantees:list")
    assert listed(client.get(url, {"bank": other_bank.pk})) == [at_other_bank.pk]
    assert set(listed(client.get(url, {"principal": s.forwarder.pk}))) == {short.pk, long.pk, at_other_bank.pk}
    assert set(listed(client.get(url, {"country": "BF"}))) == {short.pk, long.pk, at_other_bank.pk}
    country("ML")
    assert listed(client.get(url, {"country": "ML"})) == []
    before = (today + datetime.timedelta(days=100)).isoformat()
    assert listed(client.get(url, {"valid_until_before": before, "bank": s.bank.pk})) == [short.pk]
    after = (today + datetime.timedelta(days=100)).strftime("%d/%m/%Y")
    assert listed(client.get(url, {"valid_until_after": after, "bank": s.bank.pk})) == [long.pk]
    on = (today + datetime.timedelta(days=200)).isoformat()
    assert listed(client.get(url, {"valid_on": on, "bank": s.bank.pk})) == [long.pk]
    # The principal is typed, part of its name, in any case: no list of every forwarder to choose from.
    other = GuaranteeFactory(principal=ForwarderFactory(country=country("BF"), name="Sahel Logistique"),
                             bank=s.bank, status=S.SUBMITTED)
    assert listed(client.get(url, {"principal_name": "sahel log"})) == [other.pk]
    page = client.get(url).content.decode()
    assert 'name="principal_name"' in page and 'type="hidden" name="principal"' in page
    assert f">{s.forwarder.name}</option>" not in page


def test_filter_choices_name_only_what_the_user_may_see(s):
    requested_guarantee(s)
    stranger_bank = BankFactory()
    response = client_for(s.agent).get(reverse("guarantees:list"))
    banks = list(response.context["filter"].form.fields["bank"].queryset)
    assert banks == [s.bank] and stranger_bank not in banks


def test_a_bad_filter_value_is_ignored_not_a_server_error(s):
    requested_guarantee(s)
    response = client_for(s.agent).get(reverse("guarantees:list"), {"valid_on": "demain", "bank": "x"})
    assert response.status_code == 200


def test_pagination_by_25_keeps_the_filters(s):
    for _ in range(27):
        GuaranteeFactory(principal=s.forwarder, bank=s.bank, requested_by=s.agent)
    requested_guarantee(s)  # submitted: filtered out
    agent = client_for(s.agent)
    first = agent.get(reverse("guarantees:list"), {"status": "draft"})
    assert len(listed(first)) == 25 and first.context["page"].paginator.count == 27
    assert "status=draft&amp;page=2" in first.content.decode()
    second = agent.get(reverse("guarantees:list"), {"status": "draft", "page": 2})
    assert len(listed(second)) == 2
    assert set(listed(first)).isdisjoint(listed(second))
    assert agent.get(reverse("guarantees:list"), {"page": 99}).status_code == 200


def test_portfolio_shows_exposure_against_the_ceiling(s):
    s.bank.exposure_ceiling = 200_000_000
    s.bank.save()
    active_guarantee(s, amount=50_000_000)
    requested_guarantee(s, amount=10_000_000)  # submitted: not exposure yet
    response = client_for(s.maker).get(reverse("guarantees:portfolio"))
    assert response.context["exposure"] == 50_000_000
    assert response.context["room"] == 150_000_000
    assert response.context["exposure_pct"] == 25
    assert len(listed(response)) == 2


def test_bank_queue_sections_follow_the_roles(s):
    to_prepare = requested_guarantee(s)
    maker_queues = {q["key"] for q in client_for(s.maker).get(reverse("guarantees:bank_queue")).context["queues"]}
    checker_queues = {q["key"] for q in client_for(s.checker).get(reverse("guarantees:bank_queue")).context["queues"]}
    assert maker_queues == {"to_prepare", "amendments_to_prepare"}
    assert checker_queues == {"to_check", "amendments_to_check"}
    response = client_for(s.maker).get(reverse("guarantees:bank_queue"))
    queue = next(q for q in response.context["queues"] if q["key"] == "to_prepare")
    assert [g.pk for g in queue["page"].object_list] == [to_prepare.pk]


def _secretariat():
    from tests.factories import SecretariatFactory

    return member(SecretariatFactory(), Role.SECRETARIAT_ADMIN)
