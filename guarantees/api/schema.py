"""The OpenAPI document of ``/api/v1/``: the contract customs systems generate their clients from.

One idea holds it together: the schema says what the server does, no more and no less. So it is generated in
English whatever the request's language (two clients generated from it never differ); every error status names
the machine codes the one exception handler can give for it, taken from the same tree of domain errors; and what
drf-spectacular cannot see from the serializers — the ``Retry-After``, ``Location`` and ``WWW-Authenticate``
headers, the bearer form of the API key — is added by the post-processing hook below.
"""

from django.utils import translation
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView


# --- One English schema -------------------------------------------------------------------------------------


class EnglishSchemaView(SpectacularAPIView):
    """The schema, always in English: the field descriptions are the registry's (translatable) help texts, and a
    client generated from a French schema would not be the one generated from an English one."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        # The generator resolves every translatable text while it runs, so the override covers them all.
        # (Not super().get(): it would switch to the language of a ``?lang=`` parameter.)
        with translation.override("en"):
            return self._get_schema_response(request)


def english_schema(*, request=None) -> dict:
    """The schema as the endpoint serves it, for tests and the ``spectacular`` command."""
    from drf_spectacular.generators import SchemaGenerator

    with translation.override("en"):
        return SchemaGenerator().get_schema(request=request, public=True)


# --- Strings as the server reads them ------------------------------------------------------------------------


class StrictCharFieldExtension(OpenApiSerializerFieldExtension):
    """The API's text fields (``guarantees.api.serializers.CharField`` and its subclasses) with the pattern the
    server enforces: their own (an office code, an HS code), or no NUL character and, unless blank is allowed,
    one character that is not a space (DRF trims spaces and refuses NUL)."""

    target_class = "guarantees.api.serializers.CharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        from guarantees.api.serializers import BLANK_TEXT_PATTERN, TEXT_PATTERN

        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if "oneOf" in schema:  # drf-spectacular's "or blank" alternative: the pattern below says it in one schema
            alternatives = schema.pop("oneOf")
            schema.update({k: v for k, v in alternatives[0].items() if k != "minLength"})
        own = getattr(self.target, "schema_pattern", None)
        if own:
            schema["pattern"] = own
        elif "pattern" not in schema:
            schema["pattern"] = BLANK_TEXT_PATTERN if self.target.allow_blank else TEXT_PATTERN
        return schema


# --- Error codes, by status: guarantees.api.error_codes (the serializers read them too) --------------------------

# --- Responses ------------------------------------------------------------------------------------------------

_EXAMPLES = {
    400: {"code": "invalid", "detail": "The request is invalid; see the errors by field.",
          "errors": {"office_of_departure": ["A customs office code (letters and digits) is required."]}},
    401: {"code": "not_authenticated", "detail": "The API key is not valid, or it was revoked."},
    403: {"code": "permission_denied", "detail": "You are not allowed to do this."},
    404: {"code": "not_found", "detail": "Not found."},
    409: {"code": "insufficient_balance", "detail": "The guarantee's available balance is too low.",
          "available": 1200000},
    413: {"code": "too_large", "detail": "The file is too large."},
    415: {"code": "unsupported_media_type", "detail": "This content type is not accepted here."},
    429: {"code": "throttled", "detail": "Too many requests. Please slow down.", "retry_after": 3},
}


def error_response(status: int, description: str, *, example: dict | None = None) -> OpenApiResponse:
    from guarantees.api import serializers as s

    return OpenApiResponse(
        s.ERROR_SERIALIZERS[status],
        description=description,
        examples=[OpenApiExample(f"{status}", value=example or _EXAMPLES[status], response_only=True,
                                 status_codes=[str(status)])],
    )


# --- Post-processing: headers and the bearer scheme ---------------------------------------------------------

_RETRY_AFTER = {
    "description": "Seconds to wait before trying again (the same number as `retry_after` in the body).",
    "schema": {"type": "integer", "minimum": 1},
    "required": True,
}
_LOCATION = {
    "description": "Where to follow what was accepted (the job or the reconciliation report).",
    "schema": {"type": "string"},
    "required": True,
}
_WWW_AUTHENTICATE = {
    "description": "The scheme to use: `Api-Key`.",
    "schema": {"type": "string"},
    "required": False,
}

BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "API key",
    "description": "The same API key, sent as `Authorization: Bearer cu_xxxxxxxx_...` — the form most generated "
                   "clients send by default (openapi-python-client's `AuthenticatedClient(token=key)`).",
}


def postprocess(result, generator, request, public):
    """Headers drf-spectacular cannot see, and the bearer form of the API key beside the ``Api-Key`` one."""
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["BearerAuth"] = BEARER_SCHEME
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            security = operation.get("security")
            if security and {"ApiKeyAuth": []} in security and {"BearerAuth": []} not in security:
                security.insert(security.index({"ApiKeyAuth": []}) + 1, {"BearerAuth": []})
            if "requestBody" in operation:
                operation["requestBody"]["required"] = True  # every body the API takes has what it needs
            if method == "get" and path in LIST_FILTERS:
                _filter_rules(operation, LIST_FILTERS[path])
            responses = operation.get("responses", {})
            if "429" in responses:
                responses["429"].setdefault("headers", {})["Retry-After"] = _RETRY_AFTER
            if "401" in responses:
                responses["401"].setdefault("headers", {})["WWW-Authenticate"] = _WWW_AUTHENTICATE
            if method == "post" and "202" in responses and path in LOCATION_PATHS:
                responses["202"].setdefault("headers", {})["Location"] = _LOCATION
            for status, links in LINKS.get((path, method), {}).items():
                if status in responses:
                    responses[status]["links"] = links
    return result


def _link(operation_id: str, description: str, **parameters: str) -> dict:
    return {"operationId": operation_id, "parameters": parameters, "description": description}


# What an answer leads to: the operation to call next, and where its parameters come from (OpenAPI links; the
# contract tests' stateful phase follows them).
LINKS = {
    ("/api/v1/transits", "post"): {
        status: {
            "GetTransit": _link("transits_retrieve", "The transit just declared.",
                                declaration_ref="$response.body#/declaration_ref"),
            "ReportEvent": _link("transits_events_create", "Report an event of the transit just declared.",
                                 declaration_ref="$response.body#/declaration_ref"),
            "GetGuarantee": _link("guarantees_retrieve", "The guarantee held.", grn="$response.body#/guarantee/grn"),
        }
        for status in ("200", "201")
    },
    ("/api/v1/transits", "get"): {"200": {
        "GetTransit": _link("transits_retrieve", "The first transit of the page.",
                            declaration_ref="$response.body#/results/0/declaration_ref"),
    }},
    ("/api/v1/transits/{declaration_ref}", "get"): {"200": {
        "GetGuarantee": _link("guarantees_retrieve", "The guarantee that secures it.",
                              grn="$response.body#/guarantee/grn"),
        "ReportEvent": _link("transits_events_create", "Report an event of this transit.",
                             declaration_ref="$response.body#/declaration_ref"),
    }},
    ("/api/v1/guarantees", "get"): {"200": {
        "GetGuarantee": _link("guarantees_retrieve", "The first guarantee of the page.",
                              grn="$response.body#/results/0/grn"),
        "CheckGuarantee": _link("guarantees_check_create", "Check the first guarantee of the page.",
                                grn="$response.body#/results/0/grn"),
    }},
    ("/api/v1/guarantees/{grn}", "get"): {"200": {
        "CheckGuarantee": _link("guarantees_check_create", "Check this guarantee.", grn="$response.body#/grn"),
    }},
    ("/api/v1/discharges/files", "post"): {"202": {
        "GetJob": _link("jobs_retrieve", "The progress of the file just sent.", id="$response.body#/job"),
    }},
    ("/api/v1/reconciliations", "post"): {"202": {
        "GetReconciliation": _link("reconciliations_retrieve", "The report of the list just sent.",
                                   id="$response.body#/reconciliation"),
    }},
}


# The lists and their FilterSets: the schema of each text filter says what its form field enforces.
LIST_FILTERS = {"/api/v1/transits": "TransitFilter", "/api/v1/guarantees": "GuaranteeFilter"}


def _filter_rules(operation: dict, filterset_name: str) -> None:
    import django_filters

    from guarantees.api import filters

    declared = getattr(filters, filterset_name).base_filters
    for parameter in operation.get("parameters", []):
        rule = declared.get(parameter["name"]) if parameter.get("in") == "query" else None
        if isinstance(rule, django_filters.CharFilter) and not isinstance(rule, django_filters.ChoiceFilter):
            parameter["schema"].update({"minLength": 1, "pattern": r"^[^\x00]*$"})
            if rule.extra.get("max_length"):
                parameter["schema"]["maxLength"] = rule.extra["max_length"]


# The operations whose 202 names, in ``Location``, where to follow what was accepted.
LOCATION_PATHS = {"/api/v1/discharges/files", "/api/v1/reconciliations"}
