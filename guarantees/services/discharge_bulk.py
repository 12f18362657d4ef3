"""A bulk discharge file processed in batches: thousands of lines per transaction instead of one.

``discharge_file_process`` (guarantees.services.transits) receives each line as one event
(``transit_event_receive``: five queries and a broker message) and leaves each release to its own task: a few
hundred lines a second, and 100,000 tasks queued behind one file. This path gives the same result — the same
events stored with the same content hashes, the same per-line errors, the same holds released with the same
hash-chained ledger entries — for a chunk of lines at a time:

1. validate each line (``events.event_validate``, offices read once per file), find in one query each the
   messages already received, the transits named and their routes, and check each line against the rules
   (``events.event_refusal``): a refused line is stored, refused, and reported in the file's errors;
2. lock the transits, then their guarantees, then their holds (``FOR UPDATE``, in id order: the lock order of
   ``transit_event_apply``, so the two paths never deadlock each other), check the rules again and apply the
   events in file order with the one state machine (``events.event_outcome``) on the locked rows;
3. write the events, the holds, the transits, the ledger entries (built by ``ledger.ledger_entry``, as every
   path's) and the balances in a few set-based statements, and the file's counters, in the chunk's one
   transaction.

The sweep of stored events (``transit_events_apply_batch``) applies events in batches the same way.

A file is resumable: the counters commit with their chunk, so a worker that dies mid-file loses at most the
chunk in flight (rolled back) and the next run starts after the last committed chunk. A session advisory lock
per file keeps two workers from processing one file side by side.
"""

import datetime
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Case, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from guarantees import metrics
from guarantees.errors import Conflict, DomainError, InvalidDeclaration, NotAllowed
from guarantees.models import (
    WINDING_DOWN_STATUSES,
    DischargeFile,
    EventStatus,
    Guarantee,
    Hold,
    JobStatus,
    LedgerEntry,
    Office,
    Transit,
    TransitEvent,
    TransitStatus,
)
from guarantees.services.enquiries import enquiries_close_on_discharge
from guarantees.sql import hand_written_sql, hot_cursor
from guarantees.services.ledger import ENTRY_COLUMNS, ledger_entry
from guarantees.errors import HIDDEN_REFUSALS
from guarantees.services.events import (
    EventInput,
    event_content_hash,
    event_judge,
    event_refusal,
    event_refusal_shown,
    event_rules,
    event_validate,
    routes_of,
    transit_event_receive,
)
from guarantees.services.transits import FILE_DEFAULT_TYPE, _file_lines, _file_unreadable

logger = logging.getLogger(__name__)

CHUNK = 2000
_LOCK_CLASS = 0x4355  # "CU": the advisory-lock namespace of discharge files
_DEADLOCK_RETRIES = 3


def discharge_file_process_bulk(*, job_id: int, chunk: int = CHUNK) -> DischargeFile | None:
    """Process a discharge file chunk by chunk, resuming after the last committed chunk. Returns the job, or
    ``None`` when it does not exist; a job another worker is processing is returned untouched."""
    job = DischargeFile.objects.filter(pk=job_id).defer("content").first()
    if job is None or job.status == JobStatus.DONE:
        return job
    with _file_lock(job_id) as taken:
        if not taken:
            return job
        job = DischargeFile.objects.select_related("sender").get(pk=job_id)
        if job.status == JobStatus.DONE:
            return job
        try:
            lines = _file_lines(job)
        except (ValueError, UnicodeDecodeError) as exc:
            return _file_unreadable(job, exc)
        if job.status != JobStatus.RUNNING:
            job.status = JobStatus.RUNNING
            job.started_at = job.started_at or timezone.now()
            job.done = job.duplicates = job.failed = 0
            job.errors = []
        job.total = len(lines)
        job.save(update_fields=["status", "started_at", "total", "done", "duplicates", "failed", "errors"])
        offices = _Offices()
        while True:
            for attempt in range(_DEADLOCK_RETRIES + 1):
                try:
                    more = _next_chunk(job_id, lines, chunk, offices)
                    break
                except OperationalError:
                    # A deadlock with another path's lock order (PostgreSQL aborted our chunk): try it again.
                    if attempt == _DEADLOCK_RETRIES:
                        raise
                    logger.warning("discharge file %s: chunk retried after a database conflict", job_id)
            if not more:
                break
        DischargeFile.objects.filter(pk=job_id).update(status=JobStatus.DONE, finished_at=timezone.now())
    return DischargeFile.objects.defer("content").get(pk=job_id)


@contextmanager
def _file_lock(job_id: int):
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, job_id])
        taken = cursor.fetchone()[0]
    try:
        yield taken
    finally:
        if taken:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, job_id])


def _next_chunk(job_id: int, lines: list, size: int, offices: "_Offices") -> bool:
    with transaction.atomic():
        job = (DischargeFile.objects.select_for_update(of=("self",)).select_related("sender").defer("content")
               .get(pk=job_id))
        offset = job.done + job.duplicates + job.failed
        if offset >= len(lines):
            return False
        part = lines[offset:offset + size]
        try:
            with transaction.atomic():
                outcome = _Chunk(job, offices).run(part, first=offset + 1)
        except (IntegrityError, psycopg.IntegrityError):
            # A message of the chunk was received by another path in the meantime: take this chunk line by
            # line, as ``discharge_file_process`` would (each line its own savepoint).
            outcome = _one_by_one(job, part, first=offset + 1)
        job.done += outcome.done
        job.duplicates += outcome.duplicates
        job.failed += len(outcome.errors)
        job.errors = [*(job.errors or []), *outcome.errors]
        job.save(update_fields=["done", "duplicates", "failed", "errors"])
    return offset + len(part) < len(lines)


@dataclass
class _Outcome:
    done: int = 0
    duplicates: int = 0
    errors: list = field(default_factory=list)

    def error(self, number: int, exc: DomainError) -> None:
        self.errors.append({"line": number, "code": exc.code, "detail": str(exc.message), **exc.extra})


def _one_by_one(job: DischargeFile, part: list, *, first: int) -> _Outcome:
    outcome = _Outcome()
    for number, line in enumerate(part, start=first):
        try:
            event, created = transit_event_receive(sender=job.sender, data=line, api_key=job.api_key,
                                                   by=job.uploaded_by, bulk_job=job, default_type=FILE_DEFAULT_TYPE)
        except DomainError as exc:
            outcome.error(number, exc)
            continue
        refusal = event_refusal_shown(event) if created else None
        if refusal is not None:
            outcome.error(number, refusal)  # stored, refused: the sender is told as the API would tell it
        elif created:
            outcome.done += 1
        else:
            outcome.duplicates += 1
    return outcome


class _Offices:
    """Offices by code, read once per file (as ``transit_event_receive`` reads them: active or not)."""

    def __init__(self):
        self.by_code: dict[str, tuple[int, str] | None] = {}

    def load(self, codes) -> None:
        missing = {c for c in codes if c not in self.by_code}
        if not missing:
            return
        found = dict(Office.objects.filter(code__in=missing).values_list("code", "pk"))
        countries = dict(Office.objects.filter(code__in=missing).values_list("code", "country_id"))
        for code in missing:
            self.by_code[code] = (found[code], countries[code]) if code in found else None


@dataclass
class _Line:
    number: int
    event: EventInput
    digest: str


class _Chunk:
    def __init__(self, job: DischargeFile, offices: _Offices):
        self.job = job
        self.sender = job.sender
        self.offices = offices
        self.outcome = _Outcome()

    # 1. Checks, in the order of ``transit_event_receive``: the message, the office, a replay, the office's
    #    country, then the rules (a refused line is stored, refused, and reported unless it must stay hidden).
    def run(self, part: list, *, first: int) -> _Outcome:
        parsed: list[_Line] = []
        for number, line in enumerate(part, start=first):
            try:
                event = event_validate(line, default_type=FILE_DEFAULT_TYPE)
            except DomainError as exc:
                self.outcome.error(number, exc)
                continue
            parsed.append(_Line(number, event, event_content_hash(event)))
        self.offices.load(line.event.office for line in parsed)

        existing = dict(
            TransitEvent.objects.filter(sender=self.sender, message_id__in=[p.event.message_id for p in parsed])
            .values_list("message_id", "content_hash")
        )
        refs = {p.event.declaration_ref for p in parsed}
        transits = dict(Transit.objects.filter(declaration_ref__in=refs).values_list("declaration_ref", "pk"))
        routes = routes_of(transits.values())
        rules = event_rules()
        now = timezone.now()
        accepted: list[_Event] = []
        for line in parsed:
            event = line.event
            office = self.offices.by_code.get(event.office)
            try:
                if office is None:
                    raise InvalidDeclaration({"office": [_("Unknown customs office.")]})
                if event.message_id in existing:
                    if existing[event.message_id] != line.digest:
                        raise Conflict()
                    self.outcome.duplicates += 1
                    continue
                if office[1] != self.sender.country:
                    raise NotAllowed(_("The office is not one of your country's offices."))
            except DomainError as exc:
                self.outcome.error(line.number, exc)
                continue
            existing[event.message_id] = line.digest  # a second line with this id in the file is a replay
            transit_id = transits.get(event.declaration_ref)
            refusal = event_refusal(rule=rules[event.type], sender_id=self.sender.pk,
                                    sender_country=self.sender.country, office_id=office[0],
                                    office_country=office[1], occurred_at=event.occurred_at,
                                    route=routes.get(transit_id), now=now)
            if refusal is not None and refusal.reason not in HIDDEN_REFUSALS:
                self.outcome.error(line.number, refusal)
            else:
                self.outcome.done += 1
            accepted.append(_Event(
                pk=None, sender_id=self.sender.pk, sender_country=self.sender.country, message_id=event.message_id,
                declaration_ref=event.declaration_ref, transit_id=transit_id, type=event.type, office_id=office[0],
                office_country=office[1], occurred_at=event.occurred_at, amount_released=event.amount_released,
                payload=event.content(), content_hash=line.digest,
                # One whose declaration has not come waits for it; the declaration will check and queue it.
                status=(EventStatus.REJECTED if refusal else
                        EventStatus.WAITING if transit_id is None else EventStatus.RECEIVED),
                error_code=refusal.reason if refusal else "", error_detail=str(refusal.message) if refusal else "",
            ))
        self.outcome.errors.sort(key=lambda error: error["line"])  # in file order, as line by line
        if accepted:
            self._apply_and_store(accepted)
        return self.outcome

    # 2. and 3. Lock, apply in file order, write.
    def _apply_and_store(self, events: list["_Event"]) -> None:
        now = timezone.now()
        job = self.job
        _apply_events([e for e in events if e.status == EventStatus.RECEIVED], stored=False)
        _insert_rows(TransitEvent._meta.db_table, _EVENT_COLUMNS, [
            (e.sender_id, e.message_id, e.declaration_ref, e.transit_id, e.type, e.office_id, e.occurred_at,
             e.amount_released, json.dumps(e.payload), e.content_hash, e.status, e.error_code, e.error_detail,
             e.attempts, job.api_key_id, job.uploaded_by_id, job.pk, now, e.applied_at)
            for e in events
        ])


_EVENT_COLUMNS = (
    "sender_id", "message_id", "declaration_ref", "transit_id", "type", "office_id", "occurred_at", "amount_released",
    "payload", "content_hash", "status", "error_code", "error_detail", "attempts", "api_key_id",
    "received_by_user_id", "bulk_job_id", "received_at", "applied_at",
)


@dataclass(slots=True)
class _Event:
    """An event applied in a batch: a line of a file (``pk`` None, inserted after) or a stored row (the sweep).
    Carries what the rules and the state machine read, and what they decide."""

    pk: int | None
    sender_id: int
    sender_country: str
    message_id: str
    declaration_ref: str
    transit_id: int | None
    type: str
    office_id: int
    office_country: str
    occurred_at: datetime.datetime
    amount_released: int | None
    payload: dict | None
    content_hash: str
    status: str
    error_code: str = ""
    error_detail: str = ""
    attempts: int = 0
    applied_at: datetime.datetime | None = None


def _insert_rows(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert rows on Django's connection, in its transaction (constraints apply as to any INSERT): COPY on
    PostgreSQL, one prepared INSERT for all rows elsewhere (SQLite, for ``make run``)."""
    if not rows:
        return
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        with connection.connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                           [_portable(row) for row in rows])


def _portable(row: tuple) -> tuple:
    """Values as SQLite's driver takes them (datetimes as Django's SQLite backend writes them)."""
    return tuple(connection.ops.adapt_datetimefield_value(v) if isinstance(v, datetime.datetime) else v for v in row)


# --- Stored events in batches (the sweep) ---------------------------------------------------------------

def transit_events_apply_batch(*, received_before, limit: int = 200) -> int:
    """Apply up to ``limit`` stored events received before ``received_before`` and still not applied, in one
    transaction: the events are taken with ``select_for_update(skip_locked=True)`` — one a worker is applying
    right now is left to it — then their transits, guarantees and holds are locked in that order, as
    ``transit_event_apply`` does. Returns how many events were taken (0: nothing left)."""
    with transaction.atomic():
        events, received = _stored_events(TransitEvent.objects.filter(received_at__lt=received_before),
                                          order_by=["pk"], limit=limit)
        if events:
            _release_lags(received, _apply_events(events, stored=True))
    return len(events)


_STORED_EVENT_COLUMNS = ("pk", "sender_id", "sender__country", "message_id", "declaration_ref", "transit_id", "type",
                         "office_id", "office__country_id", "occurred_at", "amount_released", "content_hash",
                         "status", "attempts", "received_at")


def _stored_events(events, *, order_by, limit: int) -> tuple[list[_Event], dict[int, datetime.datetime]]:
    """The first ``limit`` (in the order ``order_by``) stored events of the queryset ``events`` still to apply
    (received, of a known transit), locked (skipping those another worker or the sweep holds): as ``_Event`` in
    the order of their ids, with when each was received. Read as plain values
    (the sender's and the office's countries joined in): this runs once per release task, where building the
    model instances and compiling their joins was a third of the worker's CPU."""
    rows = (events.select_for_update(skip_locked=True, of=("self",))
            .filter(status=EventStatus.RECEIVED, transit__isnull=False).order_by(*order_by)
            .values_list(*_STORED_EVENT_COLUMNS)[:limit])
    return _as_events(rows)


def _as_events(rows) -> tuple[list[_Event], dict[int, datetime.datetime]]:
    out, received = [], {}
    for (pk, sender_id, sender_country, message_id, declaration_ref, transit_id, type_, office_id, office_country,
         occurred_at, amount_released, content_hash, status, attempts, received_at) in rows:
        out.append(_Event(
            pk=pk, sender_id=sender_id, sender_country=sender_country, message_id=message_id,
            declaration_ref=declaration_ref, transit_id=transit_id, type=type_, office_id=office_id,
            office_country=office_country, occurred_at=occurred_at, amount_released=amount_released, payload=None,
            content_hash=content_hash, status=status, attempts=attempts,
        ))
        received[pk] = received_at
    out.sort(key=lambda event: event.pk)
    return out, received


def _stored_events_postgresql(*, event_id: int, limit: int) -> list[tuple]:
    """``_stored_events`` of a release task written out for PostgreSQL, as a prepared statement (``hot_cursor``):
    the same rows, columns and locks (``FOR UPDATE OF`` the events only, ``SKIP LOCKED``)."""
    sql = (
        "SELECT e.id, e.sender_id, o.country_id, e.message_id, e.declaration_ref, e.transit_id, e.type, e.office_id, "
        "f.country_id, e.occurred_at, e.amount_released, e.content_hash, e.status, e.attempts, e.received_at "
        f"FROM {TransitEvent._meta.db_table} e "
        f"JOIN {Organisation._meta.db_table} o ON o.id = e.sender_id "
        f"JOIN {Office._meta.db_table} f ON f.id = e.office_id "
        "WHERE e.status = %s AND e.transit_id IS NOT NULL "
        "ORDER BY e.id <> %s, e.id LIMIT %s FOR UPDATE OF e SKIP LOCKED"
    )
    with hot_cursor() as cursor:
        cursor.execute(sql, [EventStatus.RECEIVED.value, event_id, limit])
        return cursor.fetchall()


def _locked(model, columns: tuple[str, ...], ids: list[int]) -> list[tuple]:
    """``columns`` of the rows of ``model`` with these ids, locked (``FOR UPDATE``) in the order of their ids: a
    prepared statement on PostgreSQL (one shape whatever the number of ids), the ORM elsewhere."""
    if not ids:
        return []
    if hand_written_sql(connection):
        pk = model._meta.pk.column
        names = ", ".join(pk if name == "pk" else model._meta.get_field(name).column for name in columns)
        with hot_cursor() as cursor:
            cursor.execute(f"SELECT {names} FROM {model._meta.db_table} WHERE {pk} = ANY(%s) ORDER BY {pk} "
                           "FOR UPDATE", [list(ids)])
            return cursor.fetchall()
    return list(model.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list(*columns))


def _release_lags(received: dict[int, datetime.datetime], released_ids: list[int]) -> None:
    """Observe, once committed, how long each released event waited since it was stored (``metrics``)."""
    if released_ids:
        now = timezone.now()
        metrics.release_lags_committed([(now - received[pk]).total_seconds() for pk in released_ids])


def transit_events_apply_queued(*, event_id: int, limit: int) -> str | None:
    """The work of one event's task: apply the stored event ``event_id`` and, in the same transaction, up to
    ``limit - 1`` other events received and not applied yet (oldest first), whose own tasks are still queued —
    also when ``event_id`` itself was applied meanwhile. Returns the event's status afterwards (``None``: no such
    event).

    Why: applied alone, one event costs a worker about fifteen queries (event, transit, guarantee, hold, route,
    ledger head, enquiries...) plus Celery's own work on its message: 20–40 ms of a loaded core. Two worker
    processes then handle fewer messages a second than customs send discharges; the queue grows past the sweep's
    cut-off (``REGISTRY_EVENT_SWEEP_AFTER_SECONDS``) and every release waits for the sweep: 1–2 s. Here each
    message is a doorbell: the first one a worker takes applies everything stored so far in a few set-based
    statements, and the messages behind it find little or nothing left (one indexed query). Events another
    worker or the sweep holds are skipped (``skip_locked``) and every event is judged again under the locks of
    its transit, guarantee and hold (``_apply_events``), so nothing is applied twice."""
    with transaction.atomic():
        # The event itself first, then the oldest others: one statement (the event's own row sorts before all).
        if hand_written_sql(connection):
            events, received = _as_events(_stored_events_postgresql(event_id=event_id, limit=limit))
        else:
            events, received = _stored_events(
                TransitEvent.objects.all(), order_by=[Case(When(pk=event_id, then=Value(0)), default=Value(1)), "pk"],
                limit=limit)
        _release_lags(received, _apply_events(events, stored=True))
        mine = next((event.status for event in events if event.pk == event_id), None)
    if mine is not None:
        return mine
    return TransitEvent.objects.filter(pk=event_id).values_list("status", flat=True).first()


def _apply_events(events: list[_Event], *, stored: bool) -> list[int]:
    """Apply events (in their order) to their transits, locked with their guarantees and holds, and write the
    transits, holds, ledger entries and balances; ``stored`` events (locked rows) are updated too, new ones
    are left for the caller to insert with the outcome set on them. The judgement (``event_judge``: the rules and
    the state machine) is that of ``transit_event_apply``. Returns the ids of the events that released a hold."""
    if not events:
        return []
    now = timezone.now()
    transit_ids = sorted({event.transit_id for event in events})
    # Locked in the order of ``transit_event_apply``: transits, then guarantees, then holds (each by id). Only
    # the columns the rules read are loaded, into light rows: a chunk locks thousands of them.
    transits = {row[0]: _TransitRow(*row) for row in _locked(
        Transit, ("pk", "guarantee_id", "hold_id", "status", "arrived_at", "discharged_at", "cancelled_at"),
        transit_ids)}
    hold_ids = sorted(t.hold_id for t in transits.values() if t.hold_id is not None)
    guarantee_ids = sorted({t.guarantee_id for t in transits.values()})
    guarantees = {row[0]: _GuaranteeRow(*row) for row in _locked(
        Guarantee, ("pk", "status", "ledger_seq", "ledger_hash"), guarantee_ids)}
    holds = {row[0]: _HoldRow(*row) for row in _locked(
        Hold, ("pk", "guarantee_id", "reference", "status", "amount", "closed_at"), hold_ids)}
    routes = routes_of(transit_ids)
    rules = event_rules()
    changed_transits: set[int] = set()
    changed_holds: set[int] = set()
    entries: list[tuple] = []
    kinds: list[str] = []
    releasing: list[int] = []
    heads = {pk: (g.ledger_seq, g.ledger_hash) for pk, g in guarantees.items()}
    released = dict.fromkeys(guarantees, 0)

    for event in events:
        transit = transits[event.transit_id]
        hold = holds.get(transit.hold_id)
        event.attempts = (event.attempts or 0) + 1
        outcome = event_judge(event, rule=rules[event.type], sender_country=event.sender_country,
                              office_country=event.office_country, route=routes[event.transit_id],
                              transit=transit, hold=hold, now=now)
        if outcome is None:
            continue
        event.status = EventStatus.APPLIED
        event.applied_at = now
        transit.status, transit.arrived_at = outcome.transit.status, outcome.transit.arrived_at
        transit.discharged_at, transit.cancelled_at = outcome.transit.discharged_at, outcome.transit.cancelled_at
        changed_transits.add(transit.pk)
        if not outcome.release:
            continue
        hold.status, hold.amount, hold.closed_at = outcome.hold.status, outcome.hold.amount, outcome.hold.closed_at
        changed_holds.add(hold.pk)
        seq, prev = heads[hold.guarantee_id]
        entry = ledger_entry(guarantee_id=hold.guarantee_id, seq=seq + 1, prev_hash=prev, kind=outcome.kind,
                             d_held=-outcome.release, hold_id=hold.pk, reference=event.message_id or hold.reference,
                             created_at=now)
        entries.append(entry.row())
        kinds.append(entry.kind)
        releasing.append(event.pk)
        heads[hold.guarantee_id] = (seq + 1, entry.hash)
        released[hold.guarantee_id] += outcome.release

    if stored:
        _update_rows(
            TransitEvent._meta.db_table, ("status", "varchar"), ("error_code", "varchar"), ("error_detail", "text"),
            ("attempts", "smallint"), ("applied_at", "timestamptz"),
            rows=[(e.pk, e.status, e.error_code, e.error_detail, e.attempts, e.applied_at) for e in events],
        )
    _update_rows(
        Hold._meta.db_table, ("amount", "bigint"), ("status", "varchar"), ("closed_at", "timestamptz"),
        rows=[(h.pk, h.amount, h.status, h.closed_at) for h in (holds[pk] for pk in sorted(changed_holds))],
    )
    _update_rows(
        Transit._meta.db_table, ("status", "varchar"), ("arrived_at", "timestamptz"),
        ("discharged_at", "timestamptz"), ("cancelled_at", "timestamptz"),
        rows=[(t.pk, t.status, t.arrived_at, t.discharged_at, t.cancelled_at)
              for t in (transits[pk] for pk in sorted(changed_transits))],
    )
    ended = [pk for pk in sorted(changed_transits)
             if transits[pk].status in (TransitStatus.DISCHARGED, TransitStatus.CANCELLED)]
    if ended:
        enquiries_close_on_discharge(transit_ids=ended)
    if entries:
        _insert_rows(LedgerEntry._meta.db_table, ENTRY_COLUMNS, entries)
        moved = sorted(pk for pk, amount in released.items() if amount)
        _move_balances(
            [(pk, released[pk], heads[pk][0], heads[pk][1], guarantees[pk].ledger_seq, guarantees[pk].ledger_hash)
             for pk in moved],
            now,
        )
        from guarantees.services.guarantees import guarantee_close_if_settled_locked

        for pk in moved:
            if guarantees[pk].status in WINDING_DOWN_STATUSES:
                guarantee_close_if_settled_locked(Guarantee.objects.get(pk=pk))
        metrics.ledger_entries_committed(kinds)
    return releasing


@dataclass(slots=True)
class _TransitRow:
    pk: int
    guarantee_id: int
    hold_id: int | None
    status: str
    arrived_at: datetime.datetime | None
    discharged_at: datetime.datetime | None
    cancelled_at: datetime.datetime | None


@dataclass(slots=True)
class _GuaranteeRow:
    pk: int
    status: str
    ledger_seq: int
    ledger_hash: str


@dataclass(slots=True)
class _HoldRow:
    pk: int
    guarantee_id: int
    reference: str
    status: str
    amount: int
    closed_at: datetime.datetime | None


def _update_rows(table: str, *columns: tuple[str, str], rows: list[tuple]) -> None:
    """Set columns of many rows by id. On PostgreSQL one statement whatever the number of rows
    (``UPDATE ... FROM unnest(arrays)``, one array per column); elsewhere one prepared UPDATE for all rows."""
    if not rows:
        return
    names = [name for name, _type in columns]
    if connection.vendor != "postgresql":
        sets = ", ".join(f"{name} = %s" for name in names)
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {sets} WHERE id = %s",
                               [_portable((*row[1:], row[0])) for row in rows])
        return
    arrays = ", ".join(["%s::bigint[]", *(f"%s::{sql_type}[]" for _name, sql_type in columns)])
    sets = ", ".join(f"{name} = v.{name}" for name in names)
    sql = f"UPDATE {table} AS t SET {sets} FROM unnest({arrays}) AS v(id, {', '.join(names)}) WHERE t.id = v.id"
    with hot_cursor() as cursor:  # prepared: one shape per table whatever the number of rows
        cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])


def _move_balances(rows: list[tuple], now) -> None:
    """Lower ``held`` and move the chain head of each guarantee, guarded on the head read under the lock."""
    if not rows:
        return
    table = Guarantee._meta.db_table
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            for pk, released, seq, head, prev_seq, prev_head in rows:
                cursor.execute(
                    f"UPDATE {table} SET held = held - %s, ledger_seq = %s, ledger_hash = %s, updated_at = %s "
                    "WHERE id = %s AND ledger_seq = %s AND ledger_hash = %s",
                    _portable((released, seq, head, now, pk, prev_seq, prev_head)),
                )
                if cursor.rowcount != 1:
                    raise RuntimeError("a guarantee changed under its row lock; the chunk is rolled back")
        return
    placeholder = "(%s::bigint, %s::bigint, %s::integer, %s::varchar, %s::integer, %s::varchar)"
    sql = (
        f"UPDATE {table} AS g SET held = g.held - v.released, ledger_seq = v.seq, ledger_hash = v.hash, "
        f"updated_at = %s FROM (VALUES {', '.join([placeholder] * len(rows))}) "
        "AS v(id, released, seq, hash, prev_seq, prev_hash) "
        "WHERE g.id = v.id AND g.ledger_seq = v.prev_seq AND g.ledger_hash = v.prev_hash"
    )
    with hot_cursor() as cursor:
        cursor.execute(sql, [now, *[value for row in rows for value in row]])
        if cursor.rowcount != len(rows):
            raise RuntimeError("a guarantee changed under its row lock; the chunk is rolled back")
