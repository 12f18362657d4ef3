"""The checker's pages confirm exactly what they showed, as the issue's attack: the maker prepares 1 000 000,
the checker opens the confirm page, the maker prepares again at 40 000 000, the checker submits the page she
got — refused with the new terms, nothing confirmed; the page she then sees shows 40 000 000 and confirming it
works. The request reads "Préparée — en attente du valideur". The maker's comment reaches nobody outside the
bank: not the principal's pages, trail, notifications or API answers."""

import json
import re
from html import unescape

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape
from rest_framework.test import APIClient

from guarantees.models import Amendment, AmendmentStatus, GuaranteeStatus, Notification
from guarantees.services.amendments import amendment_request
from guarantees.services.guarantees import guarantee_accept
from guarantees.terms import PreparedTerms
from tests.builders import active_guarantee, requested_guarantee, scene
from tests.guarantees.web.test_flow import client_for, hidden_fields, page_text, post_shown, shown_fields

S = GuaranteeStatus
A = AmendmentStatus
NOTE = "Client fragile : accord du directeur en attente"


@pytest.fixture
def s(db):
    return scene("BF")


# The French refusal, as the page shows it (HTML-escaped).
CHANGED_FR = escape("L’initiateur a modifié les conditions après l’ouverture de cette page")


def fcfa(amount: int) -> str:
    return f"{amount:,}".replace(",", "\u202f") + "\u00a0FCFA"


def status_shown(response) -> str:
    """The status badge at the head of the guarantee's page."""
    return re.search(r'data-testid="status"><span class="status status-\w+">([^<]*)</span>',
                     page_text(response)).group(1)


def hidden_terms(response) -> PreparedTerms:
    """The preparation a page's form carries, read from the HTML as a browser would send it."""
    value = re.search(r'<input type="hidden" name="terms" value="([^"]*)"', page_text(response)).group(1)
    return PreparedTerms.decode(unescape(value))


def _prepare(maker, g, amount: str, comment: str = ""):
    response = post_shown(maker, reverse("guarantees:prepare", args=[g.pk]), amount=amount,
                          valid_until=g.valid_until.isoformat(), comment=comment)
    assert response.status_code == 302, page_text(response)


def test_checker_submitting_the_page_she_got_after_a_new_preparation_is_refused(s):
    maker, checker = client_for(s.maker), client_for(s.checker)
    g = requested_guarantee(s, amount=1_000_000)
    _prepare(maker, g, "1 000 000")
    url = reverse("guarantees:confirm", args=[g.pk])

    page = checker.get(url)  # the checker opens the confirm page
    assert fcfa(1_000_000) in page_text(page)
    got = hidden_fields(page)
    _prepare(maker, g, "40 000 000")  # the maker prepares again

    response = checker.post(url, got)  # she submits the form she got

    assert response.status_code == 200
    text = page_text(response)
    assert CHANGED_FR in text and escape(str(s.maker)) in text and fcfa(40_000_000) in text
    g.refresh_from_db()
    assert (g.status, g.confirmed_by, g.requested_amount, g.preparation) == (S.PREPARED, None, 40_000_000, 2)

    # A fresh look shows 40 000 000, and confirming that works.
    assert fcfa(40_000_000) in page_text(checker.get(url))
    assert post_shown(checker, url).status_code == 302
    g.refresh_from_db()
    assert (g.status, g.confirmed_by, g.requested_amount) == (S.BANK_CONFIRMED, s.checker, 40_000_000)


def test_a_refused_page_shows_the_new_terms_and_binds_its_next_click_to_them(s):
    """After the refusal the page shows 40 000 000 and carries that preparation, not the one she no longer
    sees: a second click confirms what she now sees."""
    maker, checker = client_for(s.maker), client_for(s.checker)
    g = requested_guarantee(s, amount=1_000_000)
    _prepare(maker, g, "1 000 000")
    url = reverse("guarantees:confirm", args=[g.pk])
    got = shown_fields(checker, url)
    _prepare(maker, g, "40 000 000")
    refused = checker.post(url, got)
    assert fcfa(40_000_000) in page_text(refused)
    rebound = hidden_terms(refused)
    assert (rebound.preparation, rebound.amount) == (2, 40_000_000)
    assert checker.post(url, {"terms": rebound.encode()}).status_code == 302
    g.refresh_from_db()
    assert (g.status, g.requested_amount) == (S.BANK_CONFIRMED, 40_000_000)


@pytest.mark.parametrize("sent", [{}, {"terms": ""}, {"terms": "not json"}, {"terms": json.dumps({"amount": 1})},
                                  {"terms": '{"preparation":true}'}, {"terms": "x" * 5000}])
def test_a_confirmation_that_does_not_say_what_was_shown_is_refused_not_a_server_error(s, sent):
    maker, checker = client_for(s.maker), client_for(s.checker)
    g = requested_guarantee(s)
    _prepare(maker, g, "50 000 000")
    response = checker.post(reverse("guarantees:confirm", args=[g.pk]), sent)
    assert response.status_code == 200
    assert response.context["form"].errors["terms"]
    g.refresh_from_db()
    assert (g.status, g.confirmed_by) == (S.PREPARED, None)


def test_decline_and_send_back_pages_bind_to_what_they_showed(s):
    maker, checker = client_for(s.maker), client_for(s.checker)
    g = requested_guarantee(s, amount=1_000_000)
    _prepare(maker, g, "1 000 000", comment=NOTE)
    decline, send_back = (reverse(f"guarantees:{name}", args=[g.pk]) for name in ("decline", "send_back"))
    got_decline, got_send_back = shown_fields(checker, decline), shown_fields(checker, send_back)
    assert escape(NOTE) in page_text(checker.get(send_back))  # the bank's own page shows the maker's note
    _prepare(maker, g, "2 000 000")
    for url, got in ((decline, got_decline), (send_back, got_send_back)):
        response = checker.post(url, {**got, "reason": "Non"})
        assert response.status_code == 200
        assert CHANGED_FR in page_text(response) and fcfa(2_000_000) in page_text(response)
    g.refresh_from_db()
    assert (g.status, g.preparation) == (S.PREPARED, 2)

    assert post_shown(checker, send_back, reason="Revoir le montant").status_code == 302
    g.refresh_from_db()
    assert (g.status, g.prepared_by) == (S.SUBMITTED, None)
    queue = page_text(client_for(s.maker).get(reverse("guarantees:bank_queue")))
    assert reverse("guarantees:prepare", args=[g.pk]) in queue


def test_amendment_checker_submitting_the_page_she_got_after_a_new_preparation_is_refused(s):
    maker, checker = client_for(s.maker), client_for(s.checker)
    g = active_guarantee(s, amount=10_000_000)
    a = amendment_request(guarantee=g, by=s.agent, new_amount=11_000_000, new_valid_until=g.valid_until)
    prepare = reverse("guarantees:amendment_prepare", args=[a.pk])
    confirm = reverse("guarantees:amendment_confirm", args=[a.pk])
    assert post_shown(maker, prepare, new_amount="11 000 000",
                      new_valid_until=g.valid_until.isoformat()).status_code == 302

    page = checker.get(confirm)
    assert fcfa(11_000_000) in page_text(page)
    got = hidden_fields(page)
    assert post_shown(maker, prepare, new_amount="40 000 000",
                      new_valid_until=g.valid_until.isoformat()).status_code == 302

    response = checker.post(confirm, got)
    assert response.status_code == 200
    assert CHANGED_FR in page_text(response) and fcfa(40_000_000) in page_text(response)
    a.refresh_from_db()
    g.refresh_from_db()
    assert (a.status, a.checked_by, g.amount, g.version) == (A.PREPARED, None, 10_000_000, 1)

    assert fcfa(40_000_000) in page_text(checker.get(confirm))
    assert post_shown(checker, confirm).status_code == 302
    a.refresh_from_db()
    g.refresh_from_db()
    assert (a.status, g.amount, g.version) == (A.CONFIRMED, 40_000_000, 2)


def test_prepared_request_reads_its_real_state_in_french_and_english(s):
    g = requested_guarantee(s)
    _prepare(client_for(s.maker), g, "50 000 000")
    agent = client_for(s.agent)
    url = reverse("guarantees:detail", args=[g.pk])
    assert status_shown(agent.get(url)) == "Préparée — en attente du valideur"
    agent.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert status_shown(agent.get(url)) == "Prepared — awaiting the checker"
    # The maker who prepared may prepare again; the checker finds it to check.
    assert reverse("guarantees:prepare", args=[g.pk]) in page_text(client_for(s.maker).get(url))
    queue = page_text(client_for(s.checker).get(reverse("guarantees:bank_queue")))
    assert reverse("guarantees:confirm", args=[g.pk]) in queue


def test_principal_may_withdraw_a_prepared_request(s):
    g = requested_guarantee(s)
    _prepare(client_for(s.maker), g, "50 000 000")
    agent = client_for(s.agent)
    assert reverse("guarantees:withdraw", args=[g.pk]) in page_text(agent.get(reverse("guarantees:detail",
                                                                                     args=[g.pk])))
    assert agent.post(reverse("guarantees:withdraw", args=[g.pk]), {"reason": "Autre banque"}).status_code == 302
    g.refresh_from_db()
    assert g.status == S.WITHDRAWN


def test_the_makers_comment_stays_inside_the_bank(s, django_capture_on_commit_callbacks):
    """The principal's guarantee page, trail, action pages, notifications and API answers never carry the
    maker's comment; the bank's pages and the secretariat's view of the trail do."""
    from accounts.roles import Role
    from tests.factories import SecretariatFactory, member

    maker, checker, agent = client_for(s.maker), client_for(s.checker), client_for(s.agent)
    g = requested_guarantee(s, amount=1_000_000)
    with django_capture_on_commit_callbacks(execute=True):
        _prepare(maker, g, "2 000 000", comment=NOTE)
    detail = reverse("guarantees:detail", args=[g.pk])
    escaped = escape(NOTE)

    assert escaped in page_text(checker.get(detail))  # the trail, for the bank
    assert escaped in page_text(checker.get(reverse("guarantees:confirm", args=[g.pk])))
    secretariat = client_for(member(SecretariatFactory(), Role.SECRETARIAT_ADMIN))
    assert escaped in page_text(secretariat.get(detail))

    for page in (detail, reverse("guarantees:withdraw", args=[g.pk])):
        text = page_text(agent.get(page))
        assert escaped not in text and NOTE not in text, page
    assert escape("Préparée par l’initiateur") in page_text(agent.get(detail))  # the step, not its note

    with django_capture_on_commit_callbacks(execute=True):
        assert post_shown(checker, reverse("guarantees:confirm", args=[g.pk])).status_code == 302
    for notification in Notification.objects.filter(recipient=s.agent):
        assert NOTE not in notification.subject and NOTE not in notification.body
    assert Notification.objects.filter(recipient=s.agent, event="guarantee_confirmed").exists()

    g = guarantee_accept(guarantee=g, by=s.officer)
    api = APIClient()
    api.force_login(s.agent)
    for path in ("/api/v1/guarantees", f"/api/v1/guarantees/{g.grn}"):
        response = api.get(path)
        assert response.status_code == 200 and NOTE not in response.content.decode(), path
    officer = client_for(s.officer)
    assert escaped not in page_text(officer.get(detail))


def test_amendment_makers_comment_stays_inside_the_bank(s):
    g = active_guarantee(s, amount=10_000_000)
    a = amendment_request(guarantee=g, by=s.agent, new_amount=11_000_000, new_valid_until=g.valid_until)
    assert post_shown(client_for(s.maker), reverse("guarantees:amendment_prepare", args=[a.pk]),
                      new_amount="11 000 000", new_valid_until=g.valid_until.isoformat(),
                      comment=NOTE).status_code == 302
    detail = reverse("guarantees:detail", args=[g.pk])
    assert escape(NOTE) in page_text(client_for(s.checker).get(detail))
    assert escape(NOTE) in page_text(client_for(s.checker).get(reverse("guarantees:amendment_confirm",
                                                                       args=[a.pk])))
    text = page_text(client_for(s.agent).get(detail))
    assert escape(NOTE) not in text and NOTE not in text
    text = page_text(client_for(s.agent).get(reverse("guarantees:amendment_withdraw", args=[a.pk])))
    assert escape(NOTE) not in text
    assert Amendment.objects.get(pk=a.pk).status == A.PREPARED
