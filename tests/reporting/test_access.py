"""Who may open which report, and what each sees: signed out → sign-in; without report.view → 403; a page of
another kind of organisation → 404; a bank sees no other bank's figures; customs only transits touching their
country; the filters refuse another organisation's forwarder."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import ROLE_PERMISSIONS, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BANK_PAGES = ["bank-exposure", "bank-claims"]
CUSTOMS_PAGES = ["customs-duties", "customs-open", "customs-release-times", "customs-cases"]


def page(slug):
    return reverse("reporting:page", args=[slug])


def test_signed_out_goes_to_the_sign_in_page(world):
    response = Client().get(page("bank-exposure"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Client().get(reverse("reporting:export_xlsx", args=["system"])).status_code == 302


def test_without_report_view_403(world, monkeypatch):
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.FORWARDER_AGENT,
                        ROLE_PERMISSIONS[Role.FORWARDER_AGENT] - {"report.view"})
    client = world.client(world.s.agent)
    for url in (reverse("reporting:index"), page("forwarder"), reverse("reporting:export_csv", args=["forwarder"])):
        assert client.get(url).status_code == 403
    # No link to the reports, and no forecast on the home page.
    home = client.get("/").content.decode()
    assert reverse("reporting:index") not in home and 'data-testid="home-headroom"' not in home


def test_a_person_of_no_organisation_403(world):
    loner = UserFactory()
    assert world.client(loner).get(page("system")).status_code == 403


@pytest.mark.parametrize(("who", "allowed"), [
    ("checker", BANK_PAGES),
    ("tg_officer", CUSTOMS_PAGES),
    ("agent", ["forwarder"]),
    ("secretariat", ["system", *CUSTOMS_PAGES]),
])
def test_each_kind_opens_its_pages_and_no_other(world, who, allowed):
    user = {"checker": world.s.checker, "tg_officer": world.tg_officer, "agent": world.s.agent,
            "secretariat": world.secretariat}[who]
    client = world.client(user)
    for slug in [*BANK_PAGES, *CUSTOMS_PAGES, "forwarder", "system", "no-such-report"]:
        expected = 200 if slug in allowed else 404
        assert client.get(page(slug)).status_code == expected, slug
        assert client.get(reverse("reporting:export_xlsx", args=[slug])).status_code == expected, slug
    index = client.get(reverse("reporting:index"), follow=True)
    assert index.status_code == 200
    # The navigation links to the reports.
    assert reverse("reporting:index") in client.get("/").content.decode()


def test_a_bank_sees_no_other_banks_figures(world):
    mine = world.client(world.s.checker).get(page("bank-exposure")).content.decode()
    assert world.s.forwarder.name in mine and world.s2.forwarder.name not in mine
    theirs = world.client(world.s2.checker).get(page("bank-exposure")).content.decode()
    assert world.s2.forwarder.name in theirs and world.s.forwarder.name not in theirs
    assert "89\u202f000\u202f000" in mine and "89\u202f000\u202f000" not in theirs


def test_a_bank_cannot_filter_on_another_banks_forwarder(world):
    client = world.client(world.s.checker)
    response = client.get(page("bank-exposure"), {"principal": world.s2.forwarder.pk})
    assert response.status_code == 400
    assert world.s2.forwarder.name not in response.content.decode()
    ok = client.get(page("bank-exposure"), {"principal": world.s.forwarder.pk})
    assert ok.status_code == 200


def test_customs_see_only_transits_touching_their_country(world):
    from reporting.selectors.customs import customs_most_overdue

    later = world.now.replace(year=world.now.year + 1)
    togo = {t.declaration_ref for t in customs_most_overdue(user=world.tg_officer, now=later)}
    niger = {t.declaration_ref for t in customs_most_overdue(user=world.ne_officer, now=later)}
    assert togo == {"TG-T2", "TG-T3", "TG-T5"}
    assert niger == {"TG-T3"}
    body = world.client(world.ne_officer).get(page("customs-open")).content.decode()
    assert "LOM-NIA" in body and "TG-T2" not in body


def test_bad_filters_answer_400_with_a_sentence_and_no_figures(world):
    client = world.client(world.tg_officer)
    for params in ({"start": "2026-13"}, {"start": "2026-05", "end": "2026-01"}, {"corridor": "NOPE"},
                   {"end": "2999-01"}, {"start": "2020-01", "end": "2026-01"}):
        response = client.get(page("customs-duties"), params)
        assert response.status_code == 400, params
        assert 'data-testid="as-of"' not in response.content.decode()
    assert client.get(reverse("reporting:export_csv", args=["customs-duties"]), {"start": "x"}).status_code == 400
    assert client.get(reverse("reporting:export_csv", args=["customs-duties"]), {"table": "nope"}).status_code == 404
