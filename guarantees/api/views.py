"""Endpoints of the interconnection API. Each parses its input, calls one service or selector, and answers.

``get_queryset`` always starts from a selector that narrows to what the caller's organisation may see, so
another organisation's object is a 404. A customs system (API key) and a person (session) reach the same
endpoints; the key acts for its administration, with ``api_key`` recorded on what it sends.
"""

import csv
import io
import json
import re

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from guarantees.api import serializers as s
from guarantees.api.authentication import ApiClient
from guarantees.api.exception_handler import InvalidFile, PayloadTooLarge
from guarantees.api.filters import GuaranteeFilter, TransitFilter
from guarantees.api.schema import error_response
from guarantees.errors import Conflict
from guarantees.grn import grn_normalise
from guarantees.pagination import COUNT_CAP, CappedPaginator
from guarantees.models import (
    Country,
    DischargeFile,
    EntryKind,
    EventType,
    Guarantee,
    GuaranteeStatus,
    Hold,
    HoldStatus,
    LedgerEntry,
    Transit,
    TransitEvent,
    TransitStatus,
)
from guarantees.selectors.guarantees import guarantees_visible_to
from guarantees.selectors.transits import transits_visible_to
from guarantees.services.access_codes import access_code_check
from guarantees.services.events import event_refusal_shown, transit_event_receive
from guarantees.services.transits import discharge_file_receive, transit_declare


def _rules_table() -> str:
    from guarantees.models import DEFAULT_EVENT_RULES, EventPlace, EventSender

    with translation.override("en"):
        rows = [f"| `{event_type}` | {EventSender(sender).label} | {EventPlace(place).label} |"
                for event_type, (sender, place) in DEFAULT_EVENT_RULES.items()]
    return "\n".join(["| type | who may send it | where |", "| --- | --- | --- |", *rows])


_EVENTS_DESCRIPTION = (
    "Border exit or entry, arrival, discharge, partial discharge, cancellation. Idempotent on `message_id`: the "
    "same message again answers 200 `duplicate` and changes nothing. A discharge or cancellation releases the hold "
    "in the background, within seconds. An event for a declaration not yet received is kept and applied when it "
    "arrives.\n\n"
    "**Who may report what, where** (the registry's rule; the secretariat may widen *where*, e.g. a discharge at "
    "any office of the destination country):\n\n" + _rules_table() + "\n\n"
    "The office must be of the caller's country (403 `not_allowed`, not stored). An event is never dated before "
    "its transit's declaration nor in the future (a few minutes of clock difference are tolerated). The rule is "
    "checked when the event is received, when an event sent early meets its declaration, and again when it is "
    "applied. An event that may not act is **kept, refused with its reason** (never applied, never dropped): "
    "403 `event_refused` with `reason` (`sender_not_allowed`, `office_not_allowed`, `dated_before_declaration`, "
    "`dated_in_future`) when the transit's route crosses the caller's country, the same answer on every replay. "
    "An event about a transit whose route does not cross the caller's country is answered like one for a "
    "declaration not received yet (202), so that references cannot be probed; it is kept refused "
    "(`not_on_route`). A partial discharge above what is still held is refused when applied (`above_held`)."
)


# --- Shared pieces ---------------------------------------------------------------------------------------

_E = {
    400: error_response(400, "Invalid input: `invalid`, with `errors` by field; `parse_error`: the body is not "
                             "JSON (or not the multipart form announced), `errors.non_field_errors` says why."),
    401: error_response(401, "No credentials, or an unknown or revoked API key (`not_authenticated`)."),
    403: error_response(403, "Not allowed for this caller (`permission_denied`), or an office that is not of the "
                             "caller's country (`not_allowed`)."),
    404: error_response(404, "Unknown, or not visible to the caller (`not_found`)."),
    415: error_response(415, "A content type this operation does not take (`unsupported_media_type`)."),
    429: error_response(429, "Slowed down (`throttled`, `too_many_attempts`); the Retry-After header and "
                             "`retry_after` give the seconds left.",
                        example={"code": "too_many_attempts", "detail": "Too many wrong attempts on this guarantee. "
                                 "Try again in 15 minutes.", "retry_after": 900}),
}
_CHECK_404 = error_response(404, "Unknown GRN or wrong access code: the same answer for both (`not_found`).")
_LIST_404 = error_response(404, "A `page` past the last one (`not_found`). The first page always exists, even "
                                "when empty.")
_409 = error_response(
    409,
    "A business rule refused it: `conflict` (the reference was used with other content, or by another "
    "administration), `insufficient_balance` (with `available`), `guarantee_not_active`, `country_not_covered`.",
)
_GRN = OpenApiParameter("grn", OpenApiTypes.STR, OpenApiParameter.PATH,
                        description="Guarantee reference number (GRN), e.g. `26BF000000012345-47`.",
                        pattern=r"^[A-Za-z0-9.\-]{1,40}$")
_REF = OpenApiParameter("declaration_ref", OpenApiTypes.STR, OpenApiParameter.PATH,
                        description="The customs system's declaration reference.",
                        pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Its id, as given at upload.")


def _errors(*codes: int, extra: dict) -> dict:
    return {**{code: _E[code] for code in codes}, **extra}


class Pagination(PageNumberPagination):
    """``page`` from 1, ``page_size`` from 1 to 200: anything else is a 400 ``invalid`` (not silently the
    default); a page past the last is a 404 ``not_found``, as documented. The count is capped
    (``guarantees.pagination``): ``count`` is exact up to 10 000 rows past the page asked; beyond, ``count`` is that
    number and ``count_capped`` is true ("more than"). ``next`` is given whenever a row follows, so a client walks
    every page by following it."""

    django_paginator_class = CappedPaginator
    page_size_query_param = "page_size"
    max_page_size = 200
    max_page = 10**9
    page_query_description = "Page number, from 1. A page past the last is a 404 `not_found`."
    page_size_query_description = "Results per page, from 1 to 200 (default 50)."

    def paginate_queryset(self, queryset, request, view=None):
        errors = {}
        for name, highest in ((self.page_query_param, self.max_page), (self.page_size_query_param,
                                                                       self.max_page_size)):
            raw = request.query_params.get(name)
            if raw is None:
                continue
            if not re.fullmatch(r"[0-9]{1,10}", raw) or not 1 <= int(raw) <= highest:
                errors[name] = [_("A whole number from 1 to %(highest)s is required.") % {"highest": highest}]
        if errors:
            raise ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.page_query_param: self.max_page, self.page_size_query_param: self.max_page_size}
        for parameter in parameters:
            parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": bounds[parameter["name"]]}
        return parameters

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response({
            "count": paginator.shown_count,
            "count_capped": paginator.capped,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        properties = described["properties"]
        properties["count"]["description"] = (
            f"Rows matching, exact up to {COUNT_CAP} past the page asked; when `count_capped` is true there are "
            "more than `count` (the list is not counted to its end: filter it)."
        )
        described["properties"] = {
            "count": properties["count"],
            "count_capped": {"type": "boolean", "example": False,
                             "description": "True when there are more rows than `count`."},
            **{k: v for k, v in properties.items() if k != "count"},
        }
        properties["next"]["description"] = "Link to the next page; null on the last."
        properties["previous"]["description"] = "Link to the previous page; null on the first."
        described["required"] = ["count", "count_capped", "next", "previous", "results"]
        described["description"] = "One page of results, with the links to the pages around it."
        return described


def _caller(request) -> str:
    user = request.user
    if isinstance(user, ApiClient):
        return user.throttle_ident
    return f"user:{user.pk}"


def _actor(request) -> dict:
    """``api_key`` and ``by`` as the services record them."""
    user = request.user
    if isinstance(user, ApiClient):
        return {"api_key": user.api_key, "by": None}
    return {"api_key": None, "by": user}


def _covered_countries() -> list[str]:
    return list(Country.objects.filter(is_covered=True).order_by("code").values_list("code", flat=True))


def _guarantee_by_access_code(request, *, grn: str, code: str) -> Guarantee:
    guarantee = access_code_check(grn=grn, code=code, caller=_caller(request))
    if guarantee is None:
        raise NotFound()  # the same answer for an unknown GRN and a wrong code
    return guarantee


_STATUS_REASONS = {
    GuaranteeStatus.SUSPENDED: "suspended",
    GuaranteeStatus.EXPIRED: "expired",
    GuaranteeStatus.CANCELLED: "cancelled",
    GuaranteeStatus.CLOSED: "closed",
}


def _check_result(guarantee: Guarantee, amount: int | None) -> dict:
    today = timezone.localdate()
    reasons: list[str] = []
    if guarantee.status != GuaranteeStatus.ACTIVE:
        reasons.append(_STATUS_REASONS.get(guarantee.status, "not_active"))
    if today < guarantee.valid_from:
        reasons.append("not_yet_valid")
    if today > guarantee.valid_until and "expired" not in reasons:
        reasons.append("expired")
    available = max(guarantee.available, 0)
    sufficient = None if amount is None else available >= amount
    if sufficient is False:
        reasons.append("insufficient_balance")
    return {
        "grn": guarantee.grn,
        "status": guarantee.status,
        "valid": not reasons,
        "reasons": reasons,
        "currency": guarantee.currency,
        "available": available,
        "sufficient": sufficient,
        "valid_until": guarantee.valid_until,
        "countries": _covered_countries(),
        "principal": {"name": guarantee.principal.name, "tin": guarantee.principal.tin},
        "guarantor": {"name": guarantee.bank.organisation.name},
    }


# The balance right after a transit's hold, for the answer to a replayed declaration (a new one knows it already):
# the live balance, plus what the entries after the hold's own took or gave back. Written as SQL because customs
# systems replay declarations often (a lost answer is sent again), and compiling the same query through the ORM (two
# nested subqueries) cost a fifth of such a request's CPU; it reads the same rows the same way.
_RECEIPT_SQL = (
    "SELECT g.grn, g.amount - g.held - g.claimed - g.paid + COALESCE(("
    f"SELECT SUM(e.d_held + e.d_claimed + e.d_paid - e.d_amount) FROM {LedgerEntry._meta.db_table} e "
    "WHERE e.guarantee_id = g.id AND e.seq > ("
    f"SELECT h.seq FROM {LedgerEntry._meta.db_table} h WHERE h.hold_id = %s AND h.kind = %s "
    "ORDER BY h.seq LIMIT 1)), 0) "
    f"FROM {Guarantee._meta.db_table} g WHERE g.id = %s"
)


def _declaration_receipt(transit: Transit) -> dict:
    """The answer to a declaration, the same on every replay: what was held, the time limit, and the balance
    right after the hold. A transit just declared knows that balance (``available_after_hold``); for a replay it
    is the live balance plus what later ledger entries took or gave back."""
    available = getattr(transit, "available_after_hold", None)
    if available is not None:
        grn = transit.guarantee.grn
    else:
        with connection.cursor() as cursor:
            cursor.execute(_RECEIPT_SQL, [transit.hold_id, EntryKind.HOLD.value, transit.guarantee_id])
            grn, available = cursor.fetchone()
    return {
        "declaration_ref": transit.declaration_ref,
        "status": TransitStatus.DECLARED,
        "amount_held": transit.amount_held,
        "deadline": transit.deadline,
        "guarantee": {"grn": grn, "available": max(available, 0)},
    }


# --- Guarantees ------------------------------------------------------------------------------------------

@extend_schema(tags=["guarantees"])
class GuaranteeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    required_permission = {"list": "guarantee.view", "retrieve": "guarantee.view", "check": "guarantee.lookup"}
    lookup_field = "grn"
    filterset_class = GuaranteeFilter
    pagination_class = Pagination

    def get_queryset(self):
        queryset = guarantees_visible_to(user=self.request.user).select_related("bank__organisation")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch(
                    "holds",
                    queryset=Hold.objects.filter(status__in=[HoldStatus.HELD, HoldStatus.CLAIMED]).order_by(
                        "created_at", "pk"
                    ),
                    to_attr="open_holds",
                )
            )
        return queryset.order_by("-created_at", "-pk")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.GuaranteeDetailOut
        if self.action == "check":
            return s.GuaranteeCheckIn
        return s.GuaranteeOut

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action in ("list", "retrieve"):
            context["countries"] = _covered_countries()
        return context

    def get_object(self):
        grn = grn_normalise(self.kwargs.get("grn", ""))
        guarantee = self.get_queryset().filter(grn=grn).first() if grn else None
        if guarantee is None:
            raise NotFound()
        return guarantee

    @extend_schema(
        summary="Guarantees the caller may see",
        description="Forwarders see their own guarantees, banks those they issued, a customs administration "
                    "(and its API key) those issued in its country, the secretariat all. Paginated.",
        responses=_errors(400, 401, 403, 429, extra={200: s.GuaranteeOut(many=True), 404: _LIST_404}),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="One guarantee, with its balance and open holds",
        parameters=[_GRN],
        responses=_errors(401, 403, 404, 429, extra={200: s.GuaranteeDetailOut}),
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Check a guarantee with its access code",
        description="Whether the guarantee can secure a transit now, with its live available balance. An "
                    "unknown GRN and a wrong access code get the same 404. After repeated wrong codes, that caller "
                    "(API key or person) is refused on that GRN with 429 `too_many_attempts`, right code or not, "
                    "for the rest of the window (`Retry-After` and `retry_after`: the seconds left); other callers "
                    "and other GRNs are not affected.",
        parameters=[_GRN],
        request=s.GuaranteeCheckIn,
        responses=_errors(400, 401, 403, 415, 429, extra={200: s.GuaranteeCheckOut, 404: _CHECK_404}),
        examples=[OpenApiExample("Check", value={"access_code": "7K2Q", "amount": 4500000}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def check(self, request, grn=None):
        body = s.GuaranteeCheckIn(data=request.data)
        body.is_valid(raise_exception=True)
        guarantee = _guarantee_by_access_code(request, grn=grn, code=body.validated_data["access_code"])
        guarantee = Guarantee.objects.select_related("principal", "bank__organisation").get(pk=guarantee.pk)
        return Response(s.GuaranteeCheckOut(_check_result(guarantee, body.validated_data.get("amount"))).data)


# --- Transits --------------------------------------------------------------------------------------------

@extend_schema(tags=["transits"])
class TransitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    required_permission = {
        "list": "transit.view",
        "retrieve": "transit.view",
        "create": "transit.declare",
        "events": "transit.event",
    }
    lookup_field = "declaration_ref"
    filterset_class = TransitFilter
    pagination_class = Pagination

    def get_queryset(self):
        queryset = transits_visible_to(user=self.request.user).prefetch_related("stops__office")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("events", queryset=TransitEvent.objects.select_related("office").order_by("occurred_at", "pk"))
            )
        return queryset.order_by("-declared_at", "-pk")

    def get_serializer_class(self):
        return {
            "retrieve": s.TransitDetailOut,
            "create": s.TransitDeclareIn,
            "events": s.TransitEventIn,
        }.get(self.action, s.TransitOut)

    def get_object(self):
        transit = self.get_queryset().filter(declaration_ref=self.kwargs.get("declaration_ref", "")).first()
        if transit is None:
            raise NotFound()
        return transit

    @extend_schema(
        summary="Transits the caller may see",
        description="Forwarders see theirs, banks those on their guarantees, a customs administration those "
                    "whose route crosses its country. Newest first, paginated.",
        responses=_errors(400, 401, 403, 429, extra={200: s.TransitOut(many=True), 404: _LIST_404}),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="One transit, with its route, events and hold",
        parameters=[_REF],
        responses=_errors(401, 403, 404, 429, extra={200: s.TransitDetailOut}),
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Declare a transit (take the hold)",
        description="Takes the hold on the guarantee in the same transaction. When `amount` is absent, the "
                    "amount at stake is computed from the goods, for each country on the route, keeping the "
                    "highest. The same `declaration_ref` with the same content answers 200 with the same body "
                    "and takes nothing more; with other content, 409 `conflict`. A wrong access code is the same "
                    "404 as an unknown GRN. The office of departure must be of the caller's country (403).",
        request=s.TransitDeclareIn,
        responses=_errors(
            400, 401, 403, 415, 429,
            extra={
                201: OpenApiResponse(s.TransitDeclaredOut, description="Declared; the hold is taken."),
                200: OpenApiResponse(s.TransitDeclaredOut, description="A replay: the same answer, nothing more "
                                                                       "taken."),
                404: _CHECK_404,
                409: _409,
            },
        ),
        examples=[
            OpenApiExample(
                "Declaration",
                request_only=True,
                value={
                    "declaration_ref": "TG-LOME-2026-T-004512", "grn": "26BF000000012345-47", "access_code": "7K2Q",
                    "office_of_departure": "TGLOME", "office_of_destination": "BFOUAG",
                    "route": ["TGCINK", "BFCINK"], "corridor": "LOM-OUA", "declared_at": "2026-03-02T09:15:00Z",
                    "amount": 4500000,
                    "goods": [{"hs_code": "100630", "description": "Riz", "customs_value": 25000000,
                               "gross_mass_kg": 30000}],
                    "transport": {"vehicle": "BF-1234-AB", "containers": ["MSCU1234567"], "seals": ["TG000123"]},
                },
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        body = s.TransitDeclareIn(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        guarantee = _guarantee_by_access_code(request, grn=v["grn"], code=v["access_code"])
        sender = request.user.organisation
        transit, created = transit_declare(
            sender=sender, guarantee=guarantee, data=body.to_service_data(), **_actor(request)
        )
        if not created and transit.declared_by_id != sender.pk:
            raise Conflict()  # another administration's reference
        return Response(
            s.TransitDeclaredOut(_declaration_receipt(transit)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Report an event of a transit",
        description=_EVENTS_DESCRIPTION,
        parameters=[_REF],
        request=s.TransitEventIn,
        responses=_errors(
            400, 401, 403, 404, 415, 429,
            extra={
                202: OpenApiResponse(s.EventAcceptedOut, description="Stored; applied in the background (or, for "
                                                                     "a transit the caller may not see, kept and "
                                                                     "refused — answered the same way)."),
                200: OpenApiResponse(s.EventAcceptedOut, description="Already received: nothing changes."),
                403: error_response(403, "`event_refused` (with `reason`): kept, never applied — see the rules "
                                         "above; `not_allowed`: the office is not of the caller's country (not "
                                         "stored); `permission_denied`: not a customs caller.",
                                    example={"code": "event_refused", "reason": "dated_before_declaration",
                                             "detail": "The event is dated before the transit was declared."}),
                409: error_response(409, "The message id was used with other content (`conflict`), or the "
                                         "event cannot apply to the transit as it stands.",
                                    example={"code": "conflict", "detail": "This reference was already used with "
                                                                           "other content."}),
            },
        ),
        examples=[
            OpenApiExample(
                "Discharge", request_only=True,
                value={"message_id": "BF-2026-000123", "type": "discharge", "office": "BFOUAG",
                       "occurred_at": "2026-03-06T15:40:00Z"},
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def events(self, request, declaration_ref=None):
        body = s.TransitEventIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = {**body.validated_data, "declaration_ref": declaration_ref}
        event, created = transit_event_receive(sender=request.user.organisation, data=data, **_actor(request))
        refusal = event_refusal_shown(event)
        if refusal is not None:
            raise refusal  # kept, refused: the same answer on every replay
        if created:
            return Response({"status": "accepted"}, status=status.HTTP_202_ACCEPTED)
        return Response({"status": "duplicate"}, status=status.HTTP_200_OK)


# --- Bulk discharge files --------------------------------------------------------------------------------

class RawUpload:
    def __init__(self, content: bytes, media_type: str):
        self.content = content
        self.media_type = media_type


class _RawBodyParser(BaseParser):
    """Keeps the body as bytes: the file is stored as received and parsed line by line in the background."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_DISCHARGE_FILE_MAX_BYTES
        content = stream.read(limit + 1) if stream is not None else b""
        if len(content) > limit:
            raise PayloadTooLarge(_("The file is too large."))
        return RawUpload(content, self.media_type)


class RawCsvParser(_RawBodyParser):
    media_type = "text/csv"


class RawJsonParser(_RawBodyParser):
    media_type = "application/json"


_FILE_REQUIRED = ("message_id", "declaration_ref", "office", "occurred_at")
_FILE_TEXT_LIMITS = {"message_id": 100, "declaration_ref": 64, "office": 12, "occurred_at": 64}
_EVENT_TYPES = frozenset(EventType.values)
_TEXT = re.compile(s.TEXT_PATTERN)


def _json_line_problem(line) -> str | None:
    """What is wrong with the shape of one JSON line (its types, the fields it must have); ``None`` when it is
    well formed. Formats and the business rules (a known office, a date in range) are checked line by line in
    the background, each refused line listed in the job's errors."""
    if not isinstance(line, dict):
        return _("is not an object")
    for name in _FILE_REQUIRED:
        if name not in line:
            return _("lacks %(field)s") % {"field": name}
    for name, limit in _FILE_TEXT_LIMITS.items():
        value = line.get(name)
        if not isinstance(value, str) or len(value) > limit or not _TEXT.match(value):
            return _("%(field)s must be a text of 1 to %(limit)s characters") % {"field": name, "limit": limit}
    if line.get("type") is not None and (not isinstance(line["type"], str) or line["type"] not in _EVENT_TYPES):
        return _("type is not a known event type")
    amount = line.get("amount_released")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        return _("amount_released must be a whole number")
    return None


def discharge_file_check(content: bytes, *, is_json: bool) -> None:
    """Refuse at once (400 ``invalid_file``) a file that cannot be read: empty, not UTF-8 text, a CSV without
    the columns it needs, a JSON document that is not a list of well-formed events."""
    if not content.strip():
        raise InvalidFile({"file": [_("The file is empty.")]})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidFile({"file": [_("The file is not UTF-8 text (CSV or JSON).")]}) from None
    if "\x00" in text:
        raise InvalidFile({"file": [_("The file is not UTF-8 text (CSV or JSON).")]})
    if is_json:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise InvalidFile({"file": [_("The file is not valid JSON.")]}) from None
        if isinstance(data, dict) and set(data) == {"events"}:
            data = data["events"]
        if not isinstance(data, list):
            raise InvalidFile({"file": [_("A JSON file must be {\"events\": [...]}, a list of events.")]})
        if not data:
            raise InvalidFile({"file": [_("The file has no events.")]})
        for number, line in enumerate(data, start=1):
            problem = _json_line_problem(line)
            if problem:
                raise InvalidFile({"file": [_("Line %(number)s %(problem)s.") % {"number": number,
                                                                                  "problem": problem}]})
        return
    header = next(csv.reader(io.StringIO(text)), [])
    missing = [name for name in _FILE_REQUIRED if name not in {cell.strip() for cell in header}]
    if missing:
        raise InvalidFile({"file": [_("The CSV file's first line must name the columns message_id, "
                                      "declaration_ref, type, office, occurred_at, amount_released (missing: "
                                      "%(missing)s).") % {"missing": ", ".join(missing)}]})


def _looks_json(filename: str, content: bytes, media_type: str | None) -> bool:
    """The same guess as the background's (``discharge_file_receive``), plus the announced media type."""
    return (media_type == "application/json" or filename.lower().endswith(".json")
            or content.lstrip()[:1] in (b"[", b"{"))


def _safe_filename(name: str, default: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch != "\x00")[:200]
    return name or default


@extend_schema(tags=["discharges"])
class DischargeFileViewSet(viewsets.GenericViewSet):
    required_permission = {"create": "discharge.upload"}
    parser_classes = [MultiPartParser, RawCsvParser, RawJsonParser]
    serializer_class = s.DischargeFileIn

    @extend_schema(
        summary="Send a file of discharge events",
        description="A CSV (UTF-8, header `message_id,declaration_ref,type,office,occurred_at,amount_released`) "
                    "or a JSON document `{\"events\": [...]}` (a bare JSON list of the same events is taken too), "
                    "as a multipart `file` or as the raw body (`Content-Type: text/csv` or `application/json`, "
                    "optional `?filename=`). In both formats `type` defaults to `discharge`.\n\n"
                    "The file is checked at once: empty, not UTF-8, a CSV without its header, JSON that does not "
                    "parse or is not a list of event objects with their fields is refused with 400 `invalid_file` "
                    "and nothing is stored. Then it is processed in the background; each line is one event with "
                    "the same rules and idempotency as `POST /transits/{declaration_ref}/events`, a refused line "
                    "listed in the job's `errors` with its number and code.",
        parameters=[OpenApiParameter("filename", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                                     description="Name of the file, for a raw body.")],
        request={
            "multipart/form-data": s.DischargeFileIn,
            "text/csv": {"type": "string", "minLength": 1,
                         "description": "The CSV file, UTF-8, its first line naming the columns."},
            "application/json": s.DischargeFileJsonIn,
        },
        responses=_errors(
            401, 403, 415, 429,
            extra={
                202: OpenApiResponse(s.JobAcceptedOut, description="Stored; follow it at /api/v1/jobs/{job} "
                                                                   "(also in the Location header)."),
                400: error_response(400, "The file cannot be taken (`invalid_file`, with `errors.file` saying "
                                         "why: empty, not UTF-8, not a CSV with the header, not a JSON list of "
                                         "objects), or a form without `file` (`invalid`), or a raw JSON body "
                                         "that does not parse (`parse_error`).",
                                    example={"code": "invalid_file", "detail": "The file cannot be read.",
                                             "errors": {"file": ["The file is not UTF-8 text."]}}),
                413: error_response(413, "The file is too large (`too_large`)."),
            },
        ),
    )
    def create(self, request, *args, **kwargs):
        data = request.data
        media_type = None
        if isinstance(data, RawUpload):
            default = "discharges.json" if data.media_type == "application/json" else "discharges.csv"
            filename = _safe_filename(request.query_params.get("filename", ""), default)
            content = data.content
            media_type = data.media_type
        else:
            if (request.content_type or "").split(";")[0].strip() in ("text/csv", "application/json"):
                raise InvalidFile({"file": [_("The file is empty.")]})  # a raw body with nothing in it
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationError({"file": [_("Send the file in the field \"file\", or as the raw body.")]})
            if upload.size > settings.API_DISCHARGE_FILE_MAX_BYTES:
                raise PayloadTooLarge(_("The file is too large."))
            filename = _safe_filename(upload.name, "discharges.csv")
            content = upload.read()
        discharge_file_check(content, is_json=_looks_json(filename, content, media_type))
        job = discharge_file_receive(
            sender=request.user.organisation, filename=filename, content=content, **_actor(request)
        )
        response = Response({"job": job.pk}, status=status.HTTP_202_ACCEPTED)
        response["Location"] = f"/api/v1/jobs/{job.pk}"
        return response


@extend_schema(tags=["discharges"])
class JobViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    required_permission = {"retrieve": "discharge.upload"}
    serializer_class = s.JobOut

    def get_queryset(self):
        organisation = self.request.user.organisation
        return DischargeFile.objects.filter(sender=organisation).defer("content")

    @extend_schema(
        summary="Progress of a discharge file",
        description="`status` is queued, running, done or failed; `errors` lists each refused line with its "
                    "number and code. Only the administration that sent the file sees it.",
        parameters=[_ID],
        responses=_errors(401, 403, 404, 429, extra={200: s.JobOut}),
    )
    def retrieve(self, request, *args, **kwargs):
        try:
            pk = int(kwargs.get("pk", ""))
        except ValueError:
            raise NotFound() from None
        job = self.get_queryset().filter(pk=pk).first() if 0 < pk < 2**63 else None
        if job is None:
            raise NotFound()
        return Response({
            "id": job.pk, "status": job.status, "total": job.total, "done": job.done,
            "duplicates": job.duplicates, "failed": job.failed, "errors": job.errors,
        })
