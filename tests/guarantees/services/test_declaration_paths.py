"""A declaration is written in one statement on PostgreSQL (``_transit_write_postgresql``) and through the ORM
elsewhere (``_transit_write_orm``). Both must write the same rows: the transit (every column), its stops in
order, and the events that waited for it, attached in the order they happened.

Also: the hand-written lookups of the hot path return what the ORM would (``guarantees/sql.py``), and run as
prepared statements on PostgreSQL unless ``DB_PREPARED_STATEMENTS`` is off.
"""

import datetime

import pytest

from tests.builders import declare_as_of
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.api_keys import api_key_authenticate, api_key_create
from guarantees.api.authentication import key_by_prefix
from accounts.models import ApiKey
from guarantees.errors import Conflict, InvalidDeclaration
from guarantees.models import EventStatus, Guarantee, Transit, TransitEvent, TransitStop
from guarantees.services import events
from guarantees.services.access_codes import access_code_check, access_code_issue
from guarantees.services.ledger import ledger_verify
from guarantees.services.transits import transit_declare
from guarantees.services.events import transit_event_receive
from guarantees.sql import insert
from tests.builders import active_guarantee
from tests.builders import world as build_world

pytestmark = pytest.mark.django_db

PATHS = ["orm", pytest.param("postgresql", marks=pytest.mark.postgresql)]
# Three days ago: within the corridors' time limits (a declaration past its limit is refused).
NOW = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=3)).replace(microsecond=0)
LATER = (NOW + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")  # events in files, after it


def use_path(settings, path: str) -> None:
    """The write ``transit_declare`` takes (the ``REGISTRY_HAND_WRITTEN_SQL`` setting); the PostgreSQL path
    requires PostgreSQL (no silent fallback)."""
    if path == "postgresql":
        assert connection.vendor == "postgresql", "the postgresql path is tested on PostgreSQL only"
        settings.REGISTRY_HAND_WRITTEN_SQL = True
    else:
        settings.REGISTRY_HAND_WRITTEN_SQL = False


@pytest.fixture
def world():
    w = build_world(amount=None, customs=("TG",))
    return w.s, w.togo


def declaration(ref, **over):
    data = {
        "declaration_ref": ref, "office_of_departure": "TGLOME", "office_of_destination": "BFOUAG",
        "route": ["TGCINK", "BFCINK"], "corridor": "LOM-OUA", "declared_at": NOW, "amount": 4_500_000,
        "goods": [{"hs_code": "870323", "customs_value": 9_000_000}], "transport": {"vehicle": "BF-1234-AB"},
    }
    data.update(over)
    return data


def columns(obj) -> dict:
    """Every column of the row, non-editable ones included (unlike ``model_to_dict``)."""
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def _rows(transit: Transit) -> dict:
    stored = Transit.objects.get(pk=transit.pk)
    row = columns(stored)
    for name in ("id", "guarantee_id", "hold_id", "declaration_ref", "content_hash"):  # differ by construction
        row.pop(name)
    row["created_at"] = row["created_at"] is not None
    row["stops"] = list(
        TransitStop.objects.filter(transit=stored).order_by("position").values_list("position", "office__code",
                                                                                    "country_id", "role")
    )
    row["events"] = list(
        TransitEvent.objects.filter(transit=stored).order_by("occurred_at", "pk").values_list("message_id", "status")
    )
    return row


def _declare_after_waiting_events(s, togo, ref: str) -> tuple[Transit, list[int], bool]:
    """Two events arrive (out of order) before their declaration, then the declaration."""
    g = active_guarantee(s, amount=100_000_000)
    for message_id, kind, office, days in [("M-2", "border_entry", "BFCINK", 2), ("M-1", "border_exit", "TGCINK", 1)]:
        transit_event_receive(sender=s.customs if office.startswith("BF") else togo, data={
            "message_id": f"{ref}-{message_id}", "declaration_ref": ref, "type": kind, "office": office,
            "occurred_at": (NOW + datetime.timedelta(days=days)).isoformat(),
        })
    queued = []
    original = events._queue_apply
    events._queue_apply = lambda ids: queued.extend(ids)
    try:
        transit, created = declare_as_of(sender=togo, guarantee=g, data=declaration(ref))
    finally:
        events._queue_apply = original
    return transit, queued, created


@pytest.mark.parametrize("path", PATHS)
def test_a_declaration_writes_the_same_rows_on_either_path(world, settings, path):
    s, togo = world
    use_path(settings, path)
    transit, queued, created = _declare_after_waiting_events(s, togo, f"T-{path}")
    assert created and not transit._state.adding and transit.pk is not None
    row = _rows(transit)
    assert row["stops"] == [(0, "TGLOME", "TG", "departure"), (1, "TGCINK", "TG", "border"),
                            (2, "BFCINK", "BF", "border"), (3, "BFOUAG", "BF", "destination")]
    # the events that waited are attached in the order they happened, and queued in that order
    assert row["events"] == [(f"T-{path}-M-1", EventStatus.RECEIVED), (f"T-{path}-M-2", EventStatus.RECEIVED)]
    assert queued == list(TransitEvent.objects.filter(transit=transit).order_by("occurred_at").values_list("pk",
                                                                                                         flat=True))
    assert row["goods"] == [{"hs_code": "870323", "customs_value": 9_000_000}]
    assert row["transport"] == {"vehicle": "BF-1234-AB"}
    # the instance returned is the row
    assert columns(transit) == columns(Transit.objects.get(pk=transit.pk))
    assert transit.available_after_hold == 100_000_000 - 4_500_000
    assert ledger_verify(guarantees=Guarantee.objects.filter(pk=transit.guarantee_id)) == []


@pytest.mark.postgresql
def test_both_paths_write_identical_transits(world, settings):
    s, togo = world
    use_path(settings, "postgresql")
    fast, _queued, _created = _declare_after_waiting_events(s, togo, "T-FAST")
    use_path(settings, "orm")
    orm, _queued, _created = _declare_after_waiting_events(s, togo, "T-ORM")
    fast_row, orm_row = _rows(fast), _rows(orm)
    fast_row["events"] = [(m.replace("T-FAST", ""), st) for m, st in fast_row["events"]]
    orm_row["events"] = [(m.replace("T-ORM", ""), st) for m, st in orm_row["events"]]
    assert fast_row == orm_row


@pytest.mark.postgresql
def test_a_declaration_makes_few_round_trips_on_postgresql(world):
    s, togo = world
    g = active_guarantee(s, amount=100_000_000)
    with CaptureQueriesContext(connection) as ctx:
        declare_as_of(sender=togo, guarantee=g, data=declaration("T-COUNT"))
    statements = [q["sql"] for q in ctx.captured_queries]
    # context; BEGIN; lock; hold + entry + balance; transit + stops + waiting events; COMMIT
    assert len(statements) == 6, statements


def test_hand_written_lookups_give_what_the_orm_gives(world):
    s, togo = world
    api_key, raw = api_key_create(organisation=togo, name="SIDONIA TG")
    found = api_key_authenticate(raw, lookup=key_by_prefix)
    expected = ApiKey.objects.select_related("organisation").get(pk=api_key.pk)
    assert columns(found) == columns(expected)
    assert columns(found.organisation) == columns(expected.organisation)

    g = active_guarantee(s, amount=1_000_000)
    code = access_code_issue(guarantee=g, by=s.agent)
    checked = access_code_check(grn=g.grn, code=code.lower(), caller="test")
    assert columns(checked) == columns(Guarantee.objects.get(pk=g.pk))


@pytest.mark.postgresql
@pytest.mark.parametrize("prepared", [True, False])
def test_hot_statements_are_prepared_unless_turned_off(world, settings, prepared):
    settings.DB_PREPARED_STATEMENTS = prepared
    s, togo = world
    g = active_guarantee(s, amount=100_000_000)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # psycopg forgets its own list too
    for i in range(3):
        declare_as_of(sender=togo, guarantee=g, data=declaration(f"T-PREP-{prepared}-{i}"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    hot = [sql for sql in statements if "guarantees_transit" in sql or "guarantees_hold" in sql]
    if prepared:
        assert len(hot) >= 3, statements  # the context, the hold's two statements, the transit's write
    else:
        assert hot == [], statements


# --- Events: one query to check, one INSERT to store ---------------------------------------------------------

def _event(ref: str, message_id: str, kind: str = "border_entry", office: str = "BFCINK") -> dict:
    return {"message_id": message_id, "declaration_ref": ref, "type": kind, "office": office,
            "occurred_at": (NOW + datetime.timedelta(days=1)).isoformat()}


def test_the_hand_written_insert_writes_what_the_orm_writes(world):
    s, togo = world
    g = active_guarantee(s, amount=100_000_000)
    transit, _created = declare_as_of(sender=togo, guarantee=g, data=declaration("T-INS"))
    common = {"sender": s.customs, "declaration_ref": "T-INS", "transit": transit, "type": "border_entry",
              "office_id": transit.office_of_destination_id, "occurred_at": NOW, "payload": {"a": [1, "é"]},
              "content_hash": "x" * 64}
    fast = insert(TransitEvent(message_id="FAST", **common))
    orm = TransitEvent(message_id="ORM", **common)
    orm.save(force_insert=True)
    assert not fast._state.adding and fast.pk is not None
    stored_fast, stored_orm = (columns(TransitEvent.objects.get(pk=e.pk)) for e in (fast, orm))
    assert columns(fast) == stored_fast  # the instance is the row
    for row in (stored_fast, stored_orm):
        row.pop("id"), row.pop("message_id"), row.pop("received_at")
    assert stored_fast == stored_orm


def test_an_event_replayed_or_conflicting_reads_one_query(world):
    s, togo = world
    g = active_guarantee(s, amount=100_000_000)
    declare_as_of(sender=togo, guarantee=g, data=declaration("T-EV"))
    event, created = transit_event_receive(sender=s.customs, data=_event("T-EV", "M-1"))
    assert created and event.transit.declaration_ref == "T-EV" and event.status == EventStatus.RECEIVED
    again, created = transit_event_receive(sender=s.customs, data=_event("T-EV", "M-1"))
    assert not created and again.pk == event.pk
    with pytest.raises(Conflict):
        transit_event_receive(sender=s.customs, data=_event("T-EV", "M-1", office="BFOUAG"))
    with pytest.raises(InvalidDeclaration) as refused:
        transit_event_receive(sender=s.customs, data=_event("T-EV", "M-2", office="NOWHERE"))
    assert set(refused.value.extra["errors"]) == {"office"}


@pytest.mark.django_db(transaction=True)
def test_an_event_for_a_known_transit_outside_a_transaction_commits_by_itself(world, monkeypatch):
    s, togo = world
    g = active_guarantee(s, amount=100_000_000)
    declare_as_of(sender=togo, guarantee=g, data=declaration("T-AUTO"))
    queued = []
    monkeypatch.setattr(events, "_queue_apply", queued.extend)
    assert not connection.in_atomic_block
    event, created = transit_event_receive(sender=s.customs, data=_event("T-AUTO", "M-AUTO"))
    assert created and queued == [event.pk]
    assert TransitEvent.objects.get(pk=event.pk).status == EventStatus.RECEIVED
    # The same message again, and a concurrent duplicate lost on the unique key: a replay, nothing stored twice.
    assert transit_event_receive(sender=s.customs, data=_event("T-AUTO", "M-AUTO")) == (event, False)
    monkeypatch.setattr(events, "_context", lambda **kw: events._Context(
        office=(event.office_id, "BF"), existing=None, transit_id=event.transit_id))
    assert transit_event_receive(sender=s.customs, data=_event("T-AUTO", "M-AUTO")) == (event, False)
    assert TransitEvent.objects.filter(message_id="M-AUTO").count() == 1
