"""Transits: declaration with its hold, events from the customs systems, bulk discharge files.

Every message is stored in PostgreSQL before it is answered. Declarations are idempotent on
``declaration_ref`` and events on the sender's ``message_id``: the same content again changes nothing; other
content under the same id is a conflict. Events are applied after the commit by a task
(``apply_transit_event``), which is safe to run twice; an event whose declaration has not arrived yet
waits and is applied when the declaration comes. Nothing received is dropped: a refused event is kept as
``rejected`` with its reason.
"""

import csv
import datetime
import hashlib
import io
import json
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from guarantees.errors import Conflict, CountryNotCovered, DomainError, InvalidDeclaration, NotAllowed, NotFound
from guarantees.models import (
    AmountSource,
    Country,
    Corridor,
    CorridorStop,
    DischargeFile,
    EventStatus,
    EventType,
    Guarantee,
    HoldStatus,
    JobStatus,
    Office,
    StopRole,
    Transit,
    TransitEvent,
    TransitStatus,
    TransitStop,
)
from guarantees.services.amount_at_stake import AmountAtStakeError, amount_at_stake_compute
from guarantees.services.enquiries import enquiries_close_on_discharge
from guarantees.services.holds import hold_release, hold_reserve
from guarantees.sql import hot_cursor, insert, insert_params, insert_sql, mark_inserted

# How far along its way a transit is; an event never moves a transit backwards (events may come shuffled).
_PROGRESS = {
    TransitStatus.DECLARED: 0,
    TransitStatus.IN_TRANSIT: 1,
    TransitStatus.OVERDUE: 1,
    TransitStatus.ARRIVED: 2,
}
_CLOSED = (TransitStatus.DISCHARGED, TransitStatus.CANCELLED, TransitStatus.SETTLED)


def content_hash(data: dict) -> str:
    """A stable digest of a message's meaningful content (keys sorted, datetimes in UTC ISO form)."""

    def norm(value):
        if isinstance(value, datetime.datetime):
            return value.astimezone(datetime.timezone.utc).isoformat()
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [norm(v) for v in value]
        return value

    return hashlib.sha256(json.dumps(norm(data), sort_keys=True, default=str).encode()).hexdigest()


# --- Declaration ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """A customs office as a declaration needs it: its id, code, country and whether the scheme covers it."""

    pk: int
    code: str
    country_id: str
    is_covered: bool

    @classmethod
    def of(cls, office: Office) -> "Place":
        return cls(office.pk, office.code, office.country_id, office.country.is_covered)


@dataclass(frozen=True)
class _Context:
    """What a declaration is checked against, read in one query: a transit already under its reference, the
    active offices it names and the active corridor it names (``None`` when absent or unknown)."""

    existing: tuple[int, str] | None  # (id, content_hash)
    places: dict[str, Place]
    corridor: tuple[int, int] | None  # (id, time_limit_days)


def _declaration_context(*, ref: str, office_codes, corridor_code: str | None) -> _Context:
    """One hand-written query (portable SQL) for what three ORM queries read: a declaration is the API's
    busiest request, and compiling those queries cost more CPU than the rest of the declaration together."""
    codes = sorted({(code or "").upper() for code in office_codes})
    office_in = ", ".join(["%s"] * len(codes)) or "NULL"
    sql = (
        f"SELECT 't', t.id, t.content_hash, NULL, CAST(NULL AS BOOLEAN), CAST(NULL AS INTEGER) "
        f"FROM {Transit._meta.db_table} t "
        "WHERE t.declaration_ref = %s "
        f"UNION ALL SELECT 'o', o.id, o.code, o.country_id, c.is_covered, NULL FROM {Office._meta.db_table} o "
        f"JOIN {Country._meta.db_table} c ON c.code = o.country_id WHERE o.is_active AND o.code IN ({office_in}) "
        f"UNION ALL SELECT 'c', k.id, k.code, NULL, NULL, k.time_limit_days FROM {Corridor._meta.db_table} k "
        "WHERE k.is_active AND k.code = %s"
    )
    existing, places, corridor = None, {}, None
    with hot_cursor() as cursor:
        cursor.execute(sql, [ref, *codes, corridor_code or ""])
        for kind, pk, text, country_id, is_covered, days in cursor.fetchall():
            if kind == "t":
                existing = (pk, text)
            elif kind == "o":
                places[text] = Place(pk, text, country_id, bool(is_covered))
            else:
                corridor = (pk, days)
    return _Context(existing, places, corridor)


def _place(code: str, field: str, known: dict[str, Place]) -> Place:
    place = known.get((code or "").upper())
    if place is None:
        raise InvalidDeclaration({field: [_("Unknown customs office %(code)s.") % {"code": code}]})
    return place


def _corridor_between(departure: Place, destination: Place) -> Corridor | None:
    """The first active corridor (by code) running from the departure to the destination, found by the database
    (only for declarations that name no corridor)."""
    stops = CorridorStop.objects.filter(corridor=OuterRef("pk"))
    return (
        Corridor.objects.filter(is_active=True)
        .annotate(first_office=Subquery(stops.order_by("position").values("office_id")[:1]),
                  last_office=Subquery(stops.order_by("-position").values("office_id")[:1]))
        .filter(first_office=departure.pk, last_office=destination.pk)
        .order_by("code")
        .first()
    )


def _corridor_route(corridor_id: int) -> list[Place]:
    """The border offices of a corridor, in order (its stops without the first and the last)."""
    stops = CorridorStop.objects.filter(corridor_id=corridor_id).select_related("office__country").order_by("position")
    return [Place.of(stop.office) for stop in stops][1:-1]


def transit_declare(*, sender, guarantee: Guarantee, data: dict, api_key=None, by=None) -> tuple[Transit, bool]:
    """Declare a transit and take its hold in the same transaction. Returns ``(transit, created)``.

    A transit just declared carries ``available_after_hold``: the guarantee's available balance right after
    its hold, for the answer to the customs system."""
    digest = content_hash({k: v for k, v in data.items() if k != "access_code"} | {"grn": guarantee.grn})
    ref = data["declaration_ref"]
    route_codes = data.get("route") or []
    corridor_code = data.get("corridor")
    context = _declaration_context(
        ref=ref, office_codes=[data["office_of_departure"], data["office_of_destination"], *route_codes],
        corridor_code=corridor_code,
    )
    if context.existing is not None:
        existing_id, existing_digest = context.existing
        if existing_digest != digest:
            raise Conflict()
        return Transit.objects.get(pk=existing_id), False

    departure = _place(data["office_of_departure"], "office_of_departure", context.places)
    destination = _place(data["office_of_destination"], "office_of_destination", context.places)
    if departure.country_id != sender.country_id:
        raise NotAllowed(_("The office of departure is not one of your country's offices."))
    if corridor_code:
        if context.corridor is None:
            raise InvalidDeclaration({"corridor": [_("Unknown corridor %(code)s.") % {"code": corridor_code}]})
        corridor_id, days = context.corridor
    else:
        found = _corridor_between(departure, destination)
        corridor_id, days = (found.pk, found.time_limit_days) if found else (None, None)
    if route_codes:
        route = [_place(code, "route", context.places) for code in route_codes]
    else:
        route = _corridor_route(corridor_id) if corridor_id else []
    places = [departure, *route, destination]
    for place in places:
        if not place.is_covered:
            raise CountryNotCovered(country=place.country_id)
    countries = list(dict.fromkeys(place.country_id for place in places))

    declared_at = data.get("declared_at") or timezone.now()
    amount = data.get("amount")
    goods = data.get("goods") or []
    breakdown: dict = {}
    if amount is not None:
        source = AmountSource.DECLARED
    elif goods:
        try:
            stake = amount_at_stake_compute(goods=goods, countries=countries, on=declared_at.date())
        except AmountAtStakeError as exc:
            raise InvalidDeclaration({"goods": [getattr(exc, "message", str(exc))]}) from exc
        amount, source, breakdown = stake.amount, AmountSource.COMPUTED, stake.as_dict()
        if amount <= 0:
            raise InvalidDeclaration({"goods": [_("The goods put no duties or taxes at stake.")]})
    else:
        raise InvalidDeclaration(
            {"amount": [_("Send either the amount at stake or the goods to compute it from.")]},
            message=_("A declaration needs an amount or goods."),
        )

    if days is None:
        days = settings.REGISTRY_DEFAULT_TIME_LIMIT_DAYS
    stops = [
        (i, place.pk, place.country_id,
         StopRole.DEPARTURE if i == 0 else StopRole.DESTINATION if i == len(places) - 1 else StopRole.BORDER)
        for i, place in enumerate(places)
    ]
    try:
        with transaction.atomic():
            hold = hold_reserve(guarantee=guarantee, amount=amount, reference=ref, by=by, savepoint=False)
            transit = Transit(
                declaration_ref=ref, guarantee=guarantee, hold=hold, office_of_departure_id=departure.pk,
                office_of_destination_id=destination.pk, corridor_id=corridor_id, declared_at=declared_at,
                deadline=declared_at + datetime.timedelta(days=days), amount_held=amount, amount_source=source,
                amount_breakdown=breakdown, goods=goods, transport=data.get("transport") or {},
                content_hash=digest, declared_by=sender, api_key=api_key, declared_by_user=by,
            )
            write = _transit_write_postgresql if connection.vendor == "postgresql" else _transit_write_orm
            waiting = write(transit, stops)
            if waiting:
                _queue_apply(waiting)
    except (IntegrityError, Conflict):
        # The same declaration committed by a concurrent request: answer as a replay.
        existing = Transit.objects.filter(declaration_ref=ref).first()
        if existing is None:
            raise
        return _replayed(existing, digest), False
    transit.available_after_hold = getattr(hold, "available_after", None)
    return transit, True


def _transit_write_orm(transit: Transit, stops) -> list[int]:
    """Insert the transit and its stops, and attach the events that waited for it; returns their ids in order.
    The portable path (SQLite for ``make run``); the PostgreSQL one is tested against it."""
    transit.save(force_insert=True)
    TransitStop.objects.bulk_create(
        TransitStop(transit=transit, position=position, office_id=office_id, country_id=country_id, role=role)
        for position, office_id, country_id, role in stops
    )
    waiting = list(
        TransitEvent.objects.filter(declaration_ref=transit.declaration_ref, status=EventStatus.WAITING)
        .order_by("occurred_at", "pk").values_list("pk", flat=True)
    )
    if waiting:
        TransitEvent.objects.filter(pk__in=waiting).update(transit=transit, status=EventStatus.RECEIVED)
    return waiting


@cache
def _transit_write_sql(stop_count: int) -> str:
    stops = ", ".join(["(%s::smallint, %s::bigint, %s, %s)"] * stop_count)
    return (
        f"WITH t AS ({insert_sql(Transit)} RETURNING id), "
        f"s AS (INSERT INTO {TransitStop._meta.db_table} (transit_id, position, office_id, country_id, role) "
        f"SELECT t.id, s.position, s.office_id, s.country_id, s.role FROM t, (VALUES {stops}) "
        "AS s(position, office_id, country_id, role)), "
        f"w AS (UPDATE {TransitEvent._meta.db_table} e SET transit_id = t.id, status = %s FROM t "
        "WHERE e.declaration_ref = %s AND e.status = %s RETURNING e.id, e.occurred_at) "
        "SELECT t.id, (SELECT array_agg(w.id ORDER BY w.occurred_at, w.id) FROM w) FROM t"
    )


def _transit_write_postgresql(transit: Transit, stops) -> list[int]:
    """What :func:`_transit_write_orm` does, in one statement (three ORM queries otherwise, on the API's busiest
    request). The transit's columns and values are the ORM's (``guarantees.sql.insert_sql`` and
    ``insert_params``), so the two paths write the same rows; the tables' constraints apply alike."""
    params = insert_params(transit)
    for stop in stops:
        params.extend(stop)
    params += [EventStatus.RECEIVED.value, transit.declaration_ref, EventStatus.WAITING.value]
    with hot_cursor() as cursor:
        cursor.execute(_transit_write_sql(len(stops)), params)
        transit_id, waiting = cursor.fetchone()
    mark_inserted(transit, transit_id)
    return list(waiting or [])


def _replayed(existing: Transit, digest: str) -> Transit:
    if existing.content_hash != digest:
        raise Conflict()
    return existing


# --- Events ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _EventContext:
    """What an event is checked against, read in one query (portable SQL): the office it names, an event
    already stored under its message id from this sender, and its transit with whether the route crosses the
    sender's country."""

    office: tuple[int, str] | None  # (id, country)
    existing: tuple[int, str] | None  # (id, content_hash)
    transit: tuple[int, bool] | None  # (id, crosses the sender's country)


def _event_context(*, sender, message_id: str, ref: str, office_code: str) -> _EventContext:
    sql = (
        f"SELECT 'o', o.id, o.country_id FROM {Office._meta.db_table} o WHERE o.code = %s "
        f"UNION ALL SELECT 'e', e.id, e.content_hash FROM {TransitEvent._meta.db_table} e "
        "WHERE e.sender_id = %s AND e.message_id = %s "
        f"UNION ALL SELECT 't', t.id, CASE WHEN EXISTS (SELECT 1 FROM {TransitStop._meta.db_table} s "
        "WHERE s.transit_id = t.id AND s.country_id = %s) THEN 'yes' ELSE 'no' END "
        f"FROM {Transit._meta.db_table} t WHERE t.declaration_ref = %s"
    )
    found = {}
    with hot_cursor() as cursor:
        cursor.execute(sql, [office_code, sender.pk, message_id, sender.country_id, ref])
        for kind, pk, text in cursor.fetchall():
            found[kind] = (pk, text == "yes") if kind == "t" else (pk, text)
    return _EventContext(found.get("o"), found.get("e"), found.get("t"))


def _parse_event(data: dict, *, sender) -> tuple[dict, _EventContext]:
    """The event's fields, checked, and what it is checked against in the database (one query)."""
    errors: dict[str, list] = {}
    message_id = str(data.get("message_id") or "").strip()
    if not message_id or len(message_id) > 100:
        errors["message_id"] = [_("A message id of 1 to 100 characters is required.")]
    ref = str(data.get("declaration_ref") or "").strip()
    if not ref or len(ref) > 64:
        errors["declaration_ref"] = [_("A declaration reference of 1 to 64 characters is required.")]
    event_type = data.get("type")
    if event_type not in EventType.values:
        errors["type"] = [_("Unknown event type.")]
    occurred_at = data.get("occurred_at")
    if isinstance(occurred_at, str):
        occurred_at = parse_datetime(occurred_at)
    if not isinstance(occurred_at, datetime.datetime) or timezone.is_naive(occurred_at):
        errors["occurred_at"] = [_("A date and time with its time zone is required.")]
    amount = data.get("amount_released")
    if event_type == EventType.PARTIAL_DISCHARGE:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            errors["amount_released"] = [_("A partial discharge needs the amount released, in whole francs.")]
    elif amount is not None:
        errors["amount_released"] = [_("Only a partial discharge carries an amount released.")]
    office_code = str(data.get("office") or "").upper()
    context = _event_context(sender=sender, message_id=message_id, ref=ref, office_code=office_code)
    if context.office is None:
        errors["office"] = [_("Unknown customs office.")]
    if errors:
        raise InvalidDeclaration(errors)
    return {"message_id": message_id, "declaration_ref": ref, "type": event_type, "office": office_code,
            "occurred_at": occurred_at, "amount_released": amount}, context


def transit_event_receive(*, sender, data: dict, api_key=None, by=None, bulk_job=None) -> tuple[TransitEvent, bool]:
    """Store an event and queue its application. Returns ``(event, created)``; ``created`` is False for a
    replay of the same message.

    The checks read one query (``_event_context``) and the event is one INSERT: customs systems send several
    events per transit, which makes this the API's busiest write. When the transit is known and the caller
    holds no transaction, the INSERT commits on its own; otherwise it runs in a block of its own (a savepoint
    inside the caller's), which also re-checks, after the insert, for a declaration committed meanwhile."""
    clean, context = _parse_event(data, sender=sender)
    digest = content_hash(clean)
    if context.existing is not None:
        existing_id, existing_digest = context.existing
        if existing_digest != digest:
            raise Conflict()
        return TransitEvent.objects.get(pk=existing_id), False
    office_id, office_country = context.office
    if office_country != sender.country_id:
        raise NotAllowed(_("The office is not one of your country's offices."))
    transit_id = None
    if context.transit is not None:
        transit_id, crosses = context.transit
        if not crosses:
            raise NotFound()
    payload = {k: (v.isoformat() if k == "occurred_at" else v) for k, v in clean.items()}
    event = TransitEvent(
        sender=sender, message_id=clean["message_id"], declaration_ref=clean["declaration_ref"],
        transit_id=transit_id, type=clean["type"], office_id=office_id, occurred_at=clean["occurred_at"],
        amount_released=clean["amount_released"], payload=payload, content_hash=digest,
        status=EventStatus.RECEIVED if transit_id else EventStatus.WAITING, api_key=api_key,
        received_by_user=by, bulk_job=bulk_job,
    )
    try:
        if transit_id is not None and not connection.in_atomic_block:
            insert(event)  # one statement, committed by itself
            _queue_apply([event.pk])
        else:
            with transaction.atomic():
                insert(event)
                if transit_id is None:
                    # The declaration may be committing right now: re-check under its unique key after insert.
                    transit = Transit.objects.filter(declaration_ref=clean["declaration_ref"]).first()
                    if transit is not None:
                        event.transit = transit
                        event.status = EventStatus.RECEIVED
                        event.save(update_fields=["transit", "status"])
                if event.status == EventStatus.RECEIVED:
                    _queue_apply([event.pk])
    except IntegrityError:
        existing = TransitEvent.objects.filter(sender=sender, message_id=clean["message_id"]).first()
        if existing is None:
            raise
        if existing.content_hash != digest:
            raise Conflict() from None
        return existing, False
    return event, True


def _queue_apply(event_ids: list[int]) -> None:
    from guarantees.tasks import apply_transit_event

    for pk in event_ids:
        transaction.on_commit(lambda pk=pk: apply_transit_event.delay(pk), robust=True)


def transit_event_apply(*, event_id: int) -> TransitEvent | None:
    """Apply a stored event to its transit. Safe to run twice and in any order of events."""
    with transaction.atomic():
        event = TransitEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.status != EventStatus.RECEIVED or event.transit_id is None:
            return event
        transit = Transit.objects.select_for_update().get(pk=event.transit_id)
        event.attempts += 1
        try:
            with transaction.atomic():
                _apply(transit, event)
        except DomainError as exc:
            event.status = EventStatus.REJECTED
            event.error_code = exc.code
            event.error_detail = str(exc.message)
        else:
            event.status = EventStatus.APPLIED
            event.applied_at = timezone.now()
        event.save(update_fields=["status", "error_code", "error_detail", "attempts", "applied_at"])
        return event


def _advance(transit: Transit, status: str) -> None:
    if transit.status in _CLOSED or transit.status == TransitStatus.CLAIMED:
        return
    if _PROGRESS.get(status, 0) > _PROGRESS.get(transit.status, 0):
        transit.status = status


def _apply(transit: Transit, event: TransitEvent) -> None:
    kind = event.type
    before = transit.status
    if kind in (EventType.BORDER_EXIT, EventType.BORDER_ENTRY):
        _advance(transit, TransitStatus.IN_TRANSIT)
    elif kind == EventType.ARRIVAL:
        _advance(transit, TransitStatus.ARRIVED)
        transit.arrived_at = transit.arrived_at or event.occurred_at
    elif kind in (EventType.DISCHARGE, EventType.PARTIAL_DISCHARGE, EventType.CANCELLATION):
        if transit.status in _CLOSED:
            return  # already discharged or cancelled: nothing more to release
        if transit.status == TransitStatus.CLAIMED:
            raise Conflict(_("The guarantee was already invoked for this transit."))
        hold = transit.hold
        amount = event.amount_released if kind == EventType.PARTIAL_DISCHARGE else None
        if hold is not None and hold.status == HoldStatus.HELD:
            hold = hold_release(hold=hold, amount=amount, reference=event.message_id)
        if kind == EventType.CANCELLATION:
            transit.status = TransitStatus.CANCELLED
            transit.cancelled_at = event.occurred_at
        elif hold is None or hold.status == HoldStatus.RELEASED:
            transit.status = TransitStatus.DISCHARGED
            transit.discharged_at = event.occurred_at
    transit.save()
    if transit.status != before and transit.status in (TransitStatus.DISCHARGED, TransitStatus.CANCELLED):
        enquiries_close_on_discharge(transit_ids=[transit.pk])


# --- Bulk discharge files ---------------------------------------------------------------------------

FILE_FIELDS = ("message_id", "declaration_ref", "type", "office", "occurred_at", "amount_released")


def discharge_file_receive(*, sender, filename: str, content: bytes, api_key=None, by=None) -> DischargeFile:
    name = (filename or "").lower()
    text = content.lstrip()[:1]
    fmt = "json" if name.endswith(".json") or text in (b"[", b"{") else "csv"
    job = DischargeFile.objects.create(
        sender=sender, api_key=api_key, uploaded_by=by, filename=filename or "upload", format=fmt, content=content
    )
    from guarantees.tasks import process_discharge_file_bulk

    transaction.on_commit(lambda: process_discharge_file_bulk.delay(job.pk), robust=True)
    return job


def _file_lines(job: DischargeFile) -> list[dict]:
    """The lines of a discharge file as dicts; ``ValueError`` (or ``UnicodeDecodeError``) when it cannot be read,
    which fails the job with ``parse_error``."""
    raw = bytes(job.content)
    text = raw.decode("utf-8-sig")
    if job.format == "json":
        try:
            data = json.loads(text)
        except RecursionError:
            # Thousands of nested brackets: json raises RecursionError, not ValueError.
            raise ValueError("the JSON document is nested too deeply") from None
        if isinstance(data, dict):
            data = data.get("events") or data.get("discharges") or []
        if not isinstance(data, list):
            raise ValueError("a JSON list of events is expected")
        return data
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        line = {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}
        line.setdefault("type", "discharge")
        if not line.get("type"):
            line["type"] = "discharge"
        amount = line.get("amount_released")
        if amount in ("", None):
            line["amount_released"] = None
        else:
            try:
                line["amount_released"] = int(amount)
            except ValueError:
                pass
        rows.append(line)
    return rows


def _file_unreadable(job: DischargeFile, exc: Exception) -> DischargeFile:
    """The file cannot be read at all (not CSV or JSON as expected): the job fails, saying why."""
    job.status = JobStatus.FAILED
    job.errors = [{"line": 0, "code": "parse_error", "detail": str(exc)}]
    job.finished_at = timezone.now()
    job.save()
    return job


def discharge_file_process(*, job_id: int) -> DischargeFile | None:
    """Receive every line of the file as an event, recording per-line errors; resumable and idempotent
    (lines already received count as duplicates)."""
    job = DischargeFile.objects.filter(pk=job_id).select_related("sender").first()
    if job is None or job.status == JobStatus.DONE:
        return job
    job.status = JobStatus.RUNNING
    job.started_at = job.started_at or timezone.now()
    job.done = job.duplicates = job.failed = 0
    job.errors = []
    try:
        lines = _file_lines(job)
    except (ValueError, UnicodeDecodeError) as exc:
        return _file_unreadable(job, exc)
    job.total = len(lines)
    job.save(update_fields=["status", "started_at", "total", "done", "duplicates", "failed", "errors"])
    for number, line in enumerate(lines, start=1):
        try:
            if not isinstance(line, dict):
                raise InvalidDeclaration({"line": [_("Each line must be an object.")]})
            _event, created = transit_event_receive(sender=job.sender, data=line, api_key=job.api_key, by=job.uploaded_by,
                                               bulk_job=job)
        except DomainError as exc:
            job.failed += 1
            job.errors.append({"line": number, "code": exc.code, "detail": str(exc.message), **exc.extra})
        else:
            if created:
                job.done += 1
            else:
                job.duplicates += 1
        if number % 500 == 0:
            job.save(update_fields=["done", "duplicates", "failed", "errors"])
    job.status = JobStatus.DONE
    job.finished_at = timezone.now()
    job.save()
    return job
