"""Transits: the declaration with its hold, and bulk discharge files (their events: ``services.events``).

Every message is stored before it is answered. Declarations are idempotent on ``declaration_ref``: the same
content again changes nothing; other content under the same reference is a conflict. Events sent before the
declaration wait for it and are checked against the rules with its route when it comes (``events_attach``).
"""

import csv
import datetime
import io
import json
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guarantees.errors import Conflict, CountryNotCovered, DomainError, InvalidDeclaration, NotAllowed
from guarantees.limits import amount_check, declared_at_check, offices_check
from guarantees.models import (
    AmountSource,
    Country,
    Corridor,
    CorridorStop,
    DischargeFile,
    EventStatus,
    EventType,
    Guarantee,
    JobStatus,
    Office,
    StopRole,
    Transit,
    TransitEvent,
    TransitStop,
)
from guarantees.services.amount_at_stake import AmountAtStakeError, amount_at_stake_compute
from guarantees.services.events import content_hash, events_attach, transit_event_receive
from guarantees.services.holds import hold_reserve
from guarantees.queue import queue_after_commit
from guarantees.sql import hand_written_sql, hot_cursor, insert_params, insert_sql, mark_inserted


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
    corridor_countries: frozenset[str] = frozenset()  # the countries of the named corridor's stops


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
        "WHERE k.is_active AND k.code = %s "
        # The countries the named corridor crosses: a declaration may name offices in them only.
        f"UNION ALL SELECT 'k', CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR), so.country_id, CAST(NULL AS BOOLEAN), "
        f"CAST(NULL AS INTEGER) FROM {CorridorStop._meta.db_table} s "
        f"JOIN {Corridor._meta.db_table} kk ON kk.id = s.corridor_id JOIN {Office._meta.db_table} so "
        "ON so.id = s.office_id WHERE kk.is_active AND kk.code = %s"
    )
    existing, places, corridor, countries = None, {}, None, set()
    with hot_cursor() as cursor:
        cursor.execute(sql, [ref, *codes, corridor_code or "", corridor_code or ""])
        for kind, pk, text, country_id, is_covered, days in cursor.fetchall():
            if kind == "t":
                existing = (pk, text)
            elif kind == "o":
                places[text] = Place(pk, text, country_id, bool(is_covered))
            elif kind == "k":
                countries.add(country_id)
            else:
                corridor = (pk, days)
    return _Context(existing, places, corridor, frozenset(countries))


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
    if departure.country_id != sender.country:
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
    offices_check(departure=departure, destination=destination, route=route,
                  corridor_countries=context.corridor_countries if corridor_code else None)
    places = [departure, *route, destination]
    for place in places:
        if not place.is_covered:
            raise CountryNotCovered(country=place.country_id)
    countries = list(dict.fromkeys(place.country_id for place in places))

    now = timezone.now()
    declared_at = data.get("declared_at") or now
    if days is None:
        days = settings.REGISTRY_DEFAULT_TIME_LIMIT_DAYS
    declared_at_check(declared_at=declared_at, valid_from=guarantee.valid_from, valid_until=guarantee.valid_until,
                      deadline=declared_at + datetime.timedelta(days=days), now=now)
    amount = data.get("amount")
    if amount is not None:
        amount_check(amount, field="amount")
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
        amount_check(amount, field="goods")
    else:
        raise InvalidDeclaration(
            {"amount": [_("Send either the amount at stake or the goods to compute it from.")]},
            message=_("A declaration needs an amount or goods."),
        )

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
            write = _transit_write_postgresql if hand_written_sql(connection) else _transit_write_orm
            waiting = write(transit, stops)
            if waiting:
                # Events sent before the declaration: each checked against the rules with this route now.
                events_attach(transit=transit, event_ids=waiting)
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


# --- Bulk discharge files ---------------------------------------------------------------------------

FILE_FIELDS = ("message_id", "declaration_ref", "type", "office", "occurred_at", "amount_released")
# A line of a discharge file (CSV or JSON) that names no type is a discharge.
FILE_DEFAULT_TYPE = EventType.DISCHARGE


def discharge_file_receive(*, sender, filename: str, content: bytes, api_key=None, by=None) -> DischargeFile:
    name = (filename or "").lower()
    text = content.lstrip()[:1]
    fmt = "json" if name.endswith(".json") or text in (b"[", b"{") else "csv"
    job = DischargeFile.objects.create(
        sender=sender, api_key=api_key, uploaded_by=by, filename=filename or "upload", format=fmt, content=content
    )
    queue_after_commit("guarantees.tasks.process_discharge_file_bulk", job.pk)
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
            _event, created = transit_event_receive(sender=job.sender, data=line, api_key=job.api_key,
                                                    by=job.uploaded_by, bulk_job=job, default_type=FILE_DEFAULT_TYPE)
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
