"""Who may see enquiries, manual releases and claims: they follow the transit — the customs of the countries on
its route, the bank that issued its guarantee, its forwarder, the secretariat; no one else. And which proposals
a supervisor has to approve: those of their own administration, made by someone else, still pending.

The world is the cases' (``tests.builders.cases_world``): a transit Lomé → Ouagadougou (Togo and Burkina Faso
on the route, Niger off it), another bank's checker and another forwarder's agent."""

import pytest
from django.contrib.auth.models import AnonymousUser

from guarantees.selectors.claims import (
    claims_visible_to,
    enquiries_visible_to,
    releases_to_approve,
    releases_visible_to,
)
from guarantees.services.claims import claim_issue
from guarantees.services.enquiries import release_propose

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(world):
    """One noticed transit with a claim, another with a release proposed by Togo's officer."""
    claimed, enquiry = world.noticed("SEL-CLAIMED")
    claim = claim_issue(transit=claimed, by=world.s.supervisor, grounds="Non apuré.", amount=1_000_000)
    proposed = world.declare("SEL-PROPOSED")
    release = release_propose(transit=proposed, by=world.tg_officer, ground="proof_accepted", reason="Preuve reçue.")
    return enquiry, claim, release


ALLOWED = ("s.agent", "s.maker", "s.checker", "s.officer", "s.supervisor", "tg_officer", "tg_supervisor",
           "bf_supervisor2", "secretariat")
NOT_ALLOWED = ("ne_supervisor", "other_checker", "other_agent")


def person(world, name: str):
    holder = world.s if name.startswith("s.") else world
    return getattr(holder, name.removeprefix("s."))


@pytest.mark.parametrize("name", ALLOWED)
def test_those_concerned_by_the_transit_see_its_enquiry_release_and_claim(world, cases, name):
    enquiry, claim, release = cases
    user = person(world, name)
    assert list(enquiries_visible_to(user=user)) == [enquiry]
    assert list(claims_visible_to(user=user)) == [claim]
    assert list(releases_visible_to(user=user)) == [release]


@pytest.mark.parametrize("name", NOT_ALLOWED)
def test_customs_off_the_route_another_bank_and_another_forwarder_see_nothing(world, cases, name):
    user = person(world, name)
    assert not enquiries_visible_to(user=user).exists()
    assert not claims_visible_to(user=user).exists()
    assert not releases_visible_to(user=user).exists()


def test_no_organisation_sees_nothing(world, cases):
    user = AnonymousUser()
    assert not enquiries_visible_to(user=user).exists()
    assert not claims_visible_to(user=user).exists()
    assert not releases_visible_to(user=user).exists()


def test_a_proposal_waits_for_a_supervisor_of_the_proposing_administration_other_than_its_author(world, cases):
    _enquiry, _claim, release = cases
    assert list(releases_to_approve(user=world.tg_supervisor)) == [release]
    assert not releases_to_approve(user=world.tg_officer).exists()  # its author, and no supervisor
    # Burkina Faso's supervisors see the proposal (the transit crosses Burkina Faso) but it is not theirs.
    assert not releases_to_approve(user=world.s.supervisor).exists()
    assert not releases_to_approve(user=world.bf_supervisor2).exists()
    assert not releases_to_approve(user=world.secretariat).exists()
