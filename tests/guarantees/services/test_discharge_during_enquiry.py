"""A discharge (or a cancellation) reported by a customs system while an enquiry is open closes the enquiry:
the proof the principal was asked for came by itself. Both paths of events: one at a time (the API's task) and
a discharge file in batches. The principal, the bank and the customs who opened it are told; a claim can no
longer be issued."""

import datetime

import pytest
from django.utils import timezone

from guarantees.errors import DomainError
from guarantees.models import (
    CaseAction,
    CaseEvent,
    EnquiryOutcome,
    EnquiryStatus,
    EventStatus,
    HoldStatus,
    Notification,
    TransitStatus,
)
from guarantees.services.claims import claim_issue
from guarantees.services.discharge_bulk import discharge_file_process_bulk
from guarantees.services.ledger import ledger_verify
from guarantees.services.transits import discharge_file_receive
from guarantees.services.events import transit_event_apply, transit_event_receive
from tests.builders import balances


def _event(ref: str, kind: str = "discharge") -> dict:
    return {"message_id": f"{ref}-{kind}", "declaration_ref": ref, "type": kind, "office": "BFOUAG",
            "occurred_at": (timezone.now() - datetime.timedelta(hours=1)).isoformat()}


def _closed_and_told(world, enquiry, outcome) -> None:
    enquiry.refresh_from_db()
    assert (enquiry.status, enquiry.outcome) == (EnquiryStatus.CLOSED, outcome)
    assert CaseEvent.objects.filter(enquiry=enquiry, action=CaseAction.ENQUIRY_CLOSED).count() == 1
    told = set(Notification.objects.filter(event="enquiry_closed_by_discharge").values_list(
        "recipient__memberships__organisation_id", flat=True))
    assert {world.s.forwarder.pk, world.s.bank.organisation.pk, world.s.customs.pk} <= told


@pytest.mark.parametrize("kind, outcome, status", [
    ("discharge", EnquiryOutcome.DISCHARGED, TransitStatus.DISCHARGED),
    ("cancellation", EnquiryOutcome.RELEASED, TransitStatus.CANCELLED),
])
def test_an_event_ending_the_transit_closes_its_enquiry(world, kind, outcome, status):
    transit, enquiry = world.noticed("T-ENQ-1")
    event, _created = transit_event_receive(sender=world.s.customs if kind == "discharge" else world.togo,
                                            data={**_event("T-ENQ-1", kind),
                                                  "office": "BFOUAG" if kind == "discharge" else "TGLOME"})
    transit_event_apply(event_id=event.pk)
    transit.refresh_from_db()
    assert transit.status == status and transit.hold.status == HoldStatus.RELEASED
    _closed_and_told(world, enquiry, outcome)
    assert balances(world.g) == (100_000_000, 0, 0, 0)
    # Nothing can be claimed on it any more.
    with pytest.raises(DomainError):
        claim_issue(transit=transit, by=world.s.supervisor, amount=1_000, grounds="Non apuré")
    # The same event again changes nothing.
    transit_event_apply(event_id=event.pk)
    assert CaseEvent.objects.filter(enquiry=enquiry, action=CaseAction.ENQUIRY_CLOSED).count() == 1
    assert ledger_verify() == []


def test_a_discharge_file_closes_the_enquiries_of_the_transits_it_discharges(world):
    under_enquiry, enquiry = world.noticed("T-ENQ-F1")
    other, other_enquiry = world.noticed("T-ENQ-F2")
    plain = world.declare("T-ENQ-F3")
    lines = "message_id,declaration_ref,type,office,occurred_at\n" + "".join(
        f"F-{ref},{ref},discharge,BFOUAG,{(timezone.now() - datetime.timedelta(hours=1)).isoformat()}\n"
        for ref in ("T-ENQ-F1", "T-ENQ-F3")
    )
    job = discharge_file_receive(sender=world.s.customs, filename="apurements.csv", content=lines.encode())
    discharge_file_process_bulk(job_id=job.pk)
    for transit in (under_enquiry, plain):
        transit.refresh_from_db()
        assert transit.status == TransitStatus.DISCHARGED
    _closed_and_told(world, enquiry, EnquiryOutcome.DISCHARGED)
    other_enquiry.refresh_from_db()
    assert other_enquiry.status != EnquiryStatus.CLOSED  # not in the file: still open
    assert ledger_verify() == []


def test_a_border_event_leaves_the_enquiry_open(world):
    transit, enquiry = world.noticed("T-ENQ-B")
    event, _created = transit_event_receive(sender=world.s.customs, data={**_event("T-ENQ-B", "border_entry"),
                                                                          "office": "BFCINK"})
    transit_event_apply(event_id=event.pk)
    event.refresh_from_db()
    enquiry.refresh_from_db()
    assert event.status == EventStatus.APPLIED and enquiry.status != EnquiryStatus.CLOSED
