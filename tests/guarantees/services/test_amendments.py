import datetime

import pytest

from guarantees.errors import BelowCommitted, CeilingExceeded, InvalidTransition, SameMakerAndChecker
from guarantees.models import AmendmentStatus, EntryKind
from guarantees.services.amendments import (
    amendment_confirm,
    amendment_decline,
    amendment_prepare,
    amendment_request,
    amendment_withdraw,
)
from guarantees.services.holds import hold_reserve
from guarantees.services.ledger import ledger_verify
from guarantees.terms import amendment_terms
from tests.builders import active_guarantee, scene

pytestmark = pytest.mark.django_db


def _amend(s, g, amount, until=None):
    a = amendment_request(guarantee=g, by=s.agent, new_amount=amount, new_valid_until=until or g.valid_until,
                          reason="Hausse d'activité")
    a = amendment_prepare(amendment=a, by=s.maker)
    return amendment_confirm(amendment=a, by=s.checker, expected=amendment_terms(a))


def test_increase_goes_through_maker_and_checker_and_makes_a_new_version():
    s = scene()
    g = active_guarantee(s, amount=10_000_000)
    a = _amend(s, g, 15_000_000)
    g.refresh_from_db()
    assert a.status == AmendmentStatus.CONFIRMED
    assert (g.amount, g.version) == (15_000_000, 2)
    assert list(g.versions.values_list("number", "amount")) == [(1, 10_000_000), (2, 15_000_000)]
    assert g.entries.last().kind == EntryKind.INCREASE
    assert ledger_verify() == []


def test_extension_changes_validity_without_a_ledger_movement():
    s = scene()
    g = active_guarantee(s, amount=10_000_000)
    later = g.valid_until + datetime.timedelta(days=90)
    _amend(s, g, 10_000_000, later)
    g.refresh_from_db()
    assert (g.valid_until, g.version, g.entries.count()) == (later, 2, 1)


def test_decrease_below_what_is_held_is_refused_at_request_and_at_confirmation():
    s = scene()
    g = active_guarantee(s, amount=10_000_000)
    hold_reserve(guarantee=g, amount=6_000_000, reference="T-1")
    with pytest.raises(BelowCommitted) as exc:
        amendment_request(guarantee=g, by=s.agent, new_amount=5_999_999, new_valid_until=g.valid_until)
    assert exc.value.extra["committed"] == 6_000_000
    a = amendment_request(guarantee=g, by=s.agent, new_amount=7_000_000, new_valid_until=g.valid_until)
    a = amendment_prepare(amendment=a, by=s.maker)
    hold_reserve(guarantee=g, amount=2_000_000, reference="T-2")  # the room shrank in the meantime
    with pytest.raises(BelowCommitted):
        amendment_confirm(amendment=a, by=s.checker, expected=amendment_terms(a))
    g.refresh_from_db()
    assert g.amount == 10_000_000


def test_decrease_to_exactly_what_is_held_is_allowed():
    s = scene()
    g = active_guarantee(s, amount=10_000_000)
    hold_reserve(guarantee=g, amount=6_000_000, reference="T-1")
    _amend(s, g, 6_000_000)
    g.refresh_from_db()
    assert (g.amount, g.available) == (6_000_000, 0)


def test_increase_over_the_bank_ceiling_is_refused():
    s = scene(ceiling=12_000_000)
    g = active_guarantee(s, amount=10_000_000)
    a = amendment_request(guarantee=g, by=s.agent, new_amount=12_000_001, new_valid_until=g.valid_until)
    a = amendment_prepare(amendment=a, by=s.maker)
    with pytest.raises(CeilingExceeded):
        amendment_confirm(amendment=a, by=s.checker, expected=amendment_terms(a))


def test_amendment_checker_must_differ_from_maker():
    s = scene()
    g = active_guarantee(s)
    from accounts.models import Membership
    from accounts.roles import Role

    Membership.objects.create(user=s.maker, organisation=s.bank.organisation, role=Role.BANK_CHECKER)
    s.maker = type(s.maker).objects.get(pk=s.maker.pk)  # memberships are cached per request
    a = amendment_request(guarantee=g, by=s.agent, new_amount=g.amount + 1, new_valid_until=g.valid_until)
    a = amendment_prepare(amendment=a, by=s.maker)
    with pytest.raises(SameMakerAndChecker):
        amendment_confirm(amendment=a, by=s.maker, expected=amendment_terms(a))


def test_one_open_amendment_at_a_time_and_withdraw_or_decline_closes_it():
    s = scene()
    g = active_guarantee(s)
    a = amendment_request(guarantee=g, by=s.agent, new_amount=g.amount + 1, new_valid_until=g.valid_until)
    with pytest.raises(InvalidTransition):
        amendment_request(guarantee=g, by=s.agent, new_amount=g.amount + 2, new_valid_until=g.valid_until)
    amendment_withdraw(amendment=a, by=s.agent)
    b = amendment_request(guarantee=g, by=s.agent, new_amount=g.amount + 2, new_valid_until=g.valid_until)
    b = amendment_decline(amendment=b, by=s.checker, reason="Non justifié", expected=amendment_terms(b))
    assert b.status == AmendmentStatus.DECLINED
    g.refresh_from_db()
    assert g.version == 1
