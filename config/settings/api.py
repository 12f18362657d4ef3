"""Django REST framework and the OpenAPI schema of the interconnection API (``/api/v1/``).

Customs systems authenticate with ``Authorization: Api-Key <key>`` (tried first, so a request without
credentials gets a 401 with that challenge); people use their browser session, with CSRF. Every view names
the permission it needs; every error goes through one handler.
"""

from config.env import env_int, env_str

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "guarantees.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["guarantees.api.permissions.HasRegistryPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["guarantees.api.throttling.CallerRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["guarantees.api.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "EXCEPTION_HANDLER": "guarantees.api.exception_handler.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": False,
}

# Requests per caller and period (s, m, h, d), counted in the cache; empty = no limit. A customs system
# declaring a thousand transits a second stays under the default key rate.
API_THROTTLE_RATES = {
    "api_key": env_str("API_THROTTLE_API_KEY", "3000/s"),
    "user": env_str("API_THROTTLE_USER", "20/s"),
    "anon": env_str("API_THROTTLE_ANON", "5/s"),
}

# Largest bulk discharge file accepted (bytes).
API_DISCHARGE_FILE_MAX_BYTES = env_int("API_DISCHARGE_FILE_MAX_BYTES", 20 * 1024 * 1024)

SPECTACULAR_SETTINGS = {
    "TITLE": "Caution unique — interconnection API",
    "DESCRIPTION": (
        "The contract customs systems (ASYCUDA / SIDONIA World, the interconnection gateway) code against: "
        "guarantee check, transit declaration with its hold, transit events, bulk discharge files, and the "
        "lists each caller may see.\n\n"
        "**Authentication.** A customs system sends `Authorization: Api-Key <key>`; the key belongs to one "
        "customs administration and acts only for its country's offices. People use their browser session "
        "(and the CSRF token).\n\n"
        "**Errors.** Every error is JSON `{\"code\", \"detail\", ...}`: 400 `invalid` (with `errors` by field) "
        "or `parse_error`, 401 `not_authenticated`, 403 `permission_denied` or `not_allowed`, 404 `not_found` "
        "(also for another organisation's object and for a wrong access code), 409 `conflict`, "
        "`insufficient_balance` (with `available`), `guarantee_not_active`, `country_not_covered`, "
        "429 `throttled` or `too_many_attempts` (with Retry-After). `detail` follows Accept-Language "
        "(French by default).\n\n"
        "**Amounts** are whole francs CFA (XOF), as JSON integers."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "GuaranteeStatusEnum": "guarantees.models.guarantees.GuaranteeStatus",
        "TransitStatusEnum": "guarantees.models.transits.TransitStatus",
        "HoldStatusEnum": "guarantees.models.ledger.HoldStatus",
        "JobStatusEnum": "guarantees.models.transits.JobStatus",
        "EventTypeEnum": "guarantees.models.transits.EventType",
        "EventReceiptStatusEnum": ["accepted", "duplicate"],
        "DeclarationReceiptStatusEnum": ["declared"],
    },
    "TAGS": [
        {"name": "guarantees", "description": "Check a guarantee; read the guarantees the caller may see."},
        {"name": "transits", "description": "Declare transits (holds), report their events, read them."},
        {"name": "discharges", "description": "Bulk discharge files and their progress."},
        {"name": "offline verification", "description": (
            "Public, no authentication: the keys that sign the QR payload of attestations and the signed status "
            "list, for verifiers that work without a network (README, 'Offline verification')."
        )},
    ],
}
