"""The life of a guarantee through its pages: request → submit → prepare → confirm → accept → the principal
generates its access code (shown once) → amendment through maker and checker → new version. And the refusals
a user must see in French, with their figures, instead of a server error."""

import datetime
import re
from html import unescape

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from guarantees.errors import BelowCommitted, CeilingExceeded, InvalidTransition, SameMakerAndChecker
from guarantees.models import AccessCode, Amendment, AmendmentStatus, Guarantee, GuaranteeStatus
from guarantees.services.access_codes import access_code_matches
from guarantees.services.holds import hold_reserve
from guarantees.formats import format_fcfa
from tests.accounts.helpers import sign_in_as
from tests.builders import active_guarantee, requested_guarantee, scene

S = GuaranteeStatus


def give_totp(user):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
    return user


def client_for(user) -> Client:
    """A browser signed in as ``user``, past the two-factor enrolment that bank and customs staff need."""
    if user.mfa_required:
        give_totp(user)
    client = Client()
    sign_in_as(client, user)
    return client


def french(message) -> str:
    """A message as the page shows it: in French (the default language), HTML-escaped."""
    with translation.override("fr"):
        return escape(str(message))


def page_text(response) -> str:
    return response.content.decode()


_HIDDEN = re.compile(r'<input type="hidden" name="([\w-]+)" value="([^"]*)"')


def hidden_fields(response) -> dict:
    """The hidden fields of a page's form (the preparation a bank page shows travels in one), as a browser
    would send them back."""
    return {name: unescape(value) for name, value in _HIDDEN.findall(page_text(response))
            if name != "csrfmiddlewaretoken"}


def shown_fields(client, url) -> dict:
    """Open the page and give back the hidden fields of its form."""
    return hidden_fields(client.get(url))


def post_shown(client, url, **fields):
    """Open the page, then submit its form with ``fields`` typed in."""
    return client.post(url, {**shown_fields(client, url), **fields})


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def s(db):
    return scene("BF")


def test_whole_life_of_a_guarantee_through_the_pages(s):
    agent, maker, checker, officer = (client_for(u) for u in (s.agent, s.maker, s.checker, s.officer))
    today = timezone.localdate()

    # The forwarder requests and submits, typing the amount with spaces as people do.
    response = agent.post(reverse("guarantees:request"), {
        "bank": s.bank.pk, "requested_amount": "12\u00a0500 000", "valid_from": today.isoformat(),
        "valid_until": (today + datetime.timedelta(days=365)).strftime("%d/%m/%Y"),
        "purpose": "Lomé – Ouagadougou", "submit": "1",
    })
    g = Guarantee.objects.get(principal=s.forwarder)
    assert response.status_code == 302 and response["Location"] == reverse("guarantees:detail", args=[g.pk])
    assert g.status == S.SUBMITTED and g.requested_amount == 12_500_000

    # The maker finds it in "to prepare" and prepares it.
    queue = maker.get(reverse("guarantees:bank_queue"))
    assert reverse("guarantees:prepare", args=[g.pk]) in page_text(queue)
    response = post_shown(maker, reverse("guarantees:prepare", args=[g.pk]),
                          amount="12 500 000", valid_until=g.valid_until.isoformat(), comment="Dossier complet")
    assert response.status_code == 302
    g.refresh_from_db()
    assert g.prepared_by == s.maker and g.status == S.PREPARED

    # Not in the maker's own list to check; in the checker's, who confirms.
    assert reverse("guarantees:confirm", args=[g.pk]) not in page_text(maker.get(reverse("guarantees:bank_queue")))
    assert reverse("guarantees:confirm", args=[g.pk]) in page_text(checker.get(reverse("guarantees:bank_queue")))
    assert post_shown(checker, reverse("guarantees:confirm", args=[g.pk])).status_code == 302
    g.refresh_from_db()
    assert g.status == S.BANK_CONFIRMED and g.confirmed_by == s.checker

    # Customs of the principal's country accept: active, with a GRN, and no access code yet.
    assert reverse("guarantees:accept", args=[g.pk]) in page_text(officer.get(reverse("guarantees:customs_queue")))
    assert officer.post(reverse("guarantees:accept", args=[g.pk])).status_code == 302
    g.refresh_from_db()
    assert g.status == S.ACTIVE and g.grn and g.amount == 12_500_000
    assert not AccessCode.objects.filter(guarantee=g).exists()

    # The forwarder is offered to generate its code, sees it once, and never again.
    detail = agent.get(reverse("guarantees:detail", args=[g.pk]))
    assert "12\u202f500\u202f000\u00a0FCFA" in page_text(detail)
    assert 'action="%s"' % reverse("guarantees:access_codes", args=[g.pk]) in page_text(detail)
    response = agent.post(reverse("guarantees:access_codes", args=[g.pk]), {"label": "Premier code"})
    assert response.status_code == 302
    shown = agent.get(response["Location"])
    code = shown.context["new_code"]["code"]
    assert len(code) == 4 and code in page_text(shown)
    assert shown["Cache-Control"] == "no-store"
    assert access_code_matches(guarantee=g, code=code.lower())
    again = agent.get(reverse("guarantees:access_codes", args=[g.pk]))
    assert again.context["new_code"] is None and code not in page_text(again).replace(g.grn, "")
    detail = agent.get(reverse("guarantees:detail", args=[g.pk]))
    assert not detail.context["offer_first_code"]
    assert "Premier code" in page_text(detail)

    # An increase goes through the maker and the checker and makes version 2.
    response = agent.post(reverse("guarantees:amend", args=[g.pk]), {
        "new_amount": "20 000 000", "new_valid_until": g.valid_until.isoformat(), "reason": "Plus de transits",
    })
    assert response.status_code == 302
    amendment = Amendment.objects.get(guarantee=g)
    assert reverse("guarantees:amendment_prepare", args=[amendment.pk]) in page_text(
        maker.get(reverse("guarantees:bank_queue"))
    )
    assert post_shown(maker, reverse("guarantees:amendment_prepare", args=[amendment.pk]),
                      new_amount="20 000 000", new_valid_until=g.valid_until.isoformat()).status_code == 302
    assert post_shown(checker, reverse("guarantees:amendment_confirm", args=[amendment.pk])).status_code == 302
    amendment.refresh_from_db()
    g.refresh_from_db()
    assert amendment.status == AmendmentStatus.CONFIRMED
    assert g.amount == 20_000_000 and g.version == 2
    detail = agent.get(reverse("guarantees:detail", args=[g.pk]))
    assert [v.number for v in detail.context["versions"]] == [1, 2]
    assert [e.kind for e in detail.context["entries"]] == ["opening", "increase"]
    assert "20\u202f000\u202f000\u00a0FCFA" in page_text(detail)


def test_maker_who_prepared_sees_the_four_eyes_refusal(s):
    g = requested_guarantee(s)
    maker = client_for(s.maker)
    post_shown(maker, reverse("guarantees:prepare", args=[g.pk]), amount="50 000 000",
               valid_until=g.valid_until.isoformat())
    # Giving the maker the checker role too does not let them check their own work.
    from accounts.models import Membership
    from accounts.roles import Role

    Membership.objects.create(user=s.maker, organisation=s.bank.organisation, role=Role.BANK_CHECKER)
    response = post_shown(maker, reverse("guarantees:confirm", args=[g.pk]))
    assert response.status_code == 200
    assert french(SameMakerAndChecker.default_message) in page_text(response)
    g.refresh_from_db()
    assert g.status == S.PREPARED
    assert reverse("guarantees:confirm", args=[g.pk]) not in page_text(maker.get(reverse("guarantees:bank_queue")))


def test_decrease_below_what_is_held_is_refused_with_the_french_message_and_figures(s):
    g = active_guarantee(s, amount=50_000_000)
    hold_reserve(guarantee=g, amount=30_000_000, reference="TG-LOME-2026-T-000001")
    agent = client_for(s.agent)
    response = agent.post(reverse("guarantees:amend", args=[g.pk]), {
        "new_amount": "20 000 000", "new_valid_until": g.valid_until.isoformat(), "reason": "",
    })
    assert response.status_code == 200
    text = page_text(response)
    assert french(BelowCommitted.default_message) in text
    assert escape(format_fcfa(30_000_000)) in text
    assert not Amendment.objects.filter(guarantee=g).exists()


def test_ceiling_exceeded_shows_the_figures(s):
    s.bank.exposure_ceiling = 100_000_000
    s.bank.save()
    active_guarantee(s, amount=60_000_000)
    g = requested_guarantee(s, amount=50_000_000)
    post_shown(client_for(s.maker), reverse("guarantees:prepare", args=[g.pk]),
               amount="50 000 000", valid_until=g.valid_until.isoformat())
    response = post_shown(client_for(s.checker), reverse("guarantees:confirm", args=[g.pk]))
    assert response.status_code == 200
    text = page_text(response)
    assert french(CeilingExceeded.default_message) in text
    for figure in (100_000_000, 60_000_000, 40_000_000):  # ceiling, exposure, room
        assert escape(format_fcfa(figure)) in text
    g.refresh_from_db()
    assert g.status == S.PREPARED


def test_action_in_the_wrong_status_is_a_message_not_a_server_error(s):
    g = active_guarantee(s)
    response = client_for(s.agent).post(reverse("guarantees:withdraw", args=[g.pk]), {"reason": ""})
    assert response.status_code == 200
    assert french(InvalidTransition.default_message) in page_text(response)


def test_action_urls_refuse_other_methods(s):
    g = requested_guarantee(s)
    response = client_for(s.agent).put(reverse("guarantees:withdraw", args=[g.pk]))
    assert response.status_code == 405


@pytest.mark.parametrize("typed", ["12 500 000", "12\u00a0500\u00a0000", "12\u202f500\u202f000", "12.500.000",
                                   "12500000", "12 500 000 FCFA"])
def test_amounts_are_accepted_as_people_type_them(s, typed):
    today = timezone.localdate()
    response = client_for(s.agent).post(reverse("guarantees:request"), {
        "bank": s.bank.pk, "requested_amount": typed, "valid_from": today.isoformat(),
        "valid_until": (today + datetime.timedelta(days=30)).isoformat(),
    })
    assert response.status_code == 302
    g = Guarantee.objects.get(principal=s.forwarder)
    assert g.requested_amount == 12_500_000 and g.status == S.DRAFT


@pytest.mark.parametrize("typed", ["0", "-5", "12,5", "12.5", "douze", "1 000.50"])
def test_amounts_that_are_not_whole_positive_francs_are_form_errors(s, typed):
    today = timezone.localdate()
    response = client_for(s.agent).post(reverse("guarantees:request"), {
        "bank": s.bank.pk, "requested_amount": typed, "valid_from": today.isoformat(),
        "valid_until": today.isoformat(),
    })
    assert response.status_code == 200
    assert response.context["form"].errors["requested_amount"]
    assert not Guarantee.objects.exists()


def test_draft_is_edited_then_submitted_then_withdrawn(s):
    g = requested_guarantee(s, submit=False)
    agent = client_for(s.agent)
    response = agent.post(reverse("guarantees:edit", args=[g.pk]), {
        "bank": s.bank.pk, "requested_amount": "75 000 000", "valid_from": g.valid_from.isoformat(),
        "valid_until": g.valid_until.isoformat(), "purpose": "Niamey",
    })
    assert response.status_code == 302
    assert agent.post(reverse("guarantees:submit", args=[g.pk])).status_code == 302
    g.refresh_from_db()
    assert (g.requested_amount, g.purpose, g.status) == (75_000_000, "Niamey", S.SUBMITTED)
    assert agent.post(reverse("guarantees:withdraw", args=[g.pk]), {"reason": "Erreur"}).status_code == 302
    g.refresh_from_db()
    assert g.status == S.WITHDRAWN


def test_checker_declines_with_a_reason(s):
    g = requested_guarantee(s)
    checker = client_for(s.checker)
    response = post_shown(checker, reverse("guarantees:decline", args=[g.pk]), reason="")
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    assert post_shown(checker, reverse("guarantees:decline", args=[g.pk]), reason="Garanties insuffisantes"
                      ).status_code == 302
    g.refresh_from_db()
    assert g.status == S.DECLINED and g.decline_reason == "Garanties insuffisantes"


def test_supervisor_suspends_reactivates_and_cancels(s):
    g = active_guarantee(s)
    supervisor = client_for(s.supervisor)
    for name, status in (("suspend", S.SUSPENDED), ("reactivate", S.ACTIVE), ("cancel", S.CLOSED)):
        assert supervisor.post(reverse(f"guarantees:{name}", args=[g.pk]), {"reason": "Contrôle"}).status_code == 302
        g.refresh_from_db()
        assert g.status == status, name


def test_amendment_withdrawn_and_declined(s):
    g = active_guarantee(s)
    agent, checker = client_for(s.agent), client_for(s.checker)
    agent.post(reverse("guarantees:amend", args=[g.pk]), {"new_amount": "60 000 000",
                                                          "new_valid_until": g.valid_until.isoformat()})
    first = Amendment.objects.get(guarantee=g)
    assert agent.post(reverse("guarantees:amendment_withdraw", args=[first.pk])).status_code == 302
    agent.post(reverse("guarantees:amend", args=[g.pk]), {"new_amount": "60 000 000",
                                                          "new_valid_until": g.valid_until.isoformat()})
    second = Amendment.objects.exclude(pk=first.pk).get(guarantee=g)
    assert post_shown(checker, reverse("guarantees:amendment_decline", args=[second.pk]), reason="Non"
                      ).status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (AmendmentStatus.WITHDRAWN, AmendmentStatus.DECLINED)


def test_access_code_revoked_stops_matching_and_detail_never_shows_codes(s):
    g = active_guarantee(s)
    agent = client_for(s.agent)
    response = agent.post(reverse("guarantees:access_codes", args=[g.pk]), {"label": "Chauffeur"})
    code = agent.get(response["Location"]).context["new_code"]["code"]
    access_code = AccessCode.objects.get(guarantee=g)
    assert code not in page_text(agent.get(reverse("guarantees:detail", args=[g.pk]))).replace(g.grn, "")
    assert agent.post(reverse("guarantees:access_code_revoke", args=[g.pk, access_code.pk])).status_code == 302
    assert not access_code_matches(guarantee=g, code=code)


def test_access_code_cannot_be_issued_before_acceptance(s):
    g = requested_guarantee(s)
    response = client_for(s.agent).post(reverse("guarantees:access_codes", args=[g.pk]), {"label": "x"})
    assert response.status_code == 200
    assert not AccessCode.objects.exists()
