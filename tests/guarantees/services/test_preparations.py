"""The checker decides on exactly the preparation she was shown, for requests and amendments, written as the
attack of the issue: the maker prepares 1 000 000, the checker opens her page, the maker prepares again at
40 000 000, the checker submits what she was shown — refused, nothing changed; she reads the new terms and
confirms those. And what the maker writes to the checker stays inside the bank."""

import datetime

import pytest
from django.utils import translation

from accounts.errors import http_status
from guarantees.errors import InvalidTransition, ReasonRequired, SameMakerAndChecker, TermsChanged
from guarantees.models import (
    Amendment,
    AmendmentStatus,
    Guarantee,
    GuaranteeAction,
    GuaranteeEvent,
    GuaranteeStatus,
    Notification,
)
from guarantees.selectors.guarantees import bank_exposure, guarantee_trail, guarantees_visible_to
from guarantees.services.amendments import (
    amendment_confirm,
    amendment_decline,
    amendment_prepare,
    amendment_request,
    amendment_send_back,
)
from guarantees.services.guarantees import (
    guarantee_confirm,
    guarantee_decline,
    guarantee_prepare,
    guarantee_send_back,
    guarantee_withdraw,
)
from guarantees.terms import amendment_terms, guarantee_terms
from tests.builders import active_guarantee, requested_guarantee, scene

pytestmark = pytest.mark.django_db

S = GuaranteeStatus
A = AmendmentStatus
NARROW = "\u202f"


def _snapshot(g: Guarantee) -> tuple:
    g = Guarantee.objects.get(pk=g.pk)
    return (g.status, g.requested_amount, g.valid_until, g.prepared_by_id, g.prepared_at, g.preparation,
            g.confirmed_by_id, g.amount, g.version, g.events.count(), g.entries.count())


# --- Requests ------------------------------------------------------------------------------------------

def test_checker_cannot_confirm_terms_prepared_after_she_opened_her_page():
    s = scene()
    g = requested_guarantee(s, amount=1_000_000)
    g = guarantee_prepare(guarantee=g, by=s.maker)
    shown = guarantee_terms(g)  # the checker opens the confirm page: 1 000 000
    g = guarantee_prepare(guarantee=g, by=s.maker, amount=40_000_000)  # the maker prepares again
    before = _snapshot(g)

    with translation.override("fr"), pytest.raises(TermsChanged) as refused:
        guarantee_confirm(guarantee=g, by=s.checker, expected=shown)

    assert refused.value.code == "terms_changed" and http_status(refused.value) == 409
    with translation.override("fr"):
        text = str(refused.value.message)
    assert f"40{NARROW}000{NARROW}000" in text and str(s.maker) in text
    with translation.override("en"):
        assert str(refused.value.message).startswith("The maker changed the terms after you opened this page")
    assert refused.value.extra["terms"]["amount"] == 40_000_000
    assert refused.value.extra["terms"]["preparation"] == 2
    assert _snapshot(g) == before  # nothing confirmed, nothing written
    assert not g.events.filter(action=GuaranteeAction.CONFIRMED).exists()

    # She reads the page again: 40 000 000, and confirms what she now sees.
    fresh = guarantee_terms(Guarantee.objects.get(pk=g.pk))
    assert fresh.amount == 40_000_000
    g = guarantee_confirm(guarantee=g, by=s.checker, expected=fresh)
    assert (g.status, g.requested_amount, g.confirmed_by) == (S.BANK_CONFIRMED, 40_000_000, s.checker)


@pytest.mark.parametrize("change", [
    {"valid_until": "shorter"},
    {},  # the same figures prepared again: another preparation (another time, maybe another note)
])
def test_any_new_preparation_voids_the_pages_opened_on_the_previous_one(change):
    s = scene()
    g = guarantee_prepare(guarantee=requested_guarantee(s), by=s.maker)
    shown = guarantee_terms(g)
    if change:
        change = {"valid_until": g.valid_until - datetime.timedelta(days=30)}
    guarantee_prepare(guarantee=g, by=s.maker, comment="Revu", **change)
    with pytest.raises(TermsChanged):
        guarantee_confirm(guarantee=g, by=s.checker, expected=shown)
    assert Guarantee.objects.get(pk=g.pk).status == S.PREPARED


def test_a_page_naming_another_maker_or_time_is_refused_even_with_the_same_number():
    s = scene()
    g = guarantee_prepare(guarantee=requested_guarantee(s), by=s.maker)
    shown = guarantee_terms(g)
    for forged in (
        shown.__class__(**{**shown.__dict__, "prepared_by": s.checker.pk}),
        shown.__class__(**{**shown.__dict__, "prepared_at": shown.prepared_at - datetime.timedelta(seconds=1)}),
        shown.__class__(**{**shown.__dict__, "amount": shown.amount + 1}),
    ):
        with pytest.raises(TermsChanged):
            guarantee_confirm(guarantee=g, by=s.checker, expected=forged)
    assert Guarantee.objects.get(pk=g.pk).status == S.PREPARED


def test_preparing_gives_the_request_its_own_status_in_both_languages():
    s = scene()
    g = guarantee_prepare(guarantee=requested_guarantee(s), by=s.maker)
    assert (g.status, g.preparation) == (S.PREPARED, 1)
    with translation.override("fr"):
        assert str(g.get_status_display()) == "Préparée — en attente du valideur"
    with translation.override("en"):
        assert str(g.get_status_display()) == "Prepared — awaiting the checker"
    event = g.events.get(action=GuaranteeAction.PREPARED)
    assert (event.from_status, event.to_status) == (S.SUBMITTED, S.PREPARED)


def test_maker_may_prepare_again_and_each_preparation_is_numbered():
    s = scene()
    g = guarantee_prepare(guarantee=requested_guarantee(s, amount=1_000_000), by=s.maker)
    g = guarantee_prepare(guarantee=g, by=s.maker, amount=2_000_000, expected=guarantee_terms(g))
    assert (g.status, g.preparation, g.requested_amount) == (S.PREPARED, 2, 2_000_000)
    events = g.events.filter(action=GuaranteeAction.PREPARED).order_by("pk")
    assert [(e.from_status, e.to_status) for e in events] == [(S.SUBMITTED, S.PREPARED), (S.PREPARED, S.PREPARED)]


def test_two_makers_revising_the_same_preparation_the_second_is_refused():
    from accounts.roles import Role
    from tests.factories import member

    s = scene()
    other_maker = member(s.bank.organisation, Role.BANK_MAKER)
    g = guarantee_prepare(guarantee=requested_guarantee(s, amount=1_000_000), by=s.maker)
    both_saw = guarantee_terms(g)
    guarantee_prepare(guarantee=g, by=s.maker, amount=2_000_000, expected=both_saw)
    with pytest.raises(TermsChanged):
        guarantee_prepare(guarantee=g, by=other_maker, amount=3_000_000, expected=both_saw)
    assert Guarantee.objects.get(pk=g.pk).requested_amount == 2_000_000


def test_decline_binds_to_the_request_as_the_checker_saw_it():
    s = scene()
    g = requested_guarantee(s, amount=1_000_000)
    shown = guarantee_terms(g)  # decline page opened before anything was prepared
    guarantee_prepare(guarantee=g, by=s.maker, amount=900_000)
    before = _snapshot(g)
    with pytest.raises(TermsChanged):
        guarantee_decline(guarantee=g, by=s.checker, reason="Dossier incomplet", expected=shown)
    assert _snapshot(g) == before
    g = guarantee_decline(guarantee=g, by=s.checker, reason="Dossier incomplet",
                          expected=guarantee_terms(Guarantee.objects.get(pk=g.pk)))
    assert g.status == S.DECLINED


def test_checker_sends_back_what_she_saw_and_no_page_on_it_can_confirm_any_more(django_capture_on_commit_callbacks):
    s = scene()
    g = guarantee_prepare(guarantee=requested_guarantee(s, amount=1_000_000), by=s.maker, comment="Vu le client")
    shown = guarantee_terms(g)
    with pytest.raises(ReasonRequired):
        guarantee_send_back(guarantee=g, by=s.checker, reason=" ", expected=shown)
    with django_capture_on_commit_callbacks(execute=True):
        g = guarantee_send_back(guarantee=g, by=s.checker, reason="Garanties à revoir", expected=shown)
    assert (g.status, g.prepared_by, g.prepared_at, g.maker_comment) == (S.SUBMITTED, None, None, "")
    event = g.events.get(action=GuaranteeAction.SENT_BACK)
    assert (event.comment, event.internal) == ("Garanties à revoir", True)
    # The makers are told, with the reason; the principal is not.
    told = Notification.objects.filter(event="guarantee_sent_back")
    assert [n.recipient for n in told] == [s.maker] and "Garanties à revoir" in told[0].body
    assert not Notification.objects.filter(recipient=s.agent, event="guarantee_sent_back").exists()
    # Sending back again changes nothing; a confirmation from a page on the old preparation is refused.
    assert guarantee_send_back(guarantee=g, by=s.checker, reason="encore", expected=shown).status == S.SUBMITTED
    with pytest.raises(InvalidTransition):
        guarantee_confirm(guarantee=g, by=s.checker, expected=shown)
    g = guarantee_prepare(guarantee=g, by=s.maker, amount=1_000_000)
    assert g.preparation == 2
    with pytest.raises(TermsChanged):
        guarantee_confirm(guarantee=g, by=s.checker, expected=shown)
    assert guarantee_confirm(guarantee=g, by=s.checker, expected=guarantee_terms(g)).status == S.BANK_CONFIRMED


def test_the_maker_cannot_send_back_their_own_preparation():
    from accounts.models import Membership
    from accounts.roles import Role

    s = scene()
    Membership.objects.create(user=s.maker, organisation=s.bank.organisation, role=Role.BANK_CHECKER)
    g = guarantee_prepare(guarantee=requested_guarantee(s), by=s.maker)
    with pytest.raises(SameMakerAndChecker):
        guarantee_send_back(guarantee=g, by=s.maker, reason="moi", expected=guarantee_terms(g))


def test_confirming_twice_is_a_no_op_but_not_from_a_page_on_another_preparation():
    s = scene()
    g = guarantee_prepare(guarantee=requested_guarantee(s, amount=1_000_000), by=s.maker)
    old = guarantee_terms(g)
    g = guarantee_prepare(guarantee=g, by=s.maker, amount=2_000_000)
    new = guarantee_terms(g)
    guarantee_confirm(guarantee=g, by=s.checker, expected=new)
    events = g.events.count()
    assert guarantee_confirm(guarantee=g, by=s.checker, expected=new).status == S.BANK_CONFIRMED
    with pytest.raises(InvalidTransition):
        guarantee_confirm(guarantee=g, by=s.checker, expected=old)
    assert g.events.count() == events


def test_principal_may_withdraw_a_prepared_request_and_the_checker_then_confirms_nothing():
    s = scene()
    g = guarantee_prepare(guarantee=requested_guarantee(s), by=s.maker)
    shown = guarantee_terms(g)
    assert guarantee_withdraw(guarantee=g, by=s.agent, reason="Plus besoin").status == S.WITHDRAWN
    with pytest.raises(InvalidTransition):
        guarantee_confirm(guarantee=g, by=s.checker, expected=shown)
    assert Guarantee.objects.get(pk=g.pk).status == S.WITHDRAWN


def test_a_prepared_request_is_not_the_banks_exposure_nor_customs_business():
    s = scene(ceiling=100_000_000)
    g = guarantee_prepare(guarantee=requested_guarantee(s, amount=60_000_000), by=s.maker)
    assert bank_exposure(bank=s.bank) == 0
    assert not guarantees_visible_to(user=s.officer).filter(pk=g.pk).exists()
    assert guarantees_visible_to(user=s.checker).filter(pk=g.pk).exists()


def test_the_database_refuses_a_prepared_request_without_its_maker():
    from django.db import IntegrityError, transaction

    s = scene()
    g = requested_guarantee(s)
    with pytest.raises(IntegrityError), transaction.atomic():
        Guarantee.objects.filter(pk=g.pk).update(status=S.PREPARED)
    g = guarantee_prepare(guarantee=g, by=s.maker)
    with pytest.raises(IntegrityError), transaction.atomic():
        Guarantee.objects.filter(pk=g.pk).update(status=S.SUBMITTED)


# --- What the maker writes stays inside the bank ----------------------------------------------------------

def test_the_makers_note_is_internal_and_the_trail_hides_it_from_the_principal_and_customs(
        django_capture_on_commit_callbacks):
    from accounts.roles import Role
    from tests.factories import SecretariatFactory, member

    s = scene()
    note = "Client fragile, plafond interne dépassé"
    g = requested_guarantee(s, amount=1_000_000)
    with django_capture_on_commit_callbacks(execute=True):
        g = guarantee_prepare(guarantee=g, by=s.maker, amount=2_000_000, comment=note)
        g = guarantee_confirm(guarantee=g, by=s.checker, expected=guarantee_terms(g))
    event = GuaranteeEvent.objects.get(guarantee=g, action=GuaranteeAction.PREPARED)
    assert event.internal and note in event.comment and "1000000 → 2000000" in event.comment

    secretariat = member(SecretariatFactory(), Role.SECRETARIAT_ADMIN)
    for insider in (s.maker, s.checker, secretariat):
        comments = [e.shown_comment for e in guarantee_trail(guarantee=g, user=insider)]
        assert any(note in c for c in comments), insider
    for outsider in (s.agent, s.officer):
        trail = list(guarantee_trail(guarantee=g, user=outsider))
        assert GuaranteeAction.PREPARED in [e.action for e in trail]  # the step is there, its note is not
        assert not any(note in e.shown_comment for e in trail), outsider
    # Nothing the principal is told carries it either.
    told = Notification.objects.filter(recipient=s.agent)
    assert told.exists()
    assert not any(note in n.subject or note in n.body for n in told)


# --- Amendments ----------------------------------------------------------------------------------------

def _amendment(s, g, amount):
    return amendment_request(guarantee=g, by=s.agent, new_amount=amount, new_valid_until=g.valid_until,
                             reason="Hausse d'activité")


def test_checker_cannot_confirm_an_amendment_prepared_after_she_opened_her_page():
    s = scene()
    g = active_guarantee(s, amount=10_000_000)
    a = amendment_prepare(amendment=_amendment(s, g, 11_000_000), by=s.maker)
    shown = amendment_terms(a)
    a = amendment_prepare(amendment=a, by=s.maker, new_amount=40_000_000)  # the maker prepares again
    assert (a.status, a.preparation) == (A.PREPARED, 2)
    before = _snapshot(g)

    with pytest.raises(TermsChanged) as refused:
        amendment_confirm(amendment=a, by=s.checker, expected=shown)

    with translation.override("fr"):
        assert f"40{NARROW}000{NARROW}000" in str(refused.value.message)
    assert _snapshot(g) == before
    assert Amendment.objects.get(pk=a.pk).status == A.PREPARED
    g.refresh_from_db()
    assert (g.amount, g.version, g.entries.count()) == (10_000_000, 1, 1)

    fresh = amendment_terms(Amendment.objects.get(pk=a.pk))
    a = amendment_confirm(amendment=a, by=s.checker, expected=fresh)
    g.refresh_from_db()
    assert (a.status, g.amount, g.version) == (A.CONFIRMED, 40_000_000, 2)


def test_amendment_decline_and_send_back_bind_to_what_the_checker_saw():
    s = scene()
    g = active_guarantee(s, amount=10_000_000)
    a = _amendment(s, g, 12_000_000)
    shown_unprepared = amendment_terms(a)
    a = amendment_prepare(amendment=a, by=s.maker, comment="Justificatifs reçus")
    with pytest.raises(TermsChanged):
        amendment_decline(amendment=a, by=s.checker, reason="Non", expected=shown_unprepared)
    shown = amendment_terms(a)
    a = amendment_prepare(amendment=a, by=s.maker, new_amount=13_000_000)
    with pytest.raises(TermsChanged):
        amendment_send_back(amendment=a, by=s.checker, reason="À revoir", expected=shown)
    assert Amendment.objects.get(pk=a.pk).status == A.PREPARED

    a = amendment_send_back(amendment=a, by=s.checker, reason="À revoir", expected=amendment_terms(a))
    assert (a.status, a.prepared_by, a.maker_comment) == (A.SUBMITTED, None, "")
    event = g.events.get(action=GuaranteeAction.AMENDMENT_SENT_BACK)
    assert event.internal and event.comment == "À revoir"
    a = amendment_decline(amendment=a, by=s.checker, reason="Non justifié", expected=amendment_terms(a))
    assert a.status == A.DECLINED


def test_amendment_makers_note_is_internal():
    s = scene()
    g = active_guarantee(s, amount=10_000_000)
    amendment_prepare(amendment=_amendment(s, g, 12_000_000), by=s.maker, new_amount=11_000_000,
                      comment="Limite interne")
    event = g.events.get(action=GuaranteeAction.AMENDMENT_PREPARED)
    assert event.internal and "Limite interne" in event.comment
    assert not any("Limite interne" in e.shown_comment for e in guarantee_trail(guarantee=g, user=s.agent))
