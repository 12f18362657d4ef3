import datetime

import pytest
from django.core import mail
from django.utils import timezone

from guarantees.errors import CeilingExceeded, InvalidTransition, NotAllowed, ReasonRequired, SameMakerAndChecker
from guarantees.grn import grn_is_valid
from guarantees.models import EntryKind, Guarantee, GuaranteeAction, GuaranteeStatus
from guarantees.services.guarantees import (
    guarantee_accept,
    guarantee_cancel,
    guarantee_confirm,
    guarantee_decline,
    guarantee_prepare,
    guarantee_reactivate,
    guarantee_submit,
    guarantee_suspend,
    guarantee_withdraw,
)
from guarantees.services.holds import hold_release, hold_reserve
from guarantees.terms import guarantee_terms
from tests.builders import active_guarantee, confirmed_guarantee, requested_guarantee, scene

pytestmark = pytest.mark.django_db

S = GuaranteeStatus


def test_full_path_to_active_gives_a_valid_grn_a_version_and_an_opening_entry():
    s = scene("BF")
    g = requested_guarantee(s, amount=50_000_000)
    assert g.status == S.SUBMITTED
    g = guarantee_prepare(guarantee=g, by=s.maker, comment="RAS")
    assert g.status == S.PREPARED
    g = guarantee_confirm(guarantee=g, by=s.checker, expected=guarantee_terms(g))
    assert g.status == S.BANK_CONFIRMED
    g = guarantee_accept(guarantee=g, by=s.officer)
    assert g.status == S.ACTIVE
    assert grn_is_valid(g.grn) and g.grn[2:4] == "BF"
    assert (g.amount, g.available, g.version) == (50_000_000, 50_000_000, 1)
    assert g.versions.get().amount == 50_000_000
    assert list(g.entries.values_list("kind", "d_amount")) == [(EntryKind.OPENING, 50_000_000)]
    actions = list(g.events.values_list("action", flat=True))
    assert actions[:5] == [
        GuaranteeAction.CREATED, GuaranteeAction.SUBMITTED, GuaranteeAction.PREPARED,
        GuaranteeAction.CONFIRMED, GuaranteeAction.ACCEPTED,
    ]


def test_the_maker_can_never_confirm_what_they_prepared():
    s = scene()
    g = requested_guarantee(s)
    both = s.maker
    from accounts.models import Membership
    from accounts.roles import Role

    Membership.objects.create(user=both, organisation=s.bank.organisation, role=Role.BANK_CHECKER)
    g = guarantee_prepare(guarantee=g, by=both)
    with pytest.raises(SameMakerAndChecker):
        guarantee_confirm(guarantee=g, by=both, expected=guarantee_terms(g))
    with pytest.raises(SameMakerAndChecker):
        guarantee_decline(guarantee=g, by=both, reason="non", expected=guarantee_terms(g))
    g.refresh_from_db()
    assert g.status == S.PREPARED


def test_confirmation_needs_a_prepared_request():
    s = scene()
    g = requested_guarantee(s)
    with pytest.raises(InvalidTransition):
        guarantee_confirm(guarantee=g, by=s.checker, expected=guarantee_terms(g))


def test_maker_may_adjust_amount_and_validity_with_a_comment():
    s = scene()
    g = requested_guarantee(s, amount=50_000_000)
    new_until = g.valid_until.replace(day=1)
    g = guarantee_prepare(guarantee=g, by=s.maker, amount=40_000_000, valid_until=new_until, comment="Plafond client")
    assert (g.requested_amount, g.valid_until, g.maker_comment) == (40_000_000, new_until, "Plafond client")
    assert "50000000 → 40000000" in g.events.get(action=GuaranteeAction.PREPARED).comment


def test_confirmation_over_the_bank_ceiling_is_refused_with_the_figures():
    s = scene(ceiling=100_000_000)
    active_guarantee(s, amount=70_000_000)
    g = requested_guarantee(s, amount=40_000_000)
    g = guarantee_prepare(guarantee=g, by=s.maker)
    with pytest.raises(CeilingExceeded) as exc:
        guarantee_confirm(guarantee=g, by=s.checker, expected=guarantee_terms(g))
    assert exc.value.extra == {"ceiling": 100_000_000, "exposure": 70_000_000, "amount": 40_000_000,
                               "room": 30_000_000}
    g.refresh_from_db()
    assert g.status == S.PREPARED


def test_another_banks_checker_cannot_confirm():
    s, other = scene(), scene()
    g = requested_guarantee(s)
    g = guarantee_prepare(guarantee=g, by=s.maker)
    with pytest.raises(NotAllowed):
        guarantee_confirm(guarantee=g, by=other.checker, expected=guarantee_terms(g))


def test_only_customs_of_the_principals_country_accept():
    s, togo = scene("BF"), scene("TG")
    g = confirmed_guarantee(s)
    with pytest.raises(NotAllowed):
        guarantee_accept(guarantee=g, by=togo.officer)
    with pytest.raises(NotAllowed):
        guarantee_accept(guarantee=g, by=s.agent)


def test_accept_twice_is_a_no_op():
    s = scene()
    g = confirmed_guarantee(s)
    g = guarantee_accept(guarantee=g, by=s.officer)
    again = guarantee_accept(guarantee=g, by=s.officer)
    assert again.grn == g.grn
    assert again.entries.count() == 1


def test_forwarder_withdraws_before_confirmation_but_not_after():
    s = scene()
    g = requested_guarantee(s)
    assert guarantee_withdraw(guarantee=g, by=s.agent).status == S.WITHDRAWN
    g2 = confirmed_guarantee(s)
    with pytest.raises(InvalidTransition):
        guarantee_withdraw(guarantee=g2, by=s.agent)


def test_decline_needs_a_reason_and_tells_the_forwarder(django_capture_on_commit_callbacks):
    s = scene()
    g = requested_guarantee(s)
    with pytest.raises(ReasonRequired):
        guarantee_decline(guarantee=g, by=s.checker, reason=" ", expected=guarantee_terms(g))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        g = guarantee_decline(guarantee=g, by=s.checker, reason="Garanties insuffisantes",
                              expected=guarantee_terms(g))
    assert g.status == S.DECLINED
    assert [m.to for m in mail.outbox] == [[s.agent.email]]
    assert "Garanties insuffisantes" in mail.outbox[0].body


def test_submission_emails_the_banks_makers_in_their_language(django_capture_on_commit_callbacks):
    s = scene()
    s.maker.language = "en"
    s.maker.save()
    g = requested_guarantee(s, submit=False)
    with django_capture_on_commit_callbacks(execute=True):
        guarantee_submit(guarantee=g, by=s.agent)
    assert [m.to for m in mail.outbox] == [[s.maker.email]]
    assert mail.outbox[0].subject.startswith("Guarantee request to review")


def test_suspend_and_reactivate_by_a_supervisor_with_a_reason():
    s = scene()
    g = active_guarantee(s)
    with pytest.raises(NotAllowed):
        guarantee_suspend(guarantee=g, by=s.officer, reason="x")
    g = guarantee_suspend(guarantee=g, by=s.supervisor, reason="Enquête en cours")
    assert (g.status, g.status_reason) == (S.SUSPENDED, "Enquête en cours")
    g = guarantee_reactivate(guarantee=g, by=s.supervisor, reason="Levée")
    assert g.status == S.ACTIVE


@pytest.mark.parametrize("decide", [guarantee_suspend, guarantee_cancel])
def test_customs_decisions_need_a_reason_and_change_nothing_without(decide):
    s = scene()
    g = active_guarantee(s)
    events = g.events.count()
    for blank in ("", "  ", None):
        with pytest.raises(ReasonRequired):
            decide(guarantee=g, by=s.supervisor, reason=blank)
    g.refresh_from_db()
    assert g.status == S.ACTIVE and g.events.count() == events


def test_decisions_repeated_change_nothing_and_reactivation_after_validity_is_refused():
    s = scene()
    g = active_guarantee(s)
    g = guarantee_suspend(guarantee=g, by=s.supervisor, reason="Enquête")
    events = g.events.count()
    assert guarantee_suspend(guarantee=g, by=s.supervisor, reason="Encore").status_reason == "Enquête"
    assert g.events.count() == events
    yesterday = timezone.now().date() - datetime.timedelta(days=1)
    Guarantee.objects.filter(pk=g.pk).update(valid_from=yesterday - datetime.timedelta(days=30), valid_until=yesterday)
    with pytest.raises(InvalidTransition):
        guarantee_reactivate(guarantee=g, by=s.supervisor, reason="Levée")
    g.refresh_from_db()
    assert g.status == S.SUSPENDED


def test_cancelled_guarantee_keeps_its_holds_until_released_then_closes():
    s = scene()
    g = active_guarantee(s, amount=1_000_000)
    hold = hold_reserve(guarantee=g, amount=10_000, reference="T-1")
    g = guarantee_cancel(guarantee=g, by=s.supervisor, reason="Retrait d'agrément")
    assert g.status == S.CANCELLED
    g.refresh_from_db()
    assert g.held == 10_000
    from guarantees.errors import GuaranteeNotActive

    with pytest.raises(GuaranteeNotActive):
        hold_reserve(guarantee=g, amount=1, reference="T-2")
    hold_release(hold=hold)
    g.refresh_from_db()
    assert g.status == S.CLOSED


def test_cancelled_guarantee_with_nothing_held_closes_at_once():
    s = scene()
    g = active_guarantee(s)
    g = guarantee_cancel(guarantee=g, by=s.supervisor, reason="Demande du principal")
    assert g.status == S.CLOSED
