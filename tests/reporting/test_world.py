"""The small world of the reports is what its docstring says: the figures below are computed by hand from it."""

import pytest

from guarantees.models import HoldStatus, TransitStatus

pytestmark = pytest.mark.django_db


def test_the_world_balances_are_the_hand_computed_ones(world):
    g1 = world.g1
    assert (g1.amount, g1.held, g1.claimed, g1.paid, g1.available) == (
        100_000_000, 8_000_000, 0, 3_000_000, 89_000_000)
    assert (world.t1.hold.status, world.t1.hold.paid_amount) == (HoldStatus.PAID, 3_000_000)
    assert (world.t2.hold.amount, world.t2.status) == (6_000_000, TransitStatus.DECLARED)
    assert world.t4.status == TransitStatus.DISCHARGED and world.t4.hold.status == HoldStatus.RELEASED
