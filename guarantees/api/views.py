"""Endpoints of the interconnection API. Each parses its input, calls one service or selector, and answers.

``get_queryset`` always starts from a selector that narrows to what the caller's organisation may see, so
another organisation's object is a 404. A customs system (API key) and a person (session) reach the same
endpoints; the key acts for its administration, with ``api_key`` recorded on what it sends.
"""

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from guarantees.api import serializers as s
from guarantees.api.authentication import ApiClient
from guarantees.api.exception_handler import PayloadTooLarge
from guarantees.api.filters import GuaranteeFilter, TransitFilter
from guarantees.errors import Conflict
from guarantees.grn import grn_normalise
from guarantees.pagination import COUNT_CAP, CappedPaginator
from guarantees.models import (
    Country,
    DischargeFile,
    EntryKind,
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
    400: OpenApiResponse(s.ValidationErrorOut, description="Invalid input (`invalid`, with `errors` by field) "
                                                           "or a body that does not parse (`parse_error`)."),
    401: OpenApiResponse(s.ErrorOut, description="No credentials, or an unknown or revoked API key "
                                                 "(`not_authenticated`)."),
    403: OpenApiResponse(s.ErrorOut, description="Not allowed for this caller (`permission_denied`), or an office "
                                                 "that is not of the caller's country (`not_allowed`)."),
    404: OpenApiResponse(s.ErrorOut, description="Unknown, or not visible to the caller (`not_found`)."),
    429: OpenApiResponse(s.ErrorOut, description="Slowed down (`throttled`, `too_many_attempts`); the "
                                                 "Retry-After header and `retry_after` give the seconds left."),
}
_CHECK_404 = OpenApiResponse(
    s.ErrorOut, description="Unknown GRN or wrong access code: the same answer for both (`not_found`)."
)
_409 = OpenApiResponse(
    s.InsufficientBalanceOut,
    description="A business rule refused it: `conflict` (the reference was used with other content), "
                "`insufficient_balance` (with `available`), `guarantee_not_active`, `country_not_covered`.",
)
_GRN = OpenApiParameter("grn", OpenApiTypes.STR, OpenApiParameter.PATH, description="Guarantee reference number.")
_REF = OpenApiParameter("declaration_ref", OpenApiTypes.STR, OpenApiParameter.PATH,
                        description="The customs system's declaration reference.")


def _errors(*codes: int, extra: dict) -> dict:
    return {**extra, **{code: _E[code] for code in codes}}


class Pagination(PageNumberPagination):
    """Page numbers with a capped count (``guarantees.pagination``): ``count`` is exact up to 10 000 rows past the
    page asked; beyond, ``count`` is that number and ``count_capped`` is true ("more than"). ``next`` is given
    whenever a row follows, so a client walks every page by following it."""

    django_paginator_class = CappedPaginator
    page_size_query_param = "page_size"
    max_page_size = 200

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
        described["required"] = ["count", "count_capped", "results"]
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
        responses=_errors(400, 401, 403, 429, extra={200: s.GuaranteeOut(many=True)}),
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
        responses=_errors(400, 401, 403, 429, extra={200: s.GuaranteeCheckOut, 404: _CHECK_404}),
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
        responses=_errors(400, 401, 403, 429, extra={200: s.TransitOut(many=True)}),
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
            400, 401, 403, 429,
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
            400, 401, 403, 404, 429,
            extra={
                202: OpenApiResponse(s.EventAcceptedOut, description="Stored; applied in the background (or, for "
                                                                     "a transit the caller may not see, kept and "
                                                                     "refused — answered the same way)."),
                200: OpenApiResponse(s.EventAcceptedOut, description="Already received: nothing changes."),
                403: OpenApiResponse(s.ErrorOut, description="`event_refused` (with `reason`): kept, never applied "
                                                             "— see the rules above; `not_allowed`: the office is "
                                                             "not of the caller's country (not stored)."),
                409: OpenApiResponse(s.ErrorOut, description="The message id was used with other content "
                                                             "(`conflict`)."),
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
        description="A CSV (header `message_id,declaration_ref,type,office,occurred_at,amount_released`; "
                    "`type` defaults to `discharge`) or a JSON list of events, as a multipart `file` or as the "
                    "raw body (`Content-Type: text/csv` or `application/json`, optional `?filename=`). "
                    "Processed in the background; each line is one event with the same idempotency as "
                    "`POST /transits/{declaration_ref}/events`.",
        parameters=[OpenApiParameter("filename", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                                     description="Name of the file, for a raw body.")],
        request={
            "multipart/form-data": s.DischargeFileIn,
            "text/csv": OpenApiTypes.STR,
            "application/json": s.TransitEventFileLineIn(many=True),
        },
        responses=_errors(
            400, 401, 403, 429,
            extra={
                202: OpenApiResponse(s.JobAcceptedOut, description="Stored; follow it at /api/v1/jobs/{job}."),
                413: OpenApiResponse(s.ErrorOut, description="The file is too large (`too_large`)."),
            },
        ),
    )
    def create(self, request, *args, **kwargs):
        data = request.data
        if isinstance(data, RawUpload):
            default = "discharges.json" if data.media_type == "application/json" else "discharges.csv"
            filename = _safe_filename(request.query_params.get("filename", ""), default)
            content = data.content
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationError({"file": [_("Send the file in the field \"file\", or as the raw body.")]})
            if upload.size > settings.API_DISCHARGE_FILE_MAX_BYTES:
                raise PayloadTooLarge(_("The file is too large."))
            filename = _safe_filename(upload.name, "discharges.csv")
            content = upload.read()
        if not content.strip():
            raise ValidationError({"file": [_("The file is empty.")]})
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
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
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
