"""``Authorization: Api-Key <key>`` (or ``Bearer <key>``): a customs system acting for its administration.

The principal is an ``ApiClient``, not a ``User``: it has the key's organisation (one customs administration,
hence one country) and the permissions of ``CLIENT_PERMISSIONS["customs_system"]``, so selectors and the
permission class treat it like a customs officer of that country. A missing header falls through to the
browser session; a header that names an unknown, malformed or revoked key is refused (401).
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.api_keys import api_key_authenticate
from accounts.models import ApiKey, Organisation
from guarantees.api.permissions import CUSTOMS_SYSTEM, client_permissions
from guarantees.sql import attach, hot_cursor, instance, select_columns, width

KEYWORD = "Api-Key"
# The same key sent as a bearer token: what generated clients (openapi-python-client's AuthenticatedClient, and
# most others) send by default, so a client generated from the schema works without a hand-set prefix.
KEYWORDS = frozenset({KEYWORD.lower(), "bearer"})


def key_by_prefix(prefix: str) -> ApiKey | None:
    """The key with this prefix and its organisation, in one hand-written SELECT: this runs on every API request,
    and through the ORM the same lookup costs ten times the CPU (see ``guarantees/sql.py``)."""
    sql = (
        f"SELECT {select_columns(ApiKey, 'k')}, {select_columns(Organisation, 'o')} "
        f"FROM {ApiKey._meta.db_table} k JOIN {Organisation._meta.db_table} o ON o.id = k.organisation_id "
        "WHERE k.prefix = %s"
    )
    with hot_cursor() as cursor:
        cursor.execute(sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    api_key = instance(ApiKey, row)
    attach(api_key, "organisation", instance(Organisation, row, width(ApiKey)))
    return api_key


class ApiClient:
    """The caller behind an API key. Quacks like a signed-in user where the registry asks."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    mfa_required = False
    kind = CUSTOMS_SYSTEM

    def __init__(self, api_key):
        self.api_key = api_key
        self.organisation = api_key.organisation
        self.pk = None
        self.id = None
        self.registry_permissions = client_permissions(self.kind)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset({self.kind})

    @property
    def throttle_ident(self) -> str:
        return f"apikey:{self.api_key.pk}"

    def can(self, permission: str) -> bool:
        return permission in self.registry_permissions

    def __str__(self) -> str:
        return f"{self.api_key.name} ({self.organisation})"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request)
        if not header:
            return None
        try:
            text = header.decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("The API key is not valid.")) from None
        keyword, _sep, raw = text.strip().partition(" ")
        if keyword.lower() not in KEYWORDS:
            return None  # another scheme: not ours to judge
        api_key = api_key_authenticate(raw.strip(), lookup=key_by_prefix)
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("The API key is not valid, or it was revoked."))
        return ApiClient(api_key), api_key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (with this challenge) rather than 403 when no credentials were sent.
        return KEYWORD


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "guarantees.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A key issued by the regional secretariat to one customs administration, sent as "
                "`Authorization: Api-Key cu_xxxxxxxx_...`. It acts only for its own country's offices."
            ),
        }
