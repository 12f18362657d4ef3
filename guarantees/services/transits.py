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

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from guarantees.errors import Conflict, CountryNotCovered, DomainError, InvalidDeclaration, NotAllowed, NotFound
from guarantees.models import (
    AmountSource,
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
from guarantees.services.holds import hold_release, hold_reserve

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

def _offices(codes) -> dict[str, Office]:
    """The active offices among ``codes``, by (upper-case) code, with their country: one query for them all."""
    wanted = {(code or "").upper() for code in codes}
    return {o.code: o for o in Office.objects.select_related("country").filter(code__in=wanted, is_active=True)}


def _office(code: str, field: str, known: dict[str, Office] | None = None) -> Office:
    """The active office ``code``, looked up in ``known`` (from :func:`_offices`) when given."""
    if known is not None:
        office = known.get((code or "").upper())
    else:
        office = Office.objects.select_related("country").filter(code=(code or "").upper(), is_active=True).first()
    if office is None:
        raise InvalidDeclaration({field: [_("Unknown customs office %(code)s.") % {"code": code}]})
    return office


def _corridor_for(data: dict, departure: Office, destination: Office) -> Corridor | None:
    code = data.get("corridor")
    if code:
        corridor = Corridor.objects.filter(code=code, is_active=True).first()
        if corridor is None:
            raise InvalidDeclaration({"corridor": [_("Unknown corridor %(code)s.") % {"code": code}]})
        return corridor
    # The first active corridor (by code) running from the departure to the destination, found by the database.
    stops = CorridorStop.objects.filter(corridor=OuterRef("pk"))
    return (
        Corridor.objects.filter(is_active=True)
        .annotate(first_office=Subquery(stops.order_by("position").values("office_id")[:1]),
                  last_office=Subquery(stops.order_by("-position").values("office_id")[:1]))
        .filter(first_office=departure.pk, last_office=destination.pk)
        .first()
    )


def _route(data: dict, corridor: Corridor | None, known: dict[str, Office] | None = None) -> list[Office]:
    codes = data.get("route") or []
    if codes:
        return [_office(code, "route", known) for code in codes]
    if corridor is not None:
        return [stop.office for stop in corridor.stops.select_related("office__country").order_by("position")][1:-1]
    return []


def transit_declare(*, sender, guarantee: Guarantee, data: dict, api_key=None, by=None) -> tuple[Transit, bool]:
    """Declare a transit and take its hold in the same transaction. Returns ``(transit, created)``."""
    digest = content_hash({k: v for k, v in data.items() if k != "access_code"} | {"grn": guarantee.grn})
    ref = data["declaration_ref"]
    existing = Transit.objects.filter(declaration_ref=ref).first()
    if existing is not None:
        return _replayed(existing, digest), False

    known = _offices([data["office_of_departure"], data["office_of_destination"], *(data.get("route") or [])])
    departure = _office(data["office_of_departure"], "office_of_departure", known)
    destination = _office(data["office_of_destination"], "office_of_destination", known)
    if departure.country_id != sender.country_id:
        raise NotAllowed(_("The office of departure is not one of your country's offices."))
    corridor = _corridor_for(data, departure, destination)
    route = _route(data, corridor, known)
    offices = [departure, *route, destination]
    countries = list(dict.fromkeys(o.country_id for o in offices))
    for office in offices:
        if not office.country.is_covered:
            raise CountryNotCovered(country=office.country_id)

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

    days = corridor.time_limit_days if corridor else settings.REGISTRY_DEFAULT_TIME_LIMIT_DAYS
    try:
        with transaction.atomic():
            hold = hold_reserve(guarantee=guarantee, amount=amount, reference=ref, by=by)
            transit = Transit.objects.create(
                declaration_ref=ref, guarantee=guarantee, hold=hold, office_of_departure=departure,
                office_of_destination=destination, corridor=corridor, declared_at=declared_at,
                deadline=declared_at + datetime.timedelta(days=days), amount_held=amount, amount_source=source,
                amount_breakdown=breakdown, goods=goods, transport=data.get("transport") or {},
                content_hash=digest, declared_by=sender, api_key=api_key, declared_by_user=by,
            )
            TransitStop.objects.bulk_create(
                TransitStop(
                    transit=transit, position=i, office=office, country_id=office.country_id,
                    role=StopRole.DEPARTURE if i == 0 else StopRole.DESTINATION if i == len(offices) - 1
                    else StopRole.BORDER,
                )
                for i, office in enumerate(offices)
            )
            waiting = list(
                TransitEvent.objects.filter(declaration_ref=ref, status=EventStatus.WAITING).values_list("pk", flat=True)
            )
            if waiting:
                TransitEvent.objects.filter(pk__in=waiting).update(transit=transit, status=EventStatus.RECEIVED)
                _queue_apply(waiting)
    except (IntegrityError, Conflict):
        # The same declaration committed by a concurrent request: answer as a replay.
        existing = Transit.objects.filter(declaration_ref=ref).first()
        if existing is None:
            raise
        return _replayed(existing, digest), False
    return transit, True


def _replayed(existing: Transit, digest: str) -> Transit:
    if existing.content_hash != digest:
        raise Conflict()
    return existing


# --- Events ------------------------------------------------------------------------------------------

def _parse_event(data: dict) -> dict:
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
    office = Office.objects.filter(code=str(data.get("office") or "").upper()).first()
    if office is None:
        errors["office"] = [_("Unknown customs office.")]
    if errors:
        raise InvalidDeclaration(errors)
    return {"message_id": message_id, "declaration_ref": ref, "type": event_type, "office": office,
            "occurred_at": occurred_at, "amount_released": amount}


def transit_event_receive(*, sender, data: dict, api_key=None, by=None, bulk_job=None) -> tuple[TransitEvent, bool]:
    """Store an event and queue its application. Returns ``(event, created)``; ``created`` is False for a
    replay of the same message."""
    clean = _parse_event(data)
    office = clean["office"]
    digest = content_hash({k: (v.code if k == "office" else v) for k, v in clean.items()})
    existing = TransitEvent.objects.filter(sender=sender, message_id=clean["message_id"]).first()
    if existing is not None:
        if existing.content_hash != digest:
            raise Conflict()
        return existing, False
    if office.country_id != sender.country_id:
        raise NotAllowed(_("The office is not one of your country's offices."))
    transit = Transit.objects.filter(declaration_ref=clean["declaration_ref"]).first()
    if transit is not None and not transit.stops.filter(country_id=sender.country_id).exists():
        raise NotFound()
    payload = {k: (v.code if k == "office" else v.isoformat() if k == "occurred_at" else v) for k, v in clean.items()}
    try:
        with transaction.atomic():
            event = TransitEvent.objects.create(
                sender=sender, message_id=clean["message_id"], declaration_ref=clean["declaration_ref"],
                transit=transit, type=clean["type"], office=office, occurred_at=clean["occurred_at"],
                amount_released=clean["amount_released"], payload=payload, content_hash=digest,
                status=EventStatus.RECEIVED if transit else EventStatus.WAITING, api_key=api_key,
                received_by_user=by, bulk_job=bulk_job,
            )
            if transit is None:
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
    raw = bytes(job.content)
    text = raw.decode("utf-8-sig")
    if job.format == "json":
        data = json.loads(text)
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
        job.status = JobStatus.FAILED
        job.errors = [{"line": 0, "code": "parse_error", "detail": str(exc)}]
        job.finished_at = timezone.now()
        job.save()
        return job
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
