"""The batched path for discharge files gives what the line-by-line path gives: the same counts, the same
per-line errors, the same events, the same releases in a valid ledger; and it resumes after a crash."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from guarantees.models import DischargeFile, EventStatus, JobStatus, LedgerEntry, Transit, TransitEvent
from guarantees.services import discharge_bulk
from guarantees.services.discharge_bulk import discharge_file_process_bulk
from guarantees.services.ledger import ledger_verify
from guarantees.services.transits import discharge_file_process
from guarantees.services.events import transit_event_apply
from tests.builders import declare, transits_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    """The lean world of the background work (``tests.builders.transits_world``)."""
    return transits_world()

HEADER = "message_id,declaration_ref,type,office,occurred_at,amount_released\n"
# After the declarations (made two hours ago by ``declare``): an event dated before its declaration is refused.
AT = (timezone.now() - datetime.timedelta(hours=1)).replace(microsecond=0).isoformat()


def _file(p: str) -> bytes:
    lines = [
        f"{p}-1,{p}-T1,discharge,BFOUAG,{AT},",
        f"{p}-2,{p}-T2,partial_discharge,BFOUAG,{AT},1500000",
        f"{p}-3,{p}-T2,partial_discharge,BFOUAG,{AT},500000",
        f"{p}-4,{p}-T3,arrival,BFOUAG,{AT},",
        f"{p}-5,{p}-T3,discharge,BFOUAG,{AT},",
        f"{p}-1,{p}-T1,discharge,BFOUAG,{AT},",  # the same message again: a duplicate
        f"{p}-2,{p}-T2,partial_discharge,BFOUAG,{AT},999",  # same id, other content: a conflict
        f"{p}-6,{p}-T4,discharge,XXXXXX,{AT},",  # unknown office
        f"{p}-7,{p}-T4,discharge,TGLOME,{AT},",  # an office of another country
        f"{p}-8,{p}-T4,teleport,BFOUAG,{AT},",  # unknown type
        f"{p}-9,{p}-T4,discharge,BFOUAG,not-a-date,",
        f"{p}-10,{p}-T4,discharge,BFOUAG,{AT},12",  # an amount on a full discharge
        f"{p}-11,{p}-NOT-YET,discharge,BFOUAG,{AT},",  # its declaration has not come: waits
        f"{p}-12,{p}-T4,partial_discharge,BFOUAG,{AT},99000000",  # more than held: kept, refused when applied
    ]
    return (HEADER + "\n".join(lines) + "\n").encode()


def _world_with_transits(w, p: str):
    for n in (1, 2, 3, 4):
        declare(w, f"{p}-T{n}", amount=4_500_000)


def _outcome(job, p: str):
    job.refresh_from_db()
    errors = [(e["line"], e["code"], sorted((e.get("errors") or {}).keys())) for e in job.errors]
    events = {
        e.message_id.removeprefix(f"{p}-"): (e.type, e.status, e.error_code, e.content_hash != "")
        for e in TransitEvent.objects.filter(bulk_job=job)
    }
    transits = {
        t.declaration_ref.removeprefix(f"{p}-"): (t.status, t.hold.status, t.hold.amount)
        for t in Transit.objects.filter(declaration_ref__startswith=f"{p}-").select_related("hold")
    }
    releases = sorted(
        (entry.kind, entry.d_held) for entry in LedgerEntry.objects.filter(hold__reference__startswith=f"{p}-T")
        .exclude(kind="hold")
    )
    return (job.status, job.total, job.done, job.duplicates, job.failed), errors, events, transits, releases


def test_the_batched_path_gives_what_the_line_by_line_path_gives(world, django_capture_on_commit_callbacks):
    _world_with_transits(world, "OLD")
    _world_with_transits(world, "NEW")
    old = DischargeFile.objects.create(sender=world.burkina, filename="old.csv", format="csv", content=_file("OLD"))
    new = DischargeFile.objects.create(sender=world.burkina, filename="new.csv", format="csv", content=_file("NEW"))

    with django_capture_on_commit_callbacks(execute=True):
        discharge_file_process(job_id=old.pk)  # each event applied by its task (eager here)
    discharge_file_process_bulk(job_id=new.pk, chunk=5)  # applied in the chunk's transaction

    expected = _outcome(old, "OLD")
    assert _outcome(new, "NEW") == expected
    status, total, done, duplicates, failed = expected[0]
    assert (status, total, done, duplicates, failed) == (JobStatus.DONE, 14, 7, 1, 6)
    assert ledger_verify() == []
    # Nothing left for a task to apply: the batched path applied its events itself.
    assert not TransitEvent.objects.filter(bulk_job=new, status=EventStatus.RECEIVED).exists()
    assert TransitEvent.objects.get(message_id="NEW-11").status == EventStatus.WAITING
    # More than is held: kept, refused, and the hold untouched (it used to release everything quietly).
    too_much = TransitEvent.objects.get(message_id="NEW-12")
    assert (too_much.status, too_much.error_code) == (EventStatus.REJECTED, "above_held")
    assert Transit.objects.select_related("hold").get(declaration_ref="NEW-T4").hold.amount == 4_500_000


def test_a_second_run_of_a_done_file_changes_nothing(world):
    _world_with_transits(world, "TWICE")
    job = DischargeFile.objects.create(sender=world.burkina, filename="f.csv", format="csv", content=_file("TWICE"))
    discharge_file_process_bulk(job_id=job.pk)
    before = _outcome(job, "TWICE")
    job.status = JobStatus.RUNNING  # as if its task came again while the first run finished
    job.save(update_fields=["status"])
    discharge_file_process_bulk(job_id=job.pk)
    assert _outcome(job, "TWICE")[1:] == before[1:]


def test_a_crash_mid_file_resumes_after_the_last_committed_chunk(world, monkeypatch):
    _world_with_transits(world, "CRASH")
    job = DischargeFile.objects.create(sender=world.burkina, filename="f.csv", format="csv", content=_file("CRASH"))
    real_run = discharge_bulk._Chunk.run
    calls = {"n": 0}

    def crash_on_second(self, part, *, first):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("worker killed")  # not an error the chunk handles: the run stops here
        return real_run(self, part, first=first)

    monkeypatch.setattr(discharge_bulk._Chunk, "run", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        discharge_file_process_bulk(job_id=job.pk, chunk=4)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.done + job.duplicates + job.failed == 4

    monkeypatch.setattr(discharge_bulk._Chunk, "run", real_run)
    discharge_file_process_bulk(job_id=job.pk, chunk=4)
    _world_with_transits(world, "REF")
    ref = DischargeFile.objects.create(sender=world.burkina, filename="r.csv", format="csv", content=_file("REF"))
    discharge_file_process_bulk(job_id=ref.pk, chunk=4)
    assert _outcome(job, "CRASH") == _outcome(ref, "REF")
    assert ledger_verify() == []


def test_a_line_received_meanwhile_by_the_api_is_a_duplicate(world):
    from guarantees.services.events import transit_event_receive

    _world_with_transits(world, "RACE")
    ev, _ = transit_event_receive(sender=world.burkina, data={
        "message_id": "RACE-1", "declaration_ref": "RACE-T1", "type": "discharge", "office": "BFOUAG",
        "occurred_at": AT,
    })
    transit_event_apply(event_id=ev.pk)
    job = DischargeFile.objects.create(sender=world.burkina, filename="f.csv", format="csv", content=_file("RACE"))
    job = discharge_file_process_bulk(job_id=job.pk)
    assert (job.done, job.duplicates) == (6, 2)


def test_a_file_that_does_not_parse_fails_with_its_reason(world):
    job = DischargeFile.objects.create(sender=world.burkina, filename="f.json", format="json", content=b"[{")
    job = discharge_file_process_bulk(job_id=job.pk)
    assert job.status == JobStatus.FAILED and job.errors[0]["code"] == "parse_error"


@pytest.mark.parametrize("process", [discharge_file_process_bulk, discharge_file_process])
def test_a_deeply_nested_json_file_fails_with_parse_error_on_both_paths(world, process):
    """json raises RecursionError on a few thousand nested brackets; before, the job stayed queued."""
    nested = b"[" * 100_000 + b"]" * 100_000
    job = DischargeFile.objects.create(sender=world.burkina, filename="f.json", format="json", content=nested)
    job = process(job_id=job.pk)
    assert job.status == JobStatus.FAILED and job.errors[0]["code"] == "parse_error"
    assert job.finished_at is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_a_file_another_worker_is_processing_is_left_alone():
    w = transits_world()
    job = DischargeFile.objects.create(sender=w.burkina, filename="f.csv", format="csv", content=_file("LOCK"))
    held, release = threading.Event(), threading.Event()

    def other_worker():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [discharge_bulk._LOCK_CLASS, job.pk])
            held.set()
            release.wait(10)
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [discharge_bulk._LOCK_CLASS, job.pk])
        connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(10)
        assert discharge_file_process_bulk(job_id=job.pk).status == JobStatus.QUEUED
    finally:
        release.set()
        thread.join()
    assert discharge_file_process_bulk(job_id=job.pk).status == JobStatus.DONE
