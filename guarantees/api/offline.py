"""The public endpoints of offline verification: the registry's keys and its signed status list.

No authentication (a border post's verifier, a customs system's plug-in, anybody): what they publish is public by
design (public keys; a list of positions, not of guarantee numbers). Cacheable: the keys change on a rotation,
the list every hour and on every change it shows. Formats: ``guarantees.documents.offline`` and the README.
"""

import base64

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from guarantees.api.serializers import ErrorOut
from guarantees.documents.offline import STATUS_BITS, STATUS_CODES
from guarantees.documents.offline_keys import offline_public_keys, public_key_jwk
from guarantees.services.status_list import status_list_current

_THROTTLED = OpenApiResponse(ErrorOut, description="Slowed down (`throttled`): too many requests from this address; "
                                                   "Retry-After says when to come back.")

KEYS_MAX_AGE = 3600
LIST_MAX_AGE = 300

def _key_fields():
    return {
    "kid": serializers.CharField(help_text="Key id: base64 of the first 8 bytes of SHA-256(SubjectPublicKeyInfo)."),
    "alg": serializers.CharField(help_text="Always ES256 (ECDSA P-256 with SHA-256)."),
    "kty": serializers.CharField(), "crv": serializers.CharField(),
    "x": serializers.CharField(help_text="JWK x coordinate (base64url)."),
    "y": serializers.CharField(help_text="JWK y coordinate (base64url)."),
    "spki": serializers.CharField(help_text="SubjectPublicKeyInfo, DER, base64."),
    "not_before": serializers.DateTimeField(allow_null=True, help_text="Signs from (null: open)."),
    "not_after": serializers.DateTimeField(allow_null=True, help_text="Signed until (null: the current key)."),
    }


def _public(response, max_age: int):
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"  # any verifier may read public keys and the list
    return response


class _Public(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)


class OfflineKeysView(_Public):
    @extend_schema(
        tags=["offline verification"], operation_id="offline_keys",
        summary="Public keys that sign QR payloads and status lists",
        description=(
            "Every key the registry signs offline proofs with: the current one first, then the retired ones, each "
            "with the period it signed in. A payload or list verifies when its COSE `kid` is listed here, its ES256 "
            "signature is right, and its `iat` (claim 6) falls within that key's period. Cache it; fetch it again "
            "when a `kid` is unknown."
        ),
        responses={200: inline_serializer("OfflineKeys", {
                       "keys": inline_serializer("OfflineKey", _key_fields(), many=True)}),
                   429: _THROTTLED},
    )
    def get(self, request):
        return _public(Response({"keys": [public_key_jwk(k) for k in offline_public_keys()]}), KEYS_MAX_AGE)


_STATUS_DOC = (
    "The signed status list as of `issued_at`: a COSE_Sign1 (ES256, CBOR tag 18) whose payload is the CBOR map "
    "`{6: iat, 4: exp, \"sl\": {\"bits\": 4, \"n\": entries, \"lst\": zlib(bitstring)}}`. Entry *i* (the `si` of a "
    "QR payload) is the *i*-th 4-bit group of the inflated bitstring, the first in the high half of the first byte "
    "(the W3C Bitstring Status List's order). Its low 3 bits: "
    + ", ".join(f"{code} {name}" for name, code in STATUS_CODES.items())
    + "; bit 8: the guarantee was called (a claim made on it). Refreshed every hour and after every change."
)


class OfflineStatusListView(_Public):
    @extend_schema(
        tags=["offline verification"], operation_id="offline_status_list",
        summary="The signed status list (JSON wrapper)", description=_STATUS_DOC,
        responses={200: inline_serializer("OfflineStatusList", {
            "issued_at": serializers.DateTimeField(), "expires_at": serializers.DateTimeField(),
            "kid": serializers.CharField(), "bits": serializers.IntegerField(),
            "length": serializers.IntegerField(help_text="Entries in the bitstring."),
            "flagged": serializers.IntegerField(help_text="Entries not valid."),
            "codes": serializers.DictField(child=serializers.IntegerField()),
            "cose": serializers.CharField(help_text="The signed list, base64 (what to verify; the rest is a "
                                                    "convenience copy)."),
            "warn_after_hours": serializers.IntegerField(),
        }), 429: _THROTTLED},
        examples=[OpenApiExample("list", value={
            "issued_at": "2026-12-07T05:00:00Z", "expires_at": "2026-12-09T05:00:00Z", "kid": "q83vEjRWeJA=",
            "bits": 4, "length": 10001, "flagged": 2950, "codes": STATUS_CODES, "cose": "0oRDoQEm...",
            "warn_after_hours": 24,
        })],
    )
    def get(self, request):
        row = status_list_current()
        return _public(Response({
            "issued_at": row.issued_at, "expires_at": row.expires_at, "kid": row.kid, "bits": STATUS_BITS,
            "length": row.length, "flagged": row.flagged, "codes": STATUS_CODES,
            "cose": base64.b64encode(bytes(row.signed)).decode("ascii"),
            "warn_after_hours": settings.OFFLINE_STATUS_LIST_WARN_HOURS,
        }), LIST_MAX_AGE)


class OfflineStatusListCborView(_Public):
    @extend_schema(
        tags=["offline verification"], operation_id="offline_status_list_cbor",
        summary="The signed status list (raw COSE_Sign1, application/cbor)", description=_STATUS_DOC,
        responses={(200, "application/cbor"): OpenApiResponse(response=OpenApiTypes.BINARY),
                   (429, "application/json"): _THROTTLED},
    )
    def get(self, request):
        row = status_list_current()
        response = HttpResponse(bytes(row.signed), content_type="application/cbor")
        response["Last-Modified"] = row.issued_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
        return _public(response, LIST_MAX_AGE)
