"""Releases with the real Redis and a real Celery worker process, started by each test.

The test process queues to Redis (``broker``); the worker runs on the test database, so these tests commit
(``transaction=True``). Every wait polls with a timeout, and every worker is killed when the test ends.
"""

import os
import random
import signal
import time
from pathlib import Path

import pytest
from django.db.models import Count
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create
from benchmarks.holds import create_guarantees
from benchmarks.releases import celery_broker, create_open_transits, discharge
from benchmarks.releases import world as bench_world
from guarantees.models import (
    EntryKind,
    EventStatus,
    Guarantee,
    Hold,
    HoldStatus,
    LedgerEntry,
    TaskFailure,
    Transit,
    TransitEvent,
)
from guarantees.services.ledger import ledger_verify
from guarantees.services.transits import transit_declare
from guarantees.services.events import transit_event_receive
from tests.builders import declaration, event, transits_world
from tests.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]

# The sweep runs every second in these workers and applies what is still not applied after two.
FAST_SWEEP = {"REGISTRY_SWEEP_EVENTS_EVERY_SECONDS": "1", "REGISTRY_EVENT_SWEEP_AFTER_SECONDS": "2"}


def _open_transits(count: int, *, guarantees: int = 4):
    ids = create_guarantees("wt", guarantees)
    return ids, create_open_transits(run="wt", guarantee_ids=ids, count=count)


def _assert_released_exactly_once(guarantee_ids, transits):
    hold_ids = [hold for _t, _r, hold in transits]
    assert Hold.objects.filter(pk__in=hold_ids, status=HoldStatus.RELEASED).count() == len(hold_ids)
    per_hold = dict(
        LedgerEntry.objects.filter(hold_id__in=hold_ids, kind=EntryKind.RELEASE).values("hold_id")
        .annotate(n=Count("id")).values_list("hold_id", "n")
    )
    assert set(per_hold.values()) == {1} and len(per_hold) == len(hold_ids)
    assert sum(Guarantee.objects.filter(pk__in=guarantee_ids).values_list("held", flat=True)) == 0
    assert ledger_verify(guarantees=Guarantee.objects.filter(pk__in=guarantee_ids)) == []


def test_a_discharge_through_the_api_releases_the_hold_within_seconds(broker, start_worker):
    w = transits_world()
    transit = transit_declare(sender=w.togo, guarantee=w.guarantee, data=declaration("API-1"))[0]
    _key, raw = api_key_create(organisation=w.burkina, name="SIDONIA BF")
    start_worker(broker, pool="solo", concurrency=1)  # no beat: only the task queued after the commit releases
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")

    started = time.monotonic()
    body = event("API-1", "BF-API-1")
    del body["declaration_ref"]
    response = client.post("/api/v1/transits/API-1/events", body, format="json")
    assert response.status_code == 202, response.content
    wait_until(lambda: Hold.objects.get(pk=transit.hold_id).status == HoldStatus.RELEASED, timeout=10,
               message="the hold was not released")
    assert time.monotonic() - started < 5
    w.guarantee.refresh_from_db()
    assert w.guarantee.held == 0
    assert Transit.objects.get(pk=transit.pk).status == "discharged"


def _run_items(w, tag: str):
    """One run: 8 transits and their events (border, arrival, partial and full discharges, a cancellation),
    as (kind, payload) items in the order a well-behaved world would send them."""
    items = []
    at = timezone.now().replace(microsecond=0)
    for i in range(8):
        ref = f"{tag}-{i}"
        items.append(("declare", ref, declaration(ref, amount=1_000_000 + i * 1000, declared_at=at)))
        steps = [("border_exit", "TGCINK", None), ("border_entry", "BFCINK", None), ("arrival", "BFOUAG", None)]
        if i % 4 == 0:
            steps += [("discharge", "BFOUAG", None)]
        elif i % 4 == 1:
            steps += [("partial_discharge", "BFOUAG", 300_000), ("partial_discharge", "BFOUAG", 200_000)]
        elif i % 4 == 2:
            steps += [("partial_discharge", "BFOUAG", 400_000), ("discharge", "BFOUAG", None)]
        else:
            steps = [("cancellation", "TGLOME", None)]
        for n, (kind, office, amount) in enumerate(steps):
            extra = {"amount_released": amount} if amount else {}
            items.append(("event", office[:2], event(ref, f"{tag}-{i}-{n}", type=kind, office=office, at=at, **extra)))
    return items


def _send(w, items):
    senders = {"TG": w.togo, "BF": w.burkina}
    for kind, key, payload in items:
        if kind == "declare":
            transit_declare(sender=w.togo, guarantee=w.guarantee, data=payload)
        else:
            transit_event_receive(sender=senders[key], data=payload)


def _state(w, tag: str):
    transits = Transit.objects.filter(declaration_ref__startswith=f"{tag}-").select_related("hold")
    w.guarantee.refresh_from_db()
    return (
        {t.declaration_ref.split("-", 1)[1]: (t.status, t.hold.status, t.hold.amount) for t in transits},
        (w.guarantee.held, w.guarantee.available),
    )


def test_every_event_sent_twice_and_shuffled_gives_the_same_balances_as_once_in_order(broker, start_worker):
    in_order = transits_world()
    shuffled = transits_world()
    start_worker(broker, pool="prefork", concurrency=2)

    _send(in_order, _run_items(in_order, "ORD"))
    twice = _run_items(shuffled, "SHF") * 2
    random.Random(20260302).shuffle(twice)
    _send(shuffled, twice)

    def settled():
        pending = TransitEvent.objects.filter(status__in=[EventStatus.RECEIVED, EventStatus.WAITING]).count()
        return pending == 0
    wait_until(settled, timeout=20, message="events still pending")

    expected, balances = _state(in_order, "ORD")
    assert _state(shuffled, "SHF") == (expected, balances)
    assert balances[0] == (1_001_000 - 500_000) + (1_005_000 - 500_000)  # what the two partly discharged hold
    assert TransitEvent.objects.filter(status=EventStatus.REJECTED).count() == 0
    assert ledger_verify() == []


def test_a_worker_killed_mid_batch_then_restarted_applies_every_release_exactly_once(broker, start_worker):
    guarantee_ids, transits = _open_transits(300)
    places = bench_world(run="wt")
    sender = places["customs"]["BF"]
    worker = start_worker(broker, pool="prefork", concurrency=2, beat=True, env=FAST_SWEEP)

    for _t, ref, _h in transits:
        transit_event_receive(sender=sender, data=discharge(ref, message_id=f"KILL-{ref}"))
    hold_ids = [h for _t, _r, h in transits]

    def released():
        return Hold.objects.filter(pk__in=hold_ids, status=HoldStatus.RELEASED).count()
    wait_until(lambda: released() >= 30, timeout=20, interval=0.01, message="the worker applied nothing")
    worker.kill()
    at_kill = released()
    assert 0 < at_kill < len(hold_ids), "the kill did not land in the middle of the batch"

    worker.start()
    wait_until(lambda: released() == len(hold_ids), timeout=25, interval=0.2,
               message="releases lost after the restart")
    _assert_released_exactly_once(guarantee_ids, transits)
    # The transaction a SIGKILL cut short left nothing: each event was applied by exactly one attempt.
    assert set(TransitEvent.objects.filter(message_id__startswith="KILL-").values_list("status", "attempts")) == {
        (EventStatus.APPLIED, 1)
    }


def test_with_the_broker_stopped_the_sweeper_applies_every_stored_event_once_it_is_back(own_redis, start_worker):
    guarantee_ids, transits = _open_transits(40)
    sender = bench_world(run="wt")["customs"]["BF"]
    with celery_broker(own_redis.url, publish_retries=0):
        start_worker(own_redis.url, pool="solo", concurrency=1, beat=True, env=FAST_SWEEP)
        own_redis.stop()
        for _t, ref, _h in transits:  # accepted and stored; queuing them fails (logged, not raised)
            event_, created = transit_event_receive(sender=sender, data=discharge(ref, message_id=f"DOWN-{ref}"))
            assert created and event_.status == EventStatus.RECEIVED
        hold_ids = [h for _t, _r, h in transits]
        assert Hold.objects.filter(pk__in=hold_ids, status=HoldStatus.HELD).count() == len(hold_ids)

        own_redis.start()  # empty: every message sent while it was down is lost
        wait_until(
            lambda: Hold.objects.filter(pk__in=hold_ids, status=HoldStatus.RELEASED).count() == len(hold_ids),
            timeout=25, interval=0.2, message="stored events not applied after the broker came back",
        )
    _assert_released_exactly_once(guarantee_ids, transits)


def test_a_pool_process_killed_mid_task_gives_its_message_back(broker, start_worker):
    """SIGKILL to the process running a task (not the whole worker): the message is rejected back to the queue
    (acks_late + reject_on_worker_lost) and applied by the next process, without the sweep."""
    guarantee_ids, transits = _open_transits(150)
    sender = bench_world(run="wt")["customs"]["BF"]
    worker = start_worker(broker, pool="prefork", concurrency=2)
    for _t, ref, _h in transits:
        transit_event_receive(sender=sender, data=discharge(ref, message_id=f"CHILD-{ref}"))
    hold_ids = [h for _t, _r, h in transits]

    def released():
        return Hold.objects.filter(pk__in=hold_ids, status=HoldStatus.RELEASED).count()
    wait_until(lambda: released() >= 20, timeout=20, interval=0.01, message="the worker applied nothing")
    children = _children(worker.proc.pid)
    assert children, "no pool process found"
    os.kill(children[0], signal.SIGKILL)

    # A bound, not a speed: a lost message never comes back (no sweep runs here), while the pool's replacement
    # process can take many seconds to start on a busy machine.
    wait_until(lambda: released() == len(hold_ids), timeout=90, interval=0.2,
               message="a release was lost with its pool process")
    _assert_released_exactly_once(guarantee_ids, transits)


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (read from /proc: no psutil needed)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def test_a_task_that_fails_in_the_worker_is_recorded_for_the_secretariat(broker, start_worker):
    w = transits_world()
    start_worker(broker, pool="solo", concurrency=1)
    from guarantees.tasks import apply_transit_event

    apply_transit_event.delay("not-an-id")  # fails at once (no automatic retry for a bad argument)
    failure = wait_until(lambda: TaskFailure.objects.filter(task_name="guarantees.tasks.apply_transit_event").first(),
                         timeout=15, message="the failure was not recorded")
    assert failure.args == ["not-an-id"] and failure.exception == "ValueError"
    assert "Traceback" in failure.traceback and not failure.resolved
    # The secretariat is told (in the site; the e-mail follows through the same worker).
    # (Only this task's notice is counted: the activation in transits_world also queues certificate rendering,
    # which this bare worker, without the tests' signing key, may fail and report too.)
    told = w.secretariat.notifications.filter(event="task_failed", params__task="guarantees.tasks.apply_transit_event")
    assert told.count() == 1


def _worker_sessions() -> set[tuple[int, object]]:
    """The PostgreSQL sessions on the test database other than this test's own: (process id, start time)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid, backend_start FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        return set(cursor.fetchall())


def test_a_worker_keeps_its_database_session_across_tasks_and_replaces_a_broken_one(broker, start_worker):
    """Celery's Django fixup would close every connection around every task: a new PostgreSQL session per release
    (half of the database's CPU in the soak). The worker keeps one as the web does (CONN_MAX_AGE), and a session
    killed under it costs a retry, not a release."""
    guarantee_ids, transits = _open_transits(10, guarantees=2)
    sender = bench_world(run="wt")["customs"]["BF"]
    # No beat (only the releases touch the database); connections kept for a minute, as in production.
    start_worker(broker, pool="solo", concurrency=1, env={"DB_CONN_MAX_AGE": "60"})
    hold_of = {ref: hold for _t, ref, hold in transits}

    def release(ref: str, timeout: float = 15) -> None:
        transit_event_receive(sender=sender, data=discharge(ref, message_id=f"SESSION-{ref}"))
        wait_until(lambda: Hold.objects.get(pk=hold_of[ref]).status == HoldStatus.RELEASED, timeout=timeout,
                   interval=0.02, message=f"{ref} was not released")

    refs = list(hold_of)
    release(refs[0])
    first = _worker_sessions()
    assert len(first) == 1, first
    for ref in refs[1:8]:
        release(ref)
        assert _worker_sessions() == first, "the worker opened a new database session for a task"

    # Its session killed (a PostgreSQL restart, a failover, an idle timeout): the next release still happens.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [next(iter(first))[0]])
    release(refs[8], timeout=30)
    release(refs[9])
    after = _worker_sessions()
    assert len(after) == 1 and after != first
    _assert_released_exactly_once(guarantee_ids, transits)
