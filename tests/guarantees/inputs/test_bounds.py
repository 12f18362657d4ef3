"""Every amount, date and office out of bounds is refused the same way through the services (which the forms,
the API and the files all call): an error with its code and a sentence naming the limit, and nothing written.
On SQLite as on PostgreSQL (amounts above 2⁶³−1 were a 500 on both)."""

import datetime

import pytest
from django.utils import timezone, translation

from guarantees.errors import EventRefused
from guarantees.limits import AmountOutOfRange, DateOutOfRange, InvalidOffices, amount_max
from guarantees.models import Amendment, Guarantee, Hold, Transit, TransitEvent
from guarantees.reference.importer import reference_import
from guarantees.services.amendments import amendment_request
from guarantees.services.events import transit_event_receive
from guarantees.services.guarantees import guarantee_prepare, guarantee_request
from guarantees.services.transits import transit_declare
from tests.builders import active_guarantee, requested_guarantee, scene
from tests.factories import CustomsFactory, country

pytestmark = pytest.mark.django_db

HUGE = 2**63  # one more than a BIGINT holds
TODAY = timezone.localdate


def _request(s, **over):
    fields = dict(principal=s.forwarder, bank=s.bank, requested_amount=10_000_000, valid_from=TODAY(),
                  valid_until=TODAY() + datetime.timedelta(days=365), by=s.agent)
    fields.update(over)
    return guarantee_request(**fields)


@pytest.mark.parametrize("amount", [HUGE, 10**30, -1, 0])
def test_request_amount_out_of_range_is_refused_with_the_limit(amount):
    s = scene()
    with pytest.raises(AmountOutOfRange) as refused, translation.override("fr"):
        _request(s, requested_amount=amount)
    assert refused.value.code == "amount_out_of_range"
    assert refused.value.extra["max"] == amount_max()
    assert "requested_amount" in refused.value.extra["errors"]
    with translation.override("fr"):
        assert "1\u202f000\u202f000\u202f000\u202f000\u00a0FCFA" in str(refused.value.message)
    assert not Guarantee.objects.exists()


def test_request_starting_yesterday_is_refused():
    s = scene()
    with pytest.raises(DateOutOfRange) as refused:
        _request(s, valid_from=TODAY() - datetime.timedelta(days=1))
    assert "valid_from" in refused.value.extra["errors"]
    assert not Guarantee.objects.exists()


def test_request_ending_before_it_starts_is_refused():
    s = scene()
    with pytest.raises(DateOutOfRange):
        _request(s, valid_until=TODAY() - datetime.timedelta(days=1))
    assert not Guarantee.objects.exists()


def test_request_longer_than_the_maximum_validity_is_refused(settings):
    settings.REGISTRY_MAX_VALIDITY_DAYS = 400
    s = scene()
    with pytest.raises(DateOutOfRange) as refused:
        _request(s, valid_from=datetime.date(2030, 1, 1), valid_until=datetime.date(9999, 12, 31))
    assert refused.value.extra["max_days"] == 400
    _request(s, valid_until=TODAY() + datetime.timedelta(days=400))  # the limit itself is accepted
    assert Guarantee.objects.count() == 1


def test_preparation_amount_above_the_limit_is_refused():
    s = scene()
    g = requested_guarantee(s)
    with pytest.raises(AmountOutOfRange):
        guarantee_prepare(guarantee=g, by=s.maker, amount=HUGE)
    g.refresh_from_db()
    assert g.requested_amount == 50_000_000 and g.prepared_by is None


def test_amendment_amount_above_the_limit_is_refused():
    s = scene()
    g = active_guarantee(s)
    with pytest.raises(AmountOutOfRange) as refused:
        amendment_request(guarantee=g, by=s.agent, new_amount=HUGE, new_valid_until=g.valid_until)
    assert "new_amount" in refused.value.extra["errors"]
    assert not Amendment.objects.exists()


# --- Declarations ---------------------------------------------------------------------------------------------

@pytest.fixture
def declared(db):
    reference_import()
    s = scene("BF")
    g = active_guarantee(s, in_force_days=30)
    togo = CustomsFactory(country=country("TG"))
    return s, g, togo


def _declare(togo, g, **over):
    data = {"declaration_ref": "TG-LOME-2026-T-1", "office_of_departure": "TGLOME",
            "office_of_destination": "BFOUAG", "corridor": "LOM-OUA",
            "declared_at": timezone.now() - datetime.timedelta(hours=1), "amount": 4_500_000}
    data.update(over)
    return transit_declare(sender=togo, guarantee=g, data=data)


def _nothing_taken(g):
    g.refresh_from_db()
    assert not Transit.objects.exists() and not Hold.objects.exists() and g.held == 0


@pytest.mark.parametrize("when, why", [
    (lambda g: timezone.now() + datetime.timedelta(hours=2), "future"),
    (lambda g: timezone.now() - datetime.timedelta(days=31), "before validity"),
    (lambda g: datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc), "deadline past"),
])
def test_declaration_dated_out_of_bounds_is_refused(declared, when, why):
    s, g, togo = declared
    with pytest.raises(DateOutOfRange) as refused:
        _declare(togo, g, declared_at=when(g))
    assert refused.value.code == "date_out_of_range" and "declared_at" in refused.value.extra["errors"], why
    _nothing_taken(g)


def test_declaration_within_the_clock_skew_is_taken(declared):
    s, g, togo = declared
    transit, created = _declare(togo, g, declared_at=timezone.now() + datetime.timedelta(seconds=60))
    assert created and transit.amount_held == 4_500_000


def test_declaration_whose_deadline_has_passed_is_refused(declared):
    s, g, togo = declared
    # Within the validity, but the corridor's time limit ended already.
    with pytest.raises(DateOutOfRange):
        _declare(togo, g, declared_at=timezone.now() - datetime.timedelta(days=25))
    _nothing_taken(g)


def test_departure_equal_to_destination_is_refused(declared):
    s, g, togo = declared
    with pytest.raises(InvalidOffices) as refused:
        _declare(togo, g, office_of_destination="TGLOME", corridor=None)
    assert refused.value.code == "invalid_offices"
    _nothing_taken(g)


def test_route_office_off_the_corridor_is_refused(declared):
    s, g, togo = declared
    # Niamey's border office is not on Lomé – Ouagadougou: naming it would let Niger see the transit.
    from guarantees.models import Office

    niger_office = Office.objects.filter(country_id="NE", is_active=True).values_list("code", flat=True).first()
    with pytest.raises(InvalidOffices) as refused:
        _declare(togo, g, route=["TGCINK", niger_office])
    assert refused.value.extra["office"] == niger_office
    _nothing_taken(g)


@pytest.mark.parametrize("amount", [HUGE, 10**13])
def test_declared_amount_above_the_limit_is_refused(declared, amount):
    s, g, togo = declared
    with pytest.raises(AmountOutOfRange):
        _declare(togo, g, amount=amount)
    _nothing_taken(g)


def test_partial_discharge_above_what_is_held_is_refused_at_once(declared):
    s, g, togo = declared
    transit, _ = _declare(togo, g, amount=100_000)
    event, created = transit_event_receive(sender=s.customs, data={
        "message_id": "BF-1", "declaration_ref": transit.declaration_ref, "type": "partial_discharge",
        "office": "BFOUAG", "occurred_at": timezone.now().isoformat(), "amount_released": 300_000,
    })
    assert created and event.status == "rejected" and event.error_code == "above_held"
    transit.hold.refresh_from_db()
    assert transit.hold.amount == 100_000 and transit.hold.status == "held"
    g.refresh_from_db()
    assert g.held == 100_000


def test_partial_discharge_amount_beyond_the_database_is_invalid(declared):
    s, g, togo = declared
    transit, _ = _declare(togo, g)
    from guarantees.errors import InvalidDeclaration

    with pytest.raises(InvalidDeclaration) as refused:
        transit_event_receive(sender=s.customs, data={
            "message_id": "BF-2", "declaration_ref": transit.declaration_ref, "type": "partial_discharge",
            "office": "BFOUAG", "occurred_at": timezone.now().isoformat(), "amount_released": HUGE,
        })
    assert "amount_released" in refused.value.extra["errors"]
    assert not TransitEvent.objects.exists()


def test_refused_event_is_an_event_refused_with_its_code(declared):
    # The refusal the API shows is the stored one, with its machine word.
    from guarantees.services.events import event_refusal_shown

    s, g, togo = declared
    transit, _ = _declare(togo, g, amount=100_000)
    event, _created = transit_event_receive(sender=s.customs, data={
        "message_id": "BF-3", "declaration_ref": transit.declaration_ref, "type": "partial_discharge",
        "office": "BFOUAG", "occurred_at": timezone.now().isoformat(), "amount_released": 100_001,
    })
    refusal = event_refusal_shown(event)
    assert isinstance(refusal, EventRefused) and refusal.reason == "above_held"
