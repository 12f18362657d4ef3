import pytest

from guarantees.errors import Conflict, GuaranteeNotActive, InsufficientBalance, InvalidAmount, OutsideValidity
from guarantees.models import EntryKind, Guarantee, GuaranteeStatus, HoldStatus
from guarantees.services.guarantees import guarantee_suspend
from guarantees.services.holds import hold_release, hold_reserve
from guarantees.services.ledger import ledger_verify
from tests.builders import active_guarantee, confirmed_guarantee, scene

pytestmark = pytest.mark.django_db


def test_hold_lowers_available_and_appends_one_entry():
    g = active_guarantee(amount=10_000_000)
    hold = hold_reserve(guarantee=g, amount=4_500_000, reference="TG-LOME-2026-T-1")
    g.refresh_from_db()
    assert (g.held, g.available) == (4_500_000, 5_500_000)
    assert hold.status == HoldStatus.HELD
    assert list(g.entries.values_list("kind", "d_held")) == [(EntryKind.OPENING, 0), (EntryKind.HOLD, 4_500_000)]
    assert ledger_verify() == []


def test_hold_above_available_is_refused_with_the_available_amount():
    g = active_guarantee(amount=1_000_000)
    hold_reserve(guarantee=g, amount=600_000, reference="T-1")
    with pytest.raises(InsufficientBalance) as exc:
        hold_reserve(guarantee=g, amount=400_001, reference="T-2")
    assert exc.value.extra["available"] == 400_000
    g.refresh_from_db()
    assert g.held == 600_000
    assert g.holds.count() == 1


def test_hold_of_exactly_the_available_amount_succeeds():
    g = active_guarantee(amount=1_000_000)
    hold_reserve(guarantee=g, amount=1_000_000, reference="T-1")
    g.refresh_from_db()
    assert g.available == 0


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True, None])
def test_hold_amount_must_be_whole_positive_francs(amount):
    g = active_guarantee()
    with pytest.raises(InvalidAmount):
        hold_reserve(guarantee=g, amount=amount, reference="T-1")
    assert g.holds.count() == 0


def test_hold_on_a_guarantee_not_active_is_refused():
    s = scene()
    g = confirmed_guarantee(s)
    with pytest.raises(GuaranteeNotActive):
        hold_reserve(guarantee=g, amount=1000, reference="T-1")


def test_hold_on_a_suspended_guarantee_is_refused():
    s = scene()
    g = active_guarantee(s)
    guarantee_suspend(guarantee=g, by=s.supervisor, reason="Contrôle")
    with pytest.raises(GuaranteeNotActive):
        hold_reserve(guarantee=g, amount=1000, reference="T-1")


def test_hold_outside_validity_is_refused():
    g = active_guarantee(days=30)
    with pytest.raises(OutsideValidity):
        hold_reserve(guarantee=g, amount=1000, reference="T-1", on=g.valid_until.replace(year=g.valid_until.year + 1))


def test_same_reference_and_amount_again_takes_nothing_more():
    g = active_guarantee(amount=1_000_000)
    first = hold_reserve(guarantee=g, amount=100_000, reference="T-1")
    again = hold_reserve(guarantee=g, amount=100_000, reference="T-1")
    assert again.pk == first.pk
    g.refresh_from_db()
    assert g.held == 100_000
    assert g.entries.count() == 2


def test_same_reference_with_another_amount_is_a_conflict():
    g = active_guarantee(amount=1_000_000)
    hold_reserve(guarantee=g, amount=100_000, reference="T-1")
    with pytest.raises(Conflict):
        hold_reserve(guarantee=g, amount=100_001, reference="T-1")


def test_release_gives_the_amount_back():
    g = active_guarantee(amount=1_000_000)
    hold = hold_reserve(guarantee=g, amount=300_000, reference="T-1")
    hold_release(hold=hold)
    g.refresh_from_db()
    hold.refresh_from_db()
    assert (g.held, g.available, hold.status, hold.amount) == (0, 1_000_000, HoldStatus.RELEASED, 0)
    assert ledger_verify() == []


def test_release_twice_is_a_no_op():
    g = active_guarantee(amount=1_000_000)
    hold = hold_reserve(guarantee=g, amount=300_000, reference="T-1")
    hold_release(hold=hold)
    hold_release(hold=hold)
    assert g.entries.filter(kind=EntryKind.RELEASE).count() == 1
    g.refresh_from_db()
    assert g.held == 0


def test_partial_release_lowers_the_hold_then_the_rest_releases_it():
    g = active_guarantee(amount=1_000_000)
    hold = hold_reserve(guarantee=g, amount=300_000, reference="T-1")
    hold_release(hold=hold, amount=100_000)
    hold.refresh_from_db()
    assert (hold.amount, hold.status) == (200_000, HoldStatus.HELD)
    hold_release(hold=hold)
    hold.refresh_from_db()
    g.refresh_from_db()
    assert (hold.amount, hold.status, g.held) == (0, HoldStatus.RELEASED, 0)
    kinds = list(g.entries.values_list("kind", flat=True))
    assert kinds == [EntryKind.OPENING, EntryKind.HOLD, EntryKind.PARTIAL_RELEASE, EntryKind.RELEASE]


def test_partial_release_larger_than_the_hold_releases_only_what_is_held():
    g = active_guarantee(amount=1_000_000)
    hold = hold_reserve(guarantee=g, amount=300_000, reference="T-1")
    hold_release(hold=hold, amount=900_000)
    g.refresh_from_db()
    assert g.held == 0
    assert ledger_verify() == []


def test_the_database_refuses_an_overdraw_written_behind_the_service():
    from django.db import IntegrityError, transaction

    g = active_guarantee(amount=1_000)
    with pytest.raises(IntegrityError), transaction.atomic():
        Guarantee.objects.filter(pk=g.pk).update(held=1_001)


def test_expired_guarantee_is_closed_when_its_last_hold_is_released():
    from datetime import timedelta

    from guarantees.services.guarantees import guarantee_expire

    g = active_guarantee(amount=1_000_000, days=10)
    hold = hold_reserve(guarantee=g, amount=1_000, reference="T-1")
    g = guarantee_expire(guarantee=g, today=g.valid_until + timedelta(days=1))
    assert g.status == GuaranteeStatus.EXPIRED
    hold_release(hold=hold)
    g.refresh_from_db()
    assert g.status == GuaranteeStatus.CLOSED
