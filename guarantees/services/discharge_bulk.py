"""A bulk discharge file processed in batches: thousands of lines per transaction instead of one.

``discharge_file_process`` (guarantees.services.transits) receives each line as one event
(``transit_event_receive``: five queries and a broker message) and leaves each release to its own task: a few
hundred lines a second, and 100,000 tasks queued behind one file. This path gives the same result — the same
events stored with the same content hashes, the same per-line errors, the same holds released with the same
hash-chained ledger entries — for a chunk of lines at a time:

1. validate the chunk in Python (offices read once), find in one query each the messages already received,
   the transits named and whether their route crosses the sender's country;
2. lock the transits, then their guarantees, then their holds (``FOR UPDATE``, in id order: the lock order of
   ``transit_event_apply``, so the two paths never deadlock each other), apply the events in file order on
   the locked rows exactly as ``transit_event_apply`` would;
3. write the events (already applied), the holds, the transits, the ledger entries and the balances in a few
   set-based statements, and the file's counters, in the chunk's one transaction.

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
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from guarantees.errors import Conflict, DomainError, InvalidDeclaration, NotAllowed, NotFound
from guarantees.models import (
    WINDING_DOWN_STATUSES,
    DischargeFile,
    EntryKind,
    EventStatus,
    EventType,
    Guarantee,
    Hold,
    HoldStatus,
    JobStatus,
    LedgerEntry,
    Office,
    Transit,
    TransitEvent,
    TransitStatus,
    TransitStop,
)
from guarantees.services.enquiries import enquiries_close_on_discharge
from guarantees.services.ledger import entry_hash
from guarantees.services.transits import _file_lines, _file_unreadable, content_hash, transit_event_receive

logger = logging.getLogger(__name__)

CHUNK = 2000
_LOCK_CLASS = 0x4355  # "CU": the advisory-lock namespace of discharge files
_PROGRESS = {TransitStatus.DECLARED: 0, TransitStatus.IN_TRANSIT: 1, TransitStatus.OVERDUE: 1,
             TransitStatus.ARRIVED: 2}
_CLOSED = (TransitStatus.DISCHARGED, TransitStatus.CANCELLED, TransitStatus.SETTLED)
_RELEASING = (EventType.DISCHARGE, EventType.PARTIAL_DISCHARGE, EventType.CANCELLATION)
_DEADLOCK_RETRIES = 3
_EVENT_TYPES = frozenset(EventType.values)


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
        job = DischargeFile.objects.select_for_update().select_related("sender").defer("content").get(pk=job_id)
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
            if not isinstance(line, dict):
                raise InvalidDeclaration({"line": [_("Each line must be an object.")]})
            _, created = transit_event_receive(sender=job.sender, data=line, api_key=job.api_key,
                                               by=job.uploaded_by, bulk_job=job)
        except DomainError as exc:
            outcome.error(number, exc)
        else:
            if created:
                outcome.done += 1
            else:
                outcome.duplicates += 1
    return outcome


class _Offices:
    """Offices by code, read once per file (as ``transit_event_receive`` reads them: active or not)."""

    def __init__(self):
        self.by_code: dict[str, Office | None] = {}

    def load(self, codes) -> None:
        missing = {c for c in codes if c not in self.by_code}
        if not missing:
            return
        found = {o.code: o for o in Office.objects.filter(code__in=missing)}
        for code in missing:
            self.by_code[code] = found.get(code)


@dataclass
class _Line:
    number: int
    clean: dict
    digest: str
    transit_id: int | None = None


class _Chunk:
    def __init__(self, job: DischargeFile, offices: _Offices):
        self.job = job
        self.sender = job.sender
        self.offices = offices
        self.outcome = _Outcome()

    # 1. Validation, in the order of ``transit_event_receive``: the message, a replay, the office, the route.
    def run(self, part: list, *, first: int) -> _Outcome:
        self.offices.load(
            str(line.get("office") or "").upper() for line in part if isinstance(line, dict)
        )
        parsed: list[_Line] = []
        for number, line in enumerate(part, start=first):
            try:
                clean = self._parse(line)
            except DomainError as exc:
                self.outcome.error(number, exc)
                continue
            digest = content_hash({k: (v.code if k == "office" else v) for k, v in clean.items()})
            parsed.append(_Line(number, clean, digest))

        existing = dict(
            TransitEvent.objects.filter(sender=self.sender, message_id__in=[p.clean["message_id"] for p in parsed])
            .values_list("message_id", "content_hash")
        )
        refs = {p.clean["declaration_ref"] for p in parsed}
        transits = dict(Transit.objects.filter(declaration_ref__in=refs).values_list("declaration_ref", "pk"))
        on_route = set(
            TransitStop.objects.filter(transit_id__in=transits.values(), country_id=self.sender.country_id)
            .values_list("transit_id", flat=True)
        )
        accepted: list[_Line] = []
        for line in parsed:
            message_id = line.clean["message_id"]
            try:
                if message_id in existing:
                    if existing[message_id] != line.digest:
                        raise Conflict()
                    self.outcome.duplicates += 1
                    continue
                if line.clean["office"].country_id != self.sender.country_id:
                    raise NotAllowed(_("The office is not one of your country's offices."))
                transit_id = transits.get(line.clean["declaration_ref"])
                if transit_id is not None and transit_id not in on_route:
                    raise NotFound()
            except DomainError as exc:
                self.outcome.error(line.number, exc)
                continue
            existing[message_id] = line.digest  # a second line with this id in the file is a replay
            line.transit_id = transit_id
            accepted.append(line)
        self.outcome.done = len(accepted)
        self.outcome.errors.sort(key=lambda error: error["line"])  # in file order, as line by line
        if accepted:
            self._apply_and_store(accepted)
        return self.outcome

    def _parse(self, data) -> dict:
        """``transits._parse_event``, with the offices read once per file."""
        if not isinstance(data, dict):
            raise InvalidDeclaration({"line": [_("Each line must be an object.")]})
        errors: dict[str, list] = {}
        message_id = str(data.get("message_id") or "").strip()
        if not message_id or len(message_id) > 100:
            errors["message_id"] = [_("A message id of 1 to 100 characters is required.")]
        ref = str(data.get("declaration_ref") or "").strip()
        if not ref or len(ref) > 64:
            errors["declaration_ref"] = [_("A declaration reference of 1 to 64 characters is required.")]
        event_type = data.get("type")
        if event_type not in _EVENT_TYPES:
            errors["type"] = [_("Unknown event type.")]
        occurred_at = data.get("occurred_at")
        if isinstance(occurred_at, str):
            try:
                occurred_at = parse_datetime(occurred_at)
            except ValueError:
                occurred_at = None
        if not isinstance(occurred_at, datetime.datetime) or timezone.is_naive(occurred_at):
            errors["occurred_at"] = [_("A date and time with its time zone is required.")]
        amount = data.get("amount_released")
        if event_type == EventType.PARTIAL_DISCHARGE:
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                errors["amount_released"] = [_("A partial discharge needs the amount released, in whole francs.")]
        elif amount is not None:
            errors["amount_released"] = [_("Only a partial discharge carries an amount released.")]
        office = self.offices.by_code.get(str(data.get("office") or "").upper())
        if office is None:
            errors["office"] = [_("Unknown customs office.")]
        if errors:
            raise InvalidDeclaration(errors)
        return {"message_id": message_id, "declaration_ref": ref, "type": event_type, "office": office,
                "occurred_at": occurred_at, "amount_released": amount}

    # 2. and 3. Lock, apply in file order, write.
    def _apply_and_store(self, lines: list[_Line]) -> None:
        now = timezone.now()
        job = self.job
        events = []
        for line in lines:
            clean = line.clean
            events.append(_NewEvent(
                message_id=clean["message_id"], declaration_ref=clean["declaration_ref"], transit_id=line.transit_id,
                type=clean["type"], office_id=clean["office"].pk, occurred_at=clean["occurred_at"],
                amount_released=clean["amount_released"],
                payload={k: (v.code if k == "office" else v.isoformat() if k == "occurred_at" else v)
                         for k, v in clean.items()},
                content_hash=line.digest,
                # One whose declaration has not come waits for it; the declaration will queue it.
                status=EventStatus.WAITING if line.transit_id is None else EventStatus.RECEIVED,
            ))
        _apply_events([e for e in events if e.status == EventStatus.RECEIVED], stored=False)
        _copy_rows(TransitEvent._meta.db_table, _EVENT_COLUMNS, [
            (self.sender.pk, e.message_id, e.declaration_ref, e.transit_id, e.type, e.office_id, e.occurred_at,
             e.amount_released, json.dumps(e.payload), e.content_hash, e.status, e.error_code, e.error_detail,
             e.attempts, job.api_key_id, job.uploaded_by_id, job.pk, now, e.applied_at)
            for e in events
        ])


_EVENT_COLUMNS = (
    "sender_id", "message_id", "declaration_ref", "transit_id", "type", "office_id", "occurred_at", "amount_released",
    "payload", "content_hash", "status", "error_code", "error_detail", "attempts", "api_key_id",
    "received_by_user_id", "bulk_job_id", "received_at", "applied_at",
)
_ENTRY_COLUMNS = (
    "guarantee_id", "seq", "kind", "d_amount", "d_held", "d_claimed", "d_paid", "hold_id", "reference",
    "created_by_id", "created_at", "prev_hash", "hash",
)


@dataclass(slots=True)
class _NewEvent:
    """An event of a file before it is written: what ``_apply`` reads, and what it decides."""

    message_id: str
    declaration_ref: str
    transit_id: int | None
    type: str
    office_id: int
    occurred_at: datetime.datetime
    amount_released: int | None
    payload: dict
    content_hash: str
    status: str
    error_code: str = ""
    error_detail: str = ""
    attempts: int = 0
    applied_at: datetime.datetime | None = None


def _copy_rows(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert rows with COPY, on Django's connection and in its transaction (constraints apply as to INSERT)."""
    if not rows:
        return
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


# --- Stored events in batches (the sweep) ---------------------------------------------------------------

def transit_events_apply_batch(*, received_before, limit: int = 200) -> int:
    """Apply up to ``limit`` stored events received before ``received_before`` and still not applied, in one
    transaction: the events are taken with ``select_for_update(skip_locked=True)`` — one a worker is applying
    right now is left to it — then their transits, guarantees and holds are locked in that order, as
    ``transit_event_apply`` does. Returns how many events were taken (0: nothing left)."""
    with transaction.atomic():
        events = list(
            TransitEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=EventStatus.RECEIVED, transit__isnull=False, received_at__lt=received_before)
            .order_by("pk")[:limit]
        )
        if events:
            _apply_events(events, stored=True)
    return len(events)


def _apply_events(events: list, *, stored: bool) -> None:
    """Apply events (in their order) to their transits, locked with their guarantees and holds, and write the
    transits, holds, ledger entries and balances; ``stored`` events (locked rows) are updated too, new ones
    are left for the caller to insert with the outcome set on them."""
    if not events:
        return
    now = timezone.now()
    transit_ids = sorted({event.transit_id for event in events})
    # Locked in the order of ``transit_event_apply``: transits, then guarantees, then holds (each by id). Only
    # the columns the rules read are loaded, into light rows: a chunk locks thousands of them.
    transits = {
        row[0]: _TransitRow(*row) for row in Transit.objects.select_for_update().filter(pk__in=transit_ids)
        .order_by("pk").values_list("pk", "guarantee_id", "hold_id", "status", "arrived_at", "discharged_at",
                                    "cancelled_at")
    }
    hold_ids = sorted(t.hold_id for t in transits.values() if t.hold_id is not None)
    guarantee_ids = sorted({t.guarantee_id for t in transits.values()})
    guarantees = {g.pk: g for g in Guarantee.objects.select_for_update().filter(pk__in=guarantee_ids).order_by("pk")
                  .only("pk", "status", "ledger_seq", "ledger_hash")}
    holds = {
        row[0]: _HoldRow(*row) for row in Hold.objects.select_for_update().filter(pk__in=hold_ids).order_by("pk")
        .values_list("pk", "guarantee_id", "reference", "status", "amount", "closed_at")
    }
    changed_transits: set[int] = set()
    changed_holds: set[int] = set()
    entries: list[tuple] = []
    heads = {pk: (g.ledger_seq, g.ledger_hash) for pk, g in guarantees.items()}
    released = dict.fromkeys(guarantees, 0)

    for event in events:
        transit = transits[event.transit_id]
        event.attempts = (event.attempts or 0) + 1
        try:
            movement = _apply(transit, holds.get(transit.hold_id), event, now)
        except DomainError as exc:
            event.status = EventStatus.REJECTED
            event.error_code = exc.code
            event.error_detail = str(exc.message)
            continue
        event.status = EventStatus.APPLIED
        event.applied_at = now
        changed_transits.add(transit.pk)
        if movement is None:
            continue
        hold, release, partial = movement
        changed_holds.add(hold.pk)
        seq, prev = heads[hold.guarantee_id]
        kind = EntryKind.PARTIAL_RELEASE if partial else EntryKind.RELEASE
        reference = event.message_id or hold.reference
        digest = entry_hash(
            prev_hash=prev, guarantee_id=hold.guarantee_id, seq=seq + 1, kind=kind, d_amount=0,
            d_held=-release, d_claimed=0, d_paid=0, hold_id=hold.pk, reference=reference, created_at=now,
        )
        entries.append((hold.guarantee_id, seq + 1, kind, 0, -release, 0, 0, hold.pk, reference, None, now, prev,
                        digest))
        heads[hold.guarantee_id] = (seq + 1, digest)
        released[hold.guarantee_id] += release

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
        _copy_rows(LedgerEntry._meta.db_table, _ENTRY_COLUMNS, entries)
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
class _HoldRow:
    pk: int
    guarantee_id: int
    reference: str
    status: str
    amount: int
    closed_at: datetime.datetime | None


def _apply(transit: _TransitRow, hold: _HoldRow | None, event, now) -> tuple[_HoldRow, int, bool] | None:
    """``transits._apply`` and ``holds.hold_release`` on locked rows held in memory. Returns the release made
    (hold, amount, partial) or ``None``; raises a ``DomainError`` to reject the event."""
    kind = event.type
    if kind in (EventType.BORDER_EXIT, EventType.BORDER_ENTRY):
        _advance(transit, TransitStatus.IN_TRANSIT)
        return None
    if kind == EventType.ARRIVAL:
        _advance(transit, TransitStatus.ARRIVED)
        transit.arrived_at = transit.arrived_at or event.occurred_at
        return None
    if transit.status in _CLOSED:
        return None  # already discharged or cancelled: nothing more to release
    if transit.status == TransitStatus.CLAIMED:
        raise Conflict(_("The guarantee was already invoked for this transit."))
    movement = None
    if hold is not None and hold.status == HoldStatus.HELD:
        wanted = event.amount_released if kind == EventType.PARTIAL_DISCHARGE else None
        release = hold.amount if wanted is None else min(wanted, hold.amount)
        partial = release < hold.amount
        hold.amount -= release
        if hold.amount == 0:
            hold.status = HoldStatus.RELEASED
            hold.closed_at = now
        movement = (hold, release, partial)
    if kind == EventType.CANCELLATION:
        transit.status = TransitStatus.CANCELLED
        transit.cancelled_at = event.occurred_at
    elif hold is None or hold.status == HoldStatus.RELEASED:
        transit.status = TransitStatus.DISCHARGED
        transit.discharged_at = event.occurred_at
    return movement


def _advance(transit: _TransitRow, status: str) -> None:
    if transit.status in _CLOSED or transit.status == TransitStatus.CLAIMED:
        return
    if _PROGRESS.get(status, 0) > _PROGRESS.get(transit.status, 0):
        transit.status = status


def _update_rows(table: str, *columns: tuple[str, str], rows: list[tuple]) -> None:
    """``UPDATE table SET col = v.col ... FROM unnest(arrays) v WHERE table.id = v.id``: one statement, one
    array per column, whatever the number of rows."""
    if not rows:
        return
    names = [name for name, _type in columns]
    arrays = ", ".join(["%s::bigint[]", *(f"%s::{sql_type}[]" for _name, sql_type in columns)])
    sets = ", ".join(f"{name} = v.{name}" for name in names)
    sql = f"UPDATE {table} AS t SET {sets} FROM unnest({arrays}) AS v(id, {', '.join(names)}) WHERE t.id = v.id"
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])


def _move_balances(rows: list[tuple], now) -> None:
    """Lower ``held`` and move the chain head of each guarantee, guarded on the head read under the lock."""
    if not rows:
        return
    table = Guarantee._meta.db_table
    placeholder = "(%s::bigint, %s::bigint, %s::integer, %s::varchar, %s::integer, %s::varchar)"
    sql = (
        f"UPDATE {table} AS g SET held = g.held - v.released, ledger_seq = v.seq, ledger_hash = v.hash, "
        f"updated_at = %s FROM (VALUES {', '.join([placeholder] * len(rows))}) "
        "AS v(id, released, seq, hash, prev_seq, prev_hash) "
        "WHERE g.id = v.id AND g.ledger_seq = v.prev_seq AND g.ledger_hash = v.prev_hash"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *[value for row in rows for value in row]])
        if cursor.rowcount != len(rows):
            raise RuntimeError("a guarantee changed under its row lock; the chunk is rolled back")
