"""A release task (``transit_events_apply_queued``) reads and locks its rows in hand-written prepared statements on
PostgreSQL, and through the ORM elsewhere (``REGISTRY_HAND_WRITTEN_SQL``). Both must do the same: the same events
taken (the task's own first, then the oldest others, none held by another transaction), the same holds released
with the same ledger entries, the same transits, the same enquiries closed, the same refusals."""

import datetime
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from guarantees.models import (
    Enquiry,
    EnquiryStatus,
    EventStatus,
    Guarantee,
    Hold,
    LedgerEntry,
    Transit,
    TransitEvent,
)
from guarantees.services.discharge_bulk import transit_events_apply_queued
from guarantees.services.events import transit_event_receive
from guarantees.services.ledger import ledger_verify

# The events' tasks go to the real Redis (``broker``), where no worker takes them: the tests run them themselves.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql, pytest.mark.usefixtures("broker")]


def _scenario(world, tag: str) -> list[int]:
    """Five transits of the guarantee and their events, stored and not applied: a discharge, a partial then a
    full discharge, an arrival, two partial discharges of which the second is more than the first leaves held
    (refused when applied), and a discharge of a transit under enquiry. Returns the stored events' ids in the
    order received."""
    at = (timezone.now() - datetime.timedelta(hours=1)).replace(microsecond=0)
    refs = [f"{tag}-{i}" for i in range(5)]
    for ref in refs[:4]:
        world.declare(ref, days_ago=2)
    world.noticed(refs[4], days_ago=90)

    def send(sender, ref, n, kind, office, **extra):
        event, _created = transit_event_receive(sender=sender, data={
            "message_id": f"{ref}-{n}", "declaration_ref": ref, "type": kind, "office": office,
            "occurred_at": at.isoformat(), **extra})
        return event.pk

    bf = world.s.customs
    return [
        send(bf, refs[0], 0, "discharge", "BFOUAG"),
        send(bf, refs[1], 0, "partial_discharge", "BFOUAG", amount_released=1_000_000),
        send(bf, refs[1], 1, "discharge", "BFOUAG"),
        send(bf, refs[2], 0, "arrival", "BFOUAG"),
        send(bf, refs[3], 0, "partial_discharge", "BFOUAG", amount_released=4_000_000),
        send(bf, refs[3], 1, "partial_discharge", "BFOUAG", amount_released=1_000_000),
        send(bf, refs[4], 0, "discharge", "BFOUAG"),
    ]


def _state(tag: str):
    """What the events left, with the references' tag taken out so that two runs compare."""
    def strip(text):
        return (text or "").replace(tag, "TAG")

    events = [(strip(e.message_id), e.status, e.error_code, e.attempts, e.applied_at is not None)
              for e in TransitEvent.objects.filter(declaration_ref__startswith=f"{tag}-").order_by("pk")]
    transits = [(strip(t.declaration_ref), t.status, t.arrived_at is not None, t.discharged_at is not None)
                for t in Transit.objects.filter(declaration_ref__startswith=f"{tag}-").order_by("pk")]
    holds = [(strip(h.reference), h.status, h.amount, h.closed_at is not None)
             for h in Hold.objects.filter(transit__declaration_ref__startswith=f"{tag}-").order_by("pk")]
    entries = [(e.kind, e.d_held, strip(e.reference))
               for e in LedgerEntry.objects.filter(hold__transit__declaration_ref__startswith=f"{tag}-")
               .order_by("seq")]
    enquiries = [(e.status, e.outcome) for e in Enquiry.objects.filter(transit__declaration_ref__startswith=f"{tag}-")]
    return events, transits, holds, entries, enquiries


def _run(settings, world, tag: str, *, hand_written: bool):
    settings.REGISTRY_HAND_WRITTEN_SQL = hand_written
    ids = _scenario(world, tag)
    # The task of the fourth event, two at a time: it comes first, then the oldest; then the rest, in tasks.
    assert transit_events_apply_queued(event_id=ids[3], limit=2) == EventStatus.APPLIED
    taken = set(TransitEvent.objects.filter(pk__in=ids).exclude(status=EventStatus.RECEIVED)
                .values_list("pk", flat=True))
    assert taken == {ids[3], ids[0]}
    for pk in ids:
        transit_events_apply_queued(event_id=pk, limit=2)
    return _state(tag)


@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "behind-pgbouncer"])
def test_the_hand_written_release_does_what_the_orm_does(settings, world, prepared):
    """Also with ``DB_PREPARED_STATEMENTS`` off (a pooler in transaction mode): the same statements, sent plain."""
    assert connection.vendor == "postgresql"
    settings.DB_PREPARED_STATEMENTS = prepared
    orm = _run(settings, world, "ORM", hand_written=False)
    sql = _run(settings, world, "SQL", hand_written=True)
    assert sql == orm
    events, _transits, _holds, entries, enquiries = sql
    assert [e[1] for e in events] == ["applied", "applied", "applied", "applied", "applied", "rejected", "applied"]
    assert enquiries == [(EnquiryStatus.CLOSED, "discharged")]
    assert [e[1] for e in entries].count(-1_000_000) == 1 and [e[1] for e in entries].count(-4_000_000) == 1
    assert ledger_verify(guarantees=Guarantee.objects.filter(pk=world.g.pk)) == []


@pytest.mark.parametrize("hand_written", [False, True], ids=["orm", "postgresql"])
def test_an_event_locked_by_another_transaction_is_skipped_not_waited_for(settings, world, hand_written):
    settings.REGISTRY_HAND_WRITTEN_SQL = hand_written
    ids = _scenario(world, "LOCK")
    locked, release = threading.Event(), threading.Event()

    def hold_the_first():
        try:
            with transaction.atomic():
                list(TransitEvent.objects.select_for_update().filter(pk=ids[0]))
                locked.set()
                release.wait(20)
        finally:
            connections.close_all()

    other = threading.Thread(target=hold_the_first)
    other.start()
    try:
        assert locked.wait(10)
        # Its own event is held by the other transaction: the task takes the others and leaves that one.
        assert transit_events_apply_queued(event_id=ids[0], limit=10) == EventStatus.RECEIVED
        left = set(TransitEvent.objects.filter(pk__in=ids, status=EventStatus.RECEIVED).values_list("pk", flat=True))
        assert left == {ids[0]}
    finally:
        release.set()
        other.join(20)
    assert transit_events_apply_queued(event_id=ids[0], limit=10) == EventStatus.APPLIED
