"""Transit events from the customs systems: one validator, one rule of who may report what, one decision.

A customs system reports border crossings, arrival, discharge and cancellation of a transit. Three things are
decided about every event, each by one function, whichever path carries it (the API, a page, a discharge file
line by line or in batches, the sweep that applies stored events):

* :func:`event_validate` — is the message well formed? (pure; a malformed message is a 400, never stored)
* :func:`event_refusal` — may this sender report this event, at this office, at this date, on this transit?
  The rule of each type is data (``EventRule``: who — the declaring administration, the destination country's,
  a route country's — and where); dates before the declaration or in the future are refused too. (pure)
* :func:`event_outcome` — what does the event do to the transit and its hold? The state machine. (pure)

An event that may not act is **kept, refused with its reason** (``EventStatus.REJECTED``, ``error_code``): never
applied, never dropped, listed for the secretariat. The rule is checked when the event is received, when a
waiting event meets its declaration (:func:`events_attach`) and again when it is applied — so an event sent
before its declaration by a country off the route cannot release the hold when the declaration comes.

Answers to the sender: a refusal is told at once (403 ``event_refused`` with its reason) when the sender's
country is on the transit's route; an event for a transit the sender may not see is answered exactly like one
for a transit not declared yet (202), so that declaration references cannot be probed.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from guarantees import metrics
from guarantees.errors import HIDDEN_REFUSALS, Conflict, DomainError, EventRefused, InvalidDeclaration, NotAllowed
from guarantees.formats import format_fcfa
from guarantees.limits import amount_in_range, amount_max
from guarantees.models import (
    DEFAULT_EVENT_RULES,
    EntryKind,
    EventPlace,
    EventRule,
    EventSender,
    EventStatus,
    EventType,
    Guarantee,
    Hold,
    HoldStatus,
    Office,
    StopRole,
    Transit,
    TransitEvent,
    TransitStatus,
    TransitStop,
)
from guarantees.queue import queue_after_commit
from guarantees.sql import hot_cursor, insert

MAX_AMOUNT = 2**63 - 1
_TYPES = frozenset(EventType.values)

# How far along its way a transit is; an event never moves a transit backwards (events may come shuffled).
_PROGRESS = {TransitStatus.DECLARED: 0, TransitStatus.IN_TRANSIT: 1, TransitStatus.OVERDUE: 1, TransitStatus.ARRIVED: 2}
CLOSED_STATUSES = (TransitStatus.DISCHARGED, TransitStatus.CANCELLED, TransitStatus.SETTLED)
RELEASING_TYPES = (EventType.DISCHARGE, EventType.PARTIAL_DISCHARGE, EventType.CANCELLATION)



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


# --- 1. The message --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class EventInput:
    """A well-formed event message, as checked by :func:`event_validate`."""

    message_id: str
    declaration_ref: str
    type: str
    office: str  # office code, upper case
    occurred_at: datetime.datetime
    amount_released: int | None

    def content(self) -> dict:
        """The message's meaningful content (hashed for idempotency, stored as the payload)."""
        return {"message_id": self.message_id, "declaration_ref": self.declaration_ref, "type": self.type,
                "office": self.office, "occurred_at": self.occurred_at.isoformat(),
                "amount_released": self.amount_released}


def _parse_when(value) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value.strip())
    except ValueError:  # well-formed but impossible, e.g. 2026-02-30T10:00:00Z
        return None


def event_validate(data, *, default_type: str | None = None) -> EventInput:
    """The event in ``data`` (a dict as received), checked field by field; raises ``InvalidDeclaration`` with every
    field's error. ``default_type`` is the type of a line that names none (discharge files: ``discharge``)."""
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
    if event_type in (None, "") and default_type:
        event_type = default_type
    if event_type not in _TYPES:
        errors["type"] = [_("Unknown event type.")]
    occurred_at = _parse_when(data.get("occurred_at"))
    if occurred_at is None or timezone.is_naive(occurred_at):
        errors["occurred_at"] = [_("A real date and time with its time zone is required (ISO 8601).")]
    amount = data.get("amount_released")
    if event_type == EventType.PARTIAL_DISCHARGE:
        if not amount_in_range(amount):
            errors["amount_released"] = [_("A partial discharge needs the amount released, in whole francs CFA "
                                           "from 1 to %(max)s.") % {"max": format_fcfa(amount_max())}]
    elif amount is not None:
        errors["amount_released"] = [_("Only a partial discharge carries an amount released.")]
    office = data.get("office")
    office = office.strip().upper() if isinstance(office, str) else ""
    if not office or len(office) > 12:
        errors["office"] = [_("Unknown customs office.")]
    if errors:
        raise InvalidDeclaration(errors)
    return EventInput(message_id, ref, event_type, office, occurred_at, amount)


# --- 2. Who may report it, where, when ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Rule:
    sender: str
    place: str


_rules_cache: tuple[float, dict[str, Rule]] | None = None
RULES_TTL_SECONDS = 30.0


def event_rules() -> dict[str, Rule]:
    """The rule of each event type: ``EventRule`` rows over ``DEFAULT_EVENT_RULES``. Read at most every
    ``RULES_TTL_SECONDS`` per process (and at once after a change in this process)."""
    global _rules_cache
    now = time.monotonic()
    if _rules_cache is None or now - _rules_cache[0] > RULES_TTL_SECONDS:
        rules = {t: Rule(str(s), str(p)) for t, (s, p) in DEFAULT_EVENT_RULES.items()}
        for event_type, sender, place in EventRule.objects.values_list("event_type", "sender", "place"):
            rules[event_type] = Rule(sender, place)
        _rules_cache = (now, rules)
    return _rules_cache[1]


def event_rules_changed(**_kwargs) -> None:
    """Forget the rules read (connected to ``EventRule``'s save and delete signals)."""
    global _rules_cache
    _rules_cache = None


@dataclass(frozen=True, slots=True)
class Route:
    """What the rules need to know of a transit: who declared it, when, and its offices."""

    transit_id: int
    declared_by_id: int
    declared_at: datetime.datetime
    departure: int
    departure_country: str
    destination: int
    destination_country: str
    borders: frozenset[int]
    countries: frozenset[str]


def routes_of(transit_ids) -> dict[int, Route]:
    """The route of each transit, in one query (portable SQL: this runs for every event received)."""
    ids = sorted(set(transit_ids))
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"SELECT t.id, t.declared_by_id, t.declared_at, s.office_id, s.country_id, s.role "
        f"FROM {Transit._meta.db_table} t JOIN {TransitStop._meta.db_table} s ON s.transit_id = t.id "
        f"WHERE t.id IN ({marks}) ORDER BY t.id, s.position"
    )
    stops: dict[int, list] = {}
    heads: dict[int, tuple] = {}
    with hot_cursor() as cursor:
        cursor.execute(sql, ids)
        for transit_id, declared_by_id, declared_at, office_id, country_id, role in cursor.fetchall():
            heads[transit_id] = (declared_by_id, declared_at)
            stops.setdefault(transit_id, []).append((office_id, country_id, role))
    converter = _datetime_converter()
    routes = {}
    for transit_id, route in stops.items():
        declared_by_id, declared_at = heads[transit_id]
        departure, destination = route[0], route[-1]
        routes[transit_id] = Route(
            transit_id, declared_by_id, converter(declared_at), departure[0], departure[1], destination[0],
            destination[1], frozenset(o for o, _c, role in route if role == StopRole.BORDER),
            frozenset(c for _o, c, _r in route),
        )
    return routes


def _datetime_converter():
    if connection.vendor == "sqlite":
        def convert(value):
            if isinstance(value, str):
                value = datetime.datetime.fromisoformat(value)
            return value if timezone.is_aware(value) else timezone.make_aware(value, datetime.timezone.utc)
        return convert
    return lambda value: value


_SENDER_MESSAGES = {
    EventSender.DECLARING: _("Only the administration that declared the transit may report this event."),
    EventSender.DESTINATION: _("Only the administration of the destination country may report this event."),
    EventSender.ROUTE: _("Only the administration of a border office on the transit's route may report this event."),
}
_PLACE_MESSAGES = {
    EventPlace.DEPARTURE_OFFICE: _("This event is reported at the office of departure only."),
    EventPlace.DEPARTURE_COUNTRY: _("This event is reported at an office of the departure country only."),
    EventPlace.DESTINATION_OFFICE: _("This event is reported at the office of destination only."),
    EventPlace.DESTINATION_COUNTRY: _("This event is reported at an office of the destination country only."),
    EventPlace.ROUTE_BORDER: _("This event is reported at a border office on the transit's route only."),
}


def event_refusal(*, rule: Rule, sender_id: int, sender_country: str, office_id: int, office_country: str,
                  occurred_at: datetime.datetime, route: Route | None, now: datetime.datetime) -> EventRefused | None:
    """Why this sender may not report this event (an ``EventRefused``), or ``None``. Without ``route`` (the
    declaration has not come yet), only what does not depend on the transit is checked."""
    skew = datetime.timedelta(seconds=settings.REGISTRY_EVENT_CLOCK_SKEW_SECONDS)
    if office_country != sender_country:
        return EventRefused("office_not_yours", _("The office is not one of your country's offices."))
    if occurred_at > now + skew:
        return EventRefused("dated_in_future", _("The event is dated in the future."))
    if route is None:
        return None
    if sender_country not in route.countries:
        return EventRefused("not_on_route", _("The transit's route does not cross your country."))
    if occurred_at < route.declared_at - skew:
        return EventRefused("dated_before_declaration", _("The event is dated before the transit was declared."))
    allowed_sender = {
        EventSender.DECLARING: sender_id == route.declared_by_id,
        EventSender.DESTINATION: sender_country == route.destination_country,
        EventSender.ROUTE: office_id in route.borders,
    }.get(rule.sender, False)
    if not allowed_sender:
        return EventRefused("sender_not_allowed", _SENDER_MESSAGES.get(rule.sender, _("Not allowed.")))
    allowed_place = {
        EventPlace.DEPARTURE_OFFICE: office_id == route.departure,
        EventPlace.DEPARTURE_COUNTRY: office_country == route.departure_country,
        EventPlace.DESTINATION_OFFICE: office_id == route.destination,
        EventPlace.DESTINATION_COUNTRY: office_country == route.destination_country,
        EventPlace.ROUTE_BORDER: office_id in route.borders,
    }.get(rule.place, False)
    if not allowed_place:
        return EventRefused("office_not_allowed", _PLACE_MESSAGES.get(rule.place, _("Not allowed here.")))
    return None


# --- 3. What it does -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TransitState:
    status: str
    arrived_at: datetime.datetime | None
    discharged_at: datetime.datetime | None
    cancelled_at: datetime.datetime | None


@dataclass(frozen=True, slots=True)
class HoldState:
    status: str
    amount: int
    closed_at: datetime.datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The transit and hold after the event, and the release it makes (0: none) with its ledger entry kind."""

    transit: TransitState
    hold: HoldState | None
    release: int = 0
    kind: str = ""

    @property
    def ends_transit(self) -> bool:
        return self.transit.status in (TransitStatus.DISCHARGED, TransitStatus.CANCELLED)


def _advance(transit: TransitState, status: str) -> TransitState:
    if transit.status in CLOSED_STATUSES or transit.status == TransitStatus.CLAIMED:
        return transit
    if _PROGRESS.get(status, 0) > _PROGRESS.get(transit.status, 0):
        return replace(transit, status=status)
    return transit


def event_outcome(*, transit: TransitState, hold: HoldState | None, event_type: str, occurred_at, amount_released,
                  now) -> Outcome:
    """What an event does to its transit and hold — the one state machine of every path. Raises a
    ``DomainError`` when the event cannot apply (it is then kept, refused with that reason)."""
    if event_type in (EventType.BORDER_EXIT, EventType.BORDER_ENTRY):
        return Outcome(_advance(transit, TransitStatus.IN_TRANSIT), hold)
    if event_type == EventType.ARRIVAL:
        moved = _advance(transit, TransitStatus.ARRIVED)
        return Outcome(replace(moved, arrived_at=moved.arrived_at or occurred_at), hold)
    if event_type not in RELEASING_TYPES:
        raise InvalidDeclaration({"type": [_("Unknown event type.")]})
    if transit.status in CLOSED_STATUSES:
        return Outcome(transit, hold)  # already discharged or cancelled: nothing more to release
    if transit.status == TransitStatus.CLAIMED:
        raise Conflict(_("The guarantee was already invoked for this transit."))
    release, kind, after = 0, "", hold
    if hold is not None and hold.status == HoldStatus.HELD:
        if event_type == EventType.PARTIAL_DISCHARGE:
            if amount_released > hold.amount:
                raise EventRefused("above_held", _("The amount released is more than the amount still held "
                                                   "(%(held)s FCFA).") % {"held": hold.amount}, held=hold.amount)
            release = amount_released
        else:
            release = hold.amount
        left = hold.amount - release
        kind = EntryKind.RELEASE if left == 0 else EntryKind.PARTIAL_RELEASE
        after = HoldState(HoldStatus.RELEASED if left == 0 else HoldStatus.HELD, left,
                          now if left == 0 else hold.closed_at)
    if event_type == EventType.CANCELLATION:
        moved = replace(transit, status=TransitStatus.CANCELLED, cancelled_at=occurred_at)
    elif after is None or after.status == HoldStatus.RELEASED:
        moved = replace(transit, status=TransitStatus.DISCHARGED, discharged_at=occurred_at)
    else:
        moved = transit  # part of the goods discharged: the transit goes on
    return Outcome(moved, after, release, kind)


# --- Receiving -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Context:
    """What an event is checked against, read in one query: the office it names (id, country), an event already
    stored under its message id from this sender (id, content hash), and its transit's id."""

    office: tuple[int, str] | None
    existing: tuple[int, str] | None
    transit_id: int | None


def _context(*, sender, message_id: str, ref: str, office_code: str) -> _Context:
    sql = (
        f"SELECT 'o', o.id, o.country_id FROM {Office._meta.db_table} o WHERE o.code = %s "
        f"UNION ALL SELECT 'e', e.id, e.content_hash FROM {TransitEvent._meta.db_table} e "
        "WHERE e.sender_id = %s AND e.message_id = %s "
        f"UNION ALL SELECT 't', t.id, NULL FROM {Transit._meta.db_table} t WHERE t.declaration_ref = %s"
    )
    found = {}
    with hot_cursor() as cursor:
        cursor.execute(sql, [office_code, sender.pk, message_id, ref])
        for kind, pk, text in cursor.fetchall():
            found[kind] = (pk, text)
    transit = found.get("t")
    return _Context(found.get("o"), found.get("e"), transit[0] if transit else None)


def event_content_hash(event: EventInput) -> str:
    """The digest a replay is compared with (the datetime normalised to UTC, so an offset does not count)."""
    return content_hash({**event.content(), "occurred_at": event.occurred_at})


def transit_event_receive(*, sender, data: dict, api_key=None, by=None, bulk_job=None,
                          default_type: str | None = None) -> tuple[TransitEvent, bool]:
    """Store an event (applied, waiting for its declaration, or refused) and queue its application. Returns
    ``(event, created)``; ``created`` is False for a replay of the same message. A stored event may be refused:
    :func:`event_refusal_shown` says whether to tell the sender.

    The checks read one query (plus the transit's route when it is known) and the event is one INSERT: customs
    systems send several events per transit, which makes this the API's busiest write. When the transit is known
    and the caller holds no transaction, the INSERT commits on its own; otherwise it runs in a block of its own
    (a savepoint inside the caller's), which also re-checks, after the insert, for a declaration committed
    meanwhile."""
    event = event_validate(data, default_type=default_type)
    digest = event_content_hash(event)
    context = _context(sender=sender, message_id=event.message_id, ref=event.declaration_ref, office_code=event.office)
    if context.office is None:
        raise InvalidDeclaration({"office": [_("Unknown customs office.")]})
    if context.existing is not None:
        existing_id, existing_digest = context.existing
        if existing_digest != digest:
            raise Conflict()
        return TransitEvent.objects.get(pk=existing_id), False
    office_id, office_country = context.office
    if office_country != sender.country:
        raise NotAllowed(_("The office is not one of your country's offices."))
    now = timezone.now()
    route = routes_of([context.transit_id]).get(context.transit_id) if context.transit_id else None
    refusal = event_refusal(rule=event_rules()[event.type], sender_id=sender.pk, sender_country=sender.country,
                            office_id=office_id, office_country=office_country, occurred_at=event.occurred_at,
                            route=route, now=now)
    if refusal is None and route is not None and event.type == EventType.PARTIAL_DISCHARGE:
        refusal = _above_held(context.transit_id, event.amount_released)
    if refusal is not None:
        status = EventStatus.REJECTED
    else:
        status = EventStatus.RECEIVED if context.transit_id else EventStatus.WAITING
    row = TransitEvent(
        sender=sender, message_id=event.message_id, declaration_ref=event.declaration_ref,
        transit_id=context.transit_id, type=event.type, office_id=office_id, occurred_at=event.occurred_at,
        amount_released=event.amount_released, payload=event.content(), content_hash=digest, status=status,
        error_code=refusal.reason if refusal else "", error_detail=str(refusal.message) if refusal else "",
        api_key=api_key, received_by_user=by, bulk_job=bulk_job,
    )
    try:
        if context.transit_id is not None and not connection.in_atomic_block:
            insert(row)  # one statement, committed by itself
            if row.status == EventStatus.RECEIVED:
                _queue_apply([row.pk])
        else:
            with transaction.atomic():
                insert(row)
                if row.status == EventStatus.WAITING:
                    # The declaration may be committing right now: re-check under its unique key after insert.
                    transit = Transit.objects.filter(declaration_ref=event.declaration_ref).first()
                    if transit is not None:
                        events_attach(transit=transit, event_ids=[row.pk])
                        row.refresh_from_db(fields=["transit", "status", "error_code", "error_detail"])
                elif row.status == EventStatus.RECEIVED:
                    _queue_apply([row.pk])
    except IntegrityError:
        existing = TransitEvent.objects.filter(sender=sender, message_id=event.message_id).first()
        if existing is None:
            raise
        if existing.content_hash != digest:
            raise Conflict() from None
        return existing, False
    return row, True


def _above_held(transit_id: int, amount_released: int) -> EventRefused | None:
    """A partial discharge of more than its transit still holds, refused when received (its sender is told at
    once, with the code ``above_held``) rather than only when applied in the background."""
    held = Hold.objects.filter(transit__pk=transit_id, status=HoldStatus.HELD).values_list("amount", flat=True).first()
    if held is not None and amount_released > held:
        return EventRefused("above_held", _("The amount released is more than the amount still held "
                                            "(%(held)s FCFA).") % {"held": held}, held=held)
    return None


def event_refusal_shown(event: TransitEvent) -> EventRefused | None:
    """The refusal to tell the sender of a stored event, or ``None`` (applied, waiting, or refused for a reason
    that would tell it about a transit it may not see)."""
    if event.status != EventStatus.REJECTED or event.error_code in HIDDEN_REFUSALS:
        return None
    return EventRefused(event.error_code, event.error_detail or _("The event was refused."))


def _queue_apply(event_ids: list[int]) -> None:
    for pk in event_ids:
        queue_after_commit("guarantees.tasks.apply_transit_event", pk)


# --- Meeting the declaration -------------------------------------------------------------------------------

def events_attach(*, transit: Transit, event_ids: list[int]) -> list[int]:
    """Waiting events that meet their declaration: each is checked against the rules with the transit's route —
    refused (kept, with the reason) or received and queued. Events already attached by the declaration's own
    statement (status ``received``) are checked the same way. Returns the ids queued, in order."""
    if not event_ids:
        return []
    route = routes_of([transit.pk])[transit.pk]
    rules = event_rules()
    now = timezone.now()
    events = list(
        TransitEvent.objects.select_for_update(of=("self",)).filter(pk__in=event_ids)
        .filter(status__in=(EventStatus.WAITING, EventStatus.RECEIVED))
        .select_related("sender", "office").order_by("occurred_at", "pk")
    )
    queued = []
    for event in events:
        refusal = event_refusal(rule=rules[event.type], sender_id=event.sender_id, sender_country=event.sender.country,
                                office_id=event.office_id, office_country=event.office.country_id,
                                occurred_at=event.occurred_at, route=route, now=now)
        event.transit = transit
        if refusal is None:
            event.status = EventStatus.RECEIVED
            queued.append(event.pk)
        else:
            event.status = EventStatus.REJECTED
            event.error_code, event.error_detail = refusal.reason, str(refusal.message)
        event.save(update_fields=["transit", "status", "error_code", "error_detail"])
    _queue_apply(queued)
    return queued


def event_judge(event, *, rule: Rule, sender_country: str, office_country: str, route: Route, transit, hold,
                now: datetime.datetime) -> Outcome | None:
    """What an event does to its transit and hold (locked rows, ORM or light), or ``None`` when it is refused:
    then the event (a stored row or one about to be) is marked rejected with the refusal's code and words. The
    one judgement of ``transit_event_apply`` and of discharge files."""
    try:
        refusal = event_refusal(rule=rule, sender_id=event.sender_id, sender_country=sender_country,
                                office_id=event.office_id, office_country=office_country,
                                occurred_at=event.occurred_at, route=route, now=now)
        if refusal is not None:
            raise refusal
        return event_outcome(
            transit=TransitState(transit.status, transit.arrived_at, transit.discharged_at, transit.cancelled_at),
            hold=HoldState(hold.status, hold.amount, hold.closed_at) if hold else None, event_type=event.type,
            occurred_at=event.occurred_at, amount_released=event.amount_released, now=now,
        )
    except DomainError as exc:
        event.status = EventStatus.REJECTED
        event.error_code = getattr(exc, "reason", "") or exc.code
        event.error_detail = str(exc.message)
        return None


# --- Applying (one event; discharge files and the sweep apply in batches with the same functions) ----------

def transit_event_apply(*, event_id: int) -> TransitEvent | None:
    """Apply a stored event to its transit. Safe to run twice and in any order of events. Locks the event, its
    transit, the guarantee, then the hold (the order of every path that moves a hold)."""
    with transaction.atomic():
        event = (TransitEvent.objects.select_for_update(of=("self",)).select_related("sender", "office")
                 .filter(pk=event_id).first())
        if event is None or event.status != EventStatus.RECEIVED or event.transit_id is None:
            return event
        transit = Transit.objects.select_for_update().get(pk=event.transit_id)
        guarantee = Guarantee.objects.select_for_update().get(pk=transit.guarantee_id)
        hold = Hold.objects.select_for_update().get(pk=transit.hold_id) if transit.hold_id else None
        event.attempts += 1
        now = timezone.now()
        outcome = event_judge(event, rule=event_rules()[event.type], sender_country=event.sender.country,
                              office_country=event.office.country_id, route=routes_of([transit.pk])[transit.pk],
                              transit=transit, hold=hold, now=now)
        if outcome is not None:
            _write_outcome(transit, guarantee, hold, outcome, reference=event.message_id)
            if outcome.release:
                metrics.release_lags_committed([(now - event.received_at).total_seconds()])
            event.status = EventStatus.APPLIED
            event.applied_at = now
        event.save(update_fields=["status", "error_code", "error_detail", "attempts", "applied_at"])
        return event


def _write_outcome(transit: Transit, guarantee: Guarantee, hold: Hold | None, outcome: Outcome, *, reference: str):
    """The outcome on locked ORM rows: the transit, the hold and its ledger entry, the guarantee's closing and the
    transit's open enquiries."""
    from guarantees.services.enquiries import enquiries_close_on_discharge
    from guarantees.services.guarantees import guarantee_close_if_settled_locked
    from guarantees.services.ledger import ledger_append

    before = transit.status
    transit.status = outcome.transit.status
    transit.arrived_at = outcome.transit.arrived_at
    transit.discharged_at = outcome.transit.discharged_at
    transit.cancelled_at = outcome.transit.cancelled_at
    transit.save(update_fields=["status", "arrived_at", "discharged_at", "cancelled_at"])
    if outcome.release:
        hold.status, hold.amount, hold.closed_at = outcome.hold.status, outcome.hold.amount, outcome.hold.closed_at
        hold.save(update_fields=["status", "amount", "closed_at"])
        ledger_append(guarantee=guarantee, kind=outcome.kind, d_held=-outcome.release, hold=hold,
                      reference=reference or hold.reference)
        guarantee_close_if_settled_locked(guarantee)
    if transit.status != before and outcome.ends_transit:
        enquiries_close_on_discharge(transit_ids=[transit.pk])

