"""Real concurrent transactions on PostgreSQL: the lock order (guarantee, hold, transit, claim) serialises the
customs' and the bank's decisions on the same transit; exactly one wins and the ledger stays exact."""

import pytest
from django.db import connection
from django.utils import timezone

from guarantees.errors import DomainError
from guarantees.models import Claim, ClaimStatus, Guarantee
from guarantees.services.claims import claim_issue, claim_pay, claim_withdraw
from guarantees.services.enquiries import release_approve, release_propose
from guarantees.services.ledger import ledger_verify
from tests.guarantees.services.test_concurrency import _race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]


def _verify(g):
    return ledger_verify(guarantees=Guarantee.objects.filter(pk=g.pk))


def test_payment_and_withdrawal_racing_on_one_claim(world):
    assert connection.vendor == "postgresql"
    for attempt in range(3):
        transit, _ = world.noticed(f"TG-RACE-PAY-{attempt}", amount=2_000_000)
        claim = claim_issue(transit=transit, by=world.s.supervisor, grounds="x")
        results = _race(2, lambda i: claim_pay(
            claim=claim, by=world.s.checker, amount=1_500_000, payment_reference="V", payment_date=timezone.localdate(),
        ) if i == 0 else claim_withdraw(claim=claim, by=world.s.supervisor, reason="x"))
        won = [r for r in results if isinstance(r, Claim)]
        lost = [r for r in results if isinstance(r, DomainError)]
        assert (len(won), len(lost)) == (1, 1), results
        claim.refresh_from_db()
        assert claim.status in (ClaimStatus.PAID, ClaimStatus.WITHDRAWN)
    g = world.g
    g.refresh_from_db()
    assert (g.held, g.claimed) == (0, 0)
    assert g.paid == 1_500_000 * Claim.objects.filter(status=ClaimStatus.PAID).count()
    assert _verify(g) == []


def test_two_administrations_claiming_the_same_transit_make_one_claim(world):
    transit, _ = world.noticed("TG-RACE-CLAIM", amount=3_000_000)
    results = _race(2, lambda i: claim_issue(transit=transit, by=(world.s.supervisor, world.tg_supervisor)[i],
                                             grounds="x"))
    assert sum(isinstance(r, Claim) for r in results) == 1, results
    assert Claim.objects.filter(transit=transit).count() == 1
    g = world.g
    g.refresh_from_db()
    assert (g.held, g.claimed) == (0, 3_000_000)
    assert _verify(g) == []


def test_a_release_approval_racing_a_claim_leaves_one_outcome(world):
    transit, _ = world.noticed("TG-RACE-RELEASE", amount=3_000_000)
    release = release_propose(transit=transit, by=world.tg_officer, ground="proof_accepted", reason="x")
    results = _race(2, lambda i: release_approve(release=release, by=world.tg_supervisor) if i == 0
                    else claim_issue(transit=transit, by=world.s.supervisor, grounds="x"))
    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    g = world.g
    g.refresh_from_db()
    assert (g.held + g.claimed) in (0, 3_000_000)
    assert _verify(g) == []
