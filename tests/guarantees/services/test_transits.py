import datetime

import pytest

from tests.builders import declare_as_of

from guarantees.errors import Conflict, InsufficientBalance, InvalidDeclaration, NotAllowed
from guarantees.models import EventStatus, HoldStatus, JobStatus, TransitStatus
from guarantees.services.ledger import ledger_verify
from guarantees.services.transits import (
    discharge_file_process,
    discharge_file_receive,
    transit_declare,
)
from guarantees.services.events import transit_event_apply, transit_event_receive
from tests.builders import world as build_world
from tests.factories import CustomsFactory, country

pytestmark = pytest.mark.django_db

# Three days ago: within the corridors' time limits (a declaration past its limit is refused).
NOW = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=3)).replace(microsecond=0)
LATER = (NOW + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")  # events in files, after it


@pytest.fixture
def world():
    w = build_world(customs=("TG",))
    return w.s, w.togo, w.guarantee


def declaration(ref="TG-LOME-2026-T-004512", **over):
    data = {
        "declaration_ref": ref, "office_of_departure": "TGLOME", "office_of_destination": "BFOUAG",
        "route": ["TGCINK", "BFCINK"], "corridor": None, "declared_at": NOW, "amount": 4_500_000,
        "goods": [], "transport": {"vehicle": "BF-1234-AB"},
    }
    data.update(over)
    return data


def event(ref="TG-LOME-2026-T-004512", message_id="M-1", type="discharge", office="BFOUAG", **over):
    return {"message_id": message_id, "declaration_ref": ref, "type": type, "office": office,
            "occurred_at": (NOW + datetime.timedelta(days=2)).isoformat(), **over}


def test_declaration_takes_the_hold_with_the_corridor_deadline(world):
    s, togo, g = world
    transit, created = declare_as_of(sender=togo, guarantee=g, data=declaration(corridor="LOM-OUA", route=[]))
    g.refresh_from_db()
    assert created and g.held == 4_500_000
    assert transit.hold.amount == 4_500_000
    assert transit.deadline == NOW + datetime.timedelta(days=transit.corridor.time_limit_days)
    assert [st.office.code for st in transit.stops.order_by("position")] == ["TGLOME", "TGCINK", "BFCINK", "BFOUAG"]


def test_replay_with_same_content_takes_nothing_more_and_other_content_conflicts(world):
    s, togo, g = world
    first, _ = declare_as_of(sender=togo, guarantee=g, data=declaration())
    again, created = declare_as_of(sender=togo, guarantee=g, data=declaration())
    assert (again.pk, created) == (first.pk, False)
    g.refresh_from_db()
    assert g.held == 4_500_000
    with pytest.raises(Conflict):
        declare_as_of(sender=togo, guarantee=g, data=declaration(amount=4_500_001))


def test_without_amount_the_highest_country_total_is_held(world):
    s, togo, g = world
    goods = [{"hs_code": "100630", "description": "Riz", "customs_value": 25_000_000, "gross_mass_kg": 30000}]
    transit, _ = declare_as_of(sender=togo, guarantee=g, data=declaration(amount=None, goods=goods))
    breakdown = transit.amount_breakdown
    assert transit.amount_source == "computed"
    totals = {c: v["total"] for c, v in breakdown["breakdown"].items()}
    assert set(totals) == {"TG", "BF"}
    assert transit.amount_held == max(totals.values()) == breakdown["amount"]


def test_neither_amount_nor_goods_is_refused_and_holds_nothing(world):
    s, togo, g = world
    with pytest.raises(InvalidDeclaration) as exc:
        declare_as_of(sender=togo, guarantee=g, data=declaration(amount=None, goods=[]))
    assert "amount" in exc.value.extra["errors"]
    g.refresh_from_db()
    assert g.held == 0


def test_departure_office_of_another_country_is_not_allowed(world):
    s, togo, g = world
    with pytest.raises(NotAllowed):
        declare_as_of(sender=s.customs, guarantee=g, data=declaration())


def test_insufficient_balance_refuses_the_declaration(world):
    s, togo, g = world
    with pytest.raises(InsufficientBalance):
        declare_as_of(sender=togo, guarantee=g, data=declaration(amount=100_000_001))


def test_discharge_releases_the_hold_and_a_replay_is_a_duplicate(world):
    s, togo, g = world
    transit, _ = declare_as_of(sender=togo, guarantee=g, data=declaration())
    ev, created = transit_event_receive(sender=s.customs, data=event())
    assert created and ev.status == EventStatus.RECEIVED
    transit_event_apply(event_id=ev.pk)
    transit_event_apply(event_id=ev.pk)
    again, created = transit_event_receive(sender=s.customs, data=event())
    assert (again.pk, created) == (ev.pk, False)
    transit.refresh_from_db()
    g.refresh_from_db()
    assert transit.status == TransitStatus.DISCHARGED
    assert transit.hold.status == HoldStatus.RELEASED
    assert g.held == 0
    assert ledger_verify() == []


def test_same_message_id_with_other_content_is_a_conflict(world):
    s, togo, g = world
    declare_as_of(sender=togo, guarantee=g, data=declaration())
    transit_event_receive(sender=s.customs, data=event())
    with pytest.raises(Conflict):
        transit_event_receive(sender=s.customs, data=event(type="arrival"))


def test_event_before_its_declaration_waits_and_is_applied_when_it_comes(world, django_capture_on_commit_callbacks):
    s, togo, g = world
    ev, _ = transit_event_receive(sender=s.customs, data=event())
    assert ev.status == EventStatus.WAITING
    with django_capture_on_commit_callbacks(execute=True):
        transit, _ = declare_as_of(sender=togo, guarantee=g, data=declaration())
    ev.refresh_from_db()
    transit.refresh_from_db()
    assert ev.status == EventStatus.APPLIED
    assert transit.status == TransitStatus.DISCHARGED
    g.refresh_from_db()
    assert g.held == 0


def test_partial_discharge_lowers_the_hold(world):
    s, togo, g = world
    transit, _ = declare_as_of(sender=togo, guarantee=g, data=declaration())
    ev, _ = transit_event_receive(sender=s.customs, data=event(type="partial_discharge", amount_released=1_500_000))
    transit_event_apply(event_id=ev.pk)
    transit.refresh_from_db()
    assert transit.hold.amount == 3_000_000
    assert transit.status == TransitStatus.DECLARED
    ev2, _ = transit_event_receive(sender=s.customs, data=event(message_id="M-2"))
    transit_event_apply(event_id=ev2.pk)
    transit.refresh_from_db()
    assert (transit.hold.amount, transit.status) == (0, TransitStatus.DISCHARGED)


def test_events_never_move_a_transit_backwards(world):
    s, togo, g = world
    transit, _ = declare_as_of(sender=togo, guarantee=g, data=declaration())
    for n, kind in enumerate(["arrival", "border_entry"]):
        ev, _ = transit_event_receive(sender=s.customs, data=event(message_id=f"B-{n}", type=kind))
        transit_event_apply(event_id=ev.pk)
    transit.refresh_from_db()
    assert transit.status == TransitStatus.ARRIVED


def test_event_at_an_office_of_another_country_is_not_allowed(world):
    s, togo, g = world
    declare_as_of(sender=togo, guarantee=g, data=declaration())
    with pytest.raises(NotAllowed):
        transit_event_receive(sender=s.customs, data=event(office="TGCINK"))


def test_event_from_a_country_off_the_route_is_kept_refused(world):
    s, togo, g = world
    declare_as_of(sender=togo, guarantee=g, data=declaration())
    niger = CustomsFactory(country=country("NE"))
    stored, created = transit_event_receive(sender=niger, data=event(office="NENIAM"))
    assert created and stored.status == EventStatus.REJECTED and stored.error_code == "not_on_route"
    assert transit_event_apply(event_id=stored.pk).status == EventStatus.REJECTED  # never applied


@pytest.mark.parametrize("bad", [
    {"type": "teleport"}, {"occurred_at": "yesterday"}, {"office": "NOWHERE"}, {"message_id": ""},
    {"type": "partial_discharge"}, {"amount_released": 5},
])
def test_invalid_events_are_refused_with_the_field(world, bad):
    s, togo, g = world
    with pytest.raises(InvalidDeclaration):
        transit_event_receive(sender=s.customs, data=event(**bad))


def test_bulk_file_lists_every_bad_line_and_drops_nothing(world):
    s, togo, g = world
    for i in range(3):
        declare_as_of(sender=togo, guarantee=g, data=declaration(ref=f"T-{i}", amount=1_000))
    csv_text = (
        "message_id,declaration_ref,type,office,occurred_at,amount_released\n"
        "F-0,T-0,discharge,BFOUAG,2026-03-04T10:00:00Z,\n"
        "F-1,T-1,,BFOUAG,2026-03-04T10:00:00Z,\n"
        "F-2,T-2,discharge,NOWHERE,2026-03-04T10:00:00Z,\n"
        "F-0,T-0,discharge,BFOUAG,2026-03-04T10:00:00Z,\n"
        "F-9,UNKNOWN-REF,discharge,BFOUAG,2026-03-04T10:00:00Z,\n"
    ).replace("2026-03-04T10:00:00Z", LATER)
    job = discharge_file_receive(sender=s.customs, filename="apurements.csv", content=csv_text.encode())
    job = discharge_file_process(job_id=job.pk)
    assert job.status == JobStatus.DONE
    assert (job.total, job.done, job.duplicates, job.failed) == (5, 3, 1, 1)
    assert job.errors[0]["line"] == 3 and "office" in job.errors[0]["errors"]
    from guarantees.models import TransitEvent

    assert TransitEvent.objects.get(message_id="F-9").status == EventStatus.WAITING


def test_bulk_json_file(world):
    s, togo, g = world
    declare_as_of(sender=togo, guarantee=g, data=declaration(ref="T-J", amount=1_000))
    content = b'[{"message_id": "J-1", "declaration_ref": "T-J", "type": "discharge", "office": "BFOUAG", ' \
              b'"occurred_at": "2026-03-04T10:00:00Z"}]'
    content = content.replace(b"2026-03-04T10:00:00Z", LATER.encode())
    job = discharge_file_receive(sender=s.customs, filename="x.json", content=content)
    job = discharge_file_process(job_id=job.pk)
    assert (job.format, job.done, job.failed) == ("json", 1, 0)


def test_unreadable_file_fails_with_a_reason(world):
    s, togo, g = world
    job = discharge_file_receive(sender=s.customs, filename="x.json", content=b"[not json")
    job = discharge_file_process(job_id=job.pk)
    assert job.status == JobStatus.FAILED
    assert job.errors[0]["code"] == "parse_error"
