"""Random sequences of operations never break an invariant (hypothesis)."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guarantees.errors import DomainError
from guarantees.models import Guarantee, Hold, HoldStatus
from guarantees.services.amendments import amendment_confirm, amendment_prepare, amendment_request
from guarantees.services.holds import hold_release, hold_reserve
from guarantees.services.ledger import ledger_verify
from guarantees.terms import amendment_terms
from tests.builders import active_guarantee, scene

pytestmark = pytest.mark.django_db

operation = st.one_of(
    st.tuples(st.just("hold"), st.integers(min_value=1, max_value=4_000_000)),
    st.tuples(st.just("release"), st.integers(min_value=0, max_value=30)),
    st.tuples(st.just("partial"), st.integers(min_value=0, max_value=30), st.integers(min_value=1, max_value=2_000_000)),
    st.tuples(st.just("amend"), st.integers(min_value=1, max_value=20_000_000)),
    st.tuples(st.just("replay"), st.integers(min_value=0, max_value=30)),
)


class _Rollback(Exception):
    pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_random_operations_keep_every_invariant(ops):
    try:
        with transaction.atomic():
            _run(ops)
            raise _Rollback
    except _Rollback:
        pass


def _run(ops):
    s = scene()
    g = active_guarantee(s, amount=10_000_000)
    holds: list[Hold] = []
    for n, op in enumerate(ops):
        try:
            with transaction.atomic():
                if op[0] == "hold":
                    holds.append(hold_reserve(guarantee=g, amount=op[1], reference=f"H-{g.pk}-{n}"))
                elif op[0] == "release" and holds:
                    hold_release(hold=holds[op[1] % len(holds)])
                elif op[0] == "partial" and holds:
                    hold_release(hold=holds[op[1] % len(holds)], amount=op[2])
                elif op[0] == "amend":
                    a = amendment_request(guarantee=g, by=s.agent, new_amount=op[1], new_valid_until=g.valid_until)
                    a = amendment_prepare(amendment=a, by=s.maker)
                    amendment_confirm(amendment=a, by=s.checker, expected=amendment_terms(a))
                elif op[0] == "replay" and holds:
                    h = holds[op[1] % len(holds)]
                    assert hold_reserve(guarantee=g, amount=h.initial_amount, reference=h.reference).pk == h.pk
        except DomainError:
            pass
        g.refresh_from_db()
        assert 0 <= g.held <= g.amount
        assert g.available >= 0
        assert g.held == sum(h.amount for h in Hold.objects.filter(guarantee=g))
        for h in Hold.objects.filter(guarantee=g):
            assert 0 <= h.amount <= h.initial_amount
            assert (h.amount == 0) == (h.status == HoldStatus.RELEASED)
    assert ledger_verify(guarantees=Guarantee.objects.filter(pk=g.pk)) == []
