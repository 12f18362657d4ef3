"""``transits_visible_to``: forwarders see their own transits, banks those on the guarantees they issued,
customs only those whose route touches their country, the secretariat all, anyone else none.

The world: two forwarders of Burkina Faso, each with an active guarantee at a bank of its own (``world.s`` and
``world.other``); the customs of Togo, Niger and Mali; two transits declared at Lomé by Togo's customs:

- ``to_ouaga``: on the first guarantee, Lomé → Ouagadougou (stops in TG and BF);
- ``to_niamey``: on the other guarantee, Lomé → Niamey through Burkina Faso (stops in TG, BF and NE).

Mali's customs are on neither route."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from guarantees.errors import HIDDEN_REFUSALS
from guarantees.models import EventStatus
from guarantees.selectors.transits import refused_events_visible_to, transits_visible_to
from guarantees.services.events import transit_event_receive
from guarantees.services.transits import transit_declare
from tests.builders import World
from tests.builders import world as build_world
from tests.factories import UserFactory


@pytest.fixture
def world(db) -> World:
    w = build_world(second=True, customs=("TG", "NE", "ML"), people=(
        "tg_officer", "tg_supervisor", "ne_officer", "ne_supervisor", "ml_officer", "ml_supervisor", "secretariat",
    ))
    at = timezone.now() - datetime.timedelta(days=2)
    w.to_ouaga, _ = transit_declare(sender=w.togo, guarantee=w.guarantee, data={
        "declaration_ref": "SEL-OUAGA", "office_of_departure": "TGLOME", "office_of_destination": "BFOUAG",
        "corridor": "LOM-OUA", "declared_at": at, "amount": 4_500_000, "transport": {"vehicle": "BF-1234-AB"},
    })
    w.to_niamey, _ = transit_declare(sender=w.togo, guarantee=w.other_guarantee, data={
        "declaration_ref": "SEL-NIAMEY", "office_of_departure": "TGLOME", "office_of_destination": "NENIAM",
        "corridor": "LOM-NIA", "declared_at": at, "amount": 7_000_000, "transport": {"vehicle": "BF-5678-CD"},
    })
    return w



def refs(user) -> set[str]:
    return set(transits_visible_to(user=user).values_list("declaration_ref", flat=True))


def test_a_forwarder_sees_its_own_transits_only(world):
    assert refs(world.s.agent) == {"SEL-OUAGA"}
    assert refs(world.other.agent) == {"SEL-NIAMEY"}


def test_a_bank_sees_the_transits_on_the_guarantees_it_issued_only(world):
    assert refs(world.s.checker) == refs(world.s.maker) == {"SEL-OUAGA"}
    assert refs(world.other.checker) == {"SEL-NIAMEY"}


def test_customs_see_only_the_transits_whose_route_touches_their_country(world):
    assert refs(world.tg_officer) == {"SEL-OUAGA", "SEL-NIAMEY"}  # departure of both
    assert refs(world.s.officer) == {"SEL-OUAGA", "SEL-NIAMEY"}  # destination of one, crossed by the other
    assert refs(world.ne_officer) == refs(world.ne_supervisor) == {"SEL-NIAMEY"}  # destination of one only
    assert refs(world.ml_officer) == set()  # on no route


def test_the_secretariat_sees_every_transit(world):
    assert refs(world.secretariat) == {"SEL-OUAGA", "SEL-NIAMEY"}


def test_no_organisation_no_transit(world):
    assert refs(AnonymousUser()) == set()
    assert refs(UserFactory()) == set()  # signed in, member of nothing


def test_a_customs_sees_the_refused_events_it_sent_except_those_that_would_tell_it_of_a_transit(world):
    # Mali reports a discharge of a transit whose route does not cross Mali: refused ``not_on_route``, and kept
    # from Mali's list (to Mali it must look like an event waiting for its declaration). Niger reports a
    # discharge of a transit it may see, dated tomorrow: refused, and listed to Niger (and to nobody else).
    tomorrow = (timezone.now() + datetime.timedelta(days=1)).replace(microsecond=0).isoformat()
    hidden, _ = transit_event_receive(sender=world.mali, data={
        "message_id": "SEL-ML-1", "declaration_ref": "SEL-OUAGA", "type": "discharge", "office": "MLSIKA",
        "occurred_at": timezone.now().replace(microsecond=0).isoformat(),
    })
    shown, _ = transit_event_receive(sender=world.niger, data={
        "message_id": "SEL-NE-1", "declaration_ref": "SEL-NIAMEY", "type": "discharge", "office": "NENIAM",
        "occurred_at": tomorrow,
    })
    assert (hidden.status, hidden.error_code) == (EventStatus.REJECTED, "not_on_route")
    assert shown.status == EventStatus.REJECTED and shown.error_code not in HIDDEN_REFUSALS

    def listed(user) -> set[str]:
        return set(refused_events_visible_to(user=user).values_list("message_id", flat=True))

    assert listed(world.secretariat) == {"SEL-ML-1", "SEL-NE-1"}
    assert listed(world.ml_officer) == set()
    assert listed(world.ne_officer) == {"SEL-NE-1"}
    assert listed(world.tg_officer) == listed(world.s.officer) == set()  # not theirs
    assert listed(world.s.agent) == listed(world.s.checker) == set()
