"""``/api/v1/reconciliations``: a customs system sends its list of open transits and reads the report.

The list is stored and compared in the background (``guarantees.operations.reconciliation``); the report is the
caller's administration's alone (another country's report is a 404). Sending the list needs the permission of
a customs system's bulk uploads (``discharge.upload``), as the discharge files do.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from guarantees.api.schema import error_response
from guarantees.api.serializers import (
    DECLARATION_REF_RE,
    MAX_AMOUNT,
    AwareDateTimeField,
    RegexField,
    Serializer,
    StrictIntegerField,
    enum_field,
)
from guarantees.api.views import _ID, _actor
from guarantees.models import DifferenceKind, ReconciliationStatus, TransitStatus
from guarantees.operations.reconciliation import (
    MAX_TRANSITS,
    reconciliation_receive,
    reconciliations_visible_to,
)

# --- Bodies ------------------------------------------------------------------------------------------------


class ReconciliationTransitIn(Serializer):
    """A transit the customs system considers open."""

    declaration_ref = RegexField(DECLARATION_REF_RE, max_length=64,
                                             help_text="The customs system's declaration reference.")
    amount = StrictIntegerField(
        min_value=0, max_value=MAX_AMOUNT, required=False, allow_null=True,
                                help_text="What the customs system holds for the transit, in whole francs CFA; "
                                          "omitted or null: not compared.")


class ReconciliationIn(Serializer):
    """The list of the transits a customs system considers open, to compare with the registry's holds."""

    as_of = AwareDateTimeField(required=False, help_text="When the list was taken (default: now), ISO 8601 with its "
                                                         "offset, from 2000-01-01 to no later than a day after the "
                                                         "registry's clock. Transits declared after it are not "
                                                         "expected in it.")
    transits = ReconciliationTransitIn(many=True, max_length=MAX_TRANSITS, allow_empty=True,
                                       help_text="The open transits (may be empty).")


_STATUS_HELP = "`received` (being compared), `done` or `failed`."


class ReconciliationAcceptedOut(Serializer):
    """A list stored, to be compared in the background."""

    reconciliation = serializers.IntegerField(help_text="Its id: read the report at "
                                                        "`/api/v1/reconciliations/{reconciliation}`.")
    status = serializers.ChoiceField(choices=ReconciliationStatus.choices, help_text=_STATUS_HELP)


class ReconciliationDifferenceOut(Serializer):
    """A transit on which the registry and the customs system differ."""

    kind = serializers.ChoiceField(choices=DifferenceKind.choices, help_text="How they differ.")
    declaration_ref = serializers.CharField(help_text="The declaration.")
    status_here = enum_field(["", *TransitStatus.values], help_text="The transit's status in the registry "
                                                                    "(empty when unknown here).")
    amount_here = serializers.IntegerField(allow_null=True, help_text="Held in the registry, whole francs CFA.")
    amount_there = serializers.IntegerField(allow_null=True, help_text="Held by the customs system.")


class ReconciliationOut(Serializer):
    """The report of a reconciliation: the counts, and each difference."""

    id = serializers.IntegerField(help_text="Its id.")
    country = serializers.CharField(help_text="The customs administration's country (ISO code).")
    as_of = serializers.DateTimeField(help_text="When the list was taken.")
    status = serializers.ChoiceField(choices=ReconciliationStatus.choices, help_text=_STATUS_HELP)
    listed = serializers.IntegerField(help_text="Transits in the list.")
    open_here = serializers.IntegerField(help_text="Transits open in the registry for this country.")
    matched = serializers.IntegerField(help_text="Open on both sides, same amount.")
    closed_there = serializers.IntegerField(help_text="Open here, not in the list.")
    unknown_here = serializers.IntegerField(help_text="In the list, unknown here.")
    closed_here = serializers.IntegerField(help_text="In the list, closed here.")
    amount_differs = serializers.IntegerField(help_text="Open on both sides, amounts differ.")
    differences = ReconciliationDifferenceOut(many=True)


_ERRORS = {
    401: error_response(401, "No credentials, or an unknown or revoked API key (`not_authenticated`)."),
    403: error_response(403, "Not a customs administration's caller (`permission_denied`, `not_allowed`)."),
    429: error_response(429, "Slowed down (`throttled`); the Retry-After header and `retry_after` give the "
                             "seconds left."),
}


@extend_schema(tags=["reconciliation"])
class ReconciliationViewSet(viewsets.GenericViewSet):
    required_permission = {"create": "discharge.upload", "retrieve": "discharge.upload"}
    serializer_class = ReconciliationIn

    def get_queryset(self):
        return reconciliations_visible_to(user=self.request.user)

    @extend_schema(
        summary="Send the list of open transits",
        description="The transits the customs system considers open (declared at an office of its country, not "
                    "discharged or cancelled), with the amount it holds for each. Stored, then compared in the "
                    "background with the holds open in the registry; read the report at "
                    "`/api/v1/reconciliations/{id}`. Send it once a day.",
        request=ReconciliationIn,
        responses={
            202: OpenApiResponse(ReconciliationAcceptedOut, description="Stored; compared in the background."),
            400: error_response(400, "Invalid list (`invalid`, with `errors` by field, e.g. "
                                     "`transits.3.amount`), or a body that is not JSON (`parse_error`)."),
            415: error_response(415, "A content type other than JSON (`unsupported_media_type`)."),
            **_ERRORS,
        },
        examples=[
            OpenApiExample(
                "List", request_only=True,
                value={"as_of": "2026-03-06T23:59:00Z", "transits": [
                    {"declaration_ref": "TG-LOME-2026-T-004512", "amount": 4500000},
                    {"declaration_ref": "TG-LOME-2026-T-004513", "amount": None},
                ]},
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        body = ReconciliationIn(data=request.data)
        body.is_valid(raise_exception=True)
        run = reconciliation_receive(
            customs=request.user.organisation, transits=[dict(t) for t in body.validated_data["transits"]],
            as_of=body.validated_data.get("as_of"), source="api", **_actor(request),
        )
        response = Response({"reconciliation": run.pk, "status": run.status}, status=status.HTTP_202_ACCEPTED)
        response["Location"] = f"/api/v1/reconciliations/{run.pk}"
        return response

    @extend_schema(
        summary="Report of a reconciliation",
        description="`status` is received (being compared), done or failed. `differences` lists each transit "
                    "held here but closed there (`closed_there`), open there but unknown here (`unknown_here`), "
                    "open there but closed here (`closed_here`), or whose amounts differ (`amount_differs`). "
                    "Only the administration of the country sees it.",
        parameters=[_ID],
        responses={
            200: ReconciliationOut,
            404: error_response(404, "Unknown, or another country's (`not_found`)."),
            **_ERRORS,
        },
    )
    def retrieve(self, request, *args, **kwargs):
        try:
            pk = int(kwargs.get("pk", ""))
        except ValueError:
            raise NotFound() from None
        run = self.get_queryset().filter(pk=pk).first() if 0 < pk < 2**63 else None
        if run is None:
            raise NotFound()
        differences = [
            {"kind": kind, "declaration_ref": ref, "status_here": status_here, "amount_here": here,
             "amount_there": there}
            for kind, ref, status_here, here, there in run.lines.order_by("kind", "declaration_ref").values_list(
                "kind", "declaration_ref", "status_here", "amount_here", "amount_there"
            )
        ]
        return Response({
            "id": run.pk, "country": run.country_id, "as_of": run.as_of, "status": run.status,
            "listed": run.listed, "open_here": run.open_here, "matched": run.matched,
            "closed_there": run.closed_there, "unknown_here": run.unknown_here, "closed_here": run.closed_here,
            "amount_differs": run.amount_differs, "differences": differences,
        })


reconciliation_create = ReconciliationViewSet.as_view({"post": "create"})
reconciliation_detail = ReconciliationViewSet.as_view({"get": "retrieve"})
