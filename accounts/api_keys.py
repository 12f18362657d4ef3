"""API keys of the customs systems: issued once in clear, then known only by a prefix and a hash.

A key reads ``cu_<prefix>_<secret>``. The prefix (8 characters) finds the row; the SHA-256 of the whole key is
compared in constant time. A copy of the database therefore reveals no usable key, and a revoked key stops
working on its next request.
"""

import datetime
import hashlib
import hmac
import secrets

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.errors import NotAllowed
from accounts.models import ApiKey, Organisation
from accounts.roles import OrganisationKind

KEY_PREFIX = "cu"
PREFIX_LENGTH = 8
_PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
# ``last_used_at`` is a hint for the secretariat, not an audit trail: write it at most once a minute per key.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def api_key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _require_manager(by) -> None:
    if by is not None and not by.can("apikey.manage"):
        raise NotAllowed()


def api_key_create(*, organisation: Organisation, name: str, by=None) -> tuple[ApiKey, str]:
    """Issue a key to a customs administration; returns the row and the key in clear, to be shown once."""
    _require_manager(by)
    if organisation.kind != OrganisationKind.CUSTOMS:
        raise NotAllowed(_("API keys are issued to customs administrations only."))
    name = (name or "").strip()
    if not name:
        raise NotAllowed(_("An API key needs a name."))
    with transaction.atomic():
        while True:
            prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _position in range(PREFIX_LENGTH))
            if not ApiKey.objects.filter(prefix=prefix).exists():
                break
        raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        api_key = ApiKey.objects.create(
            organisation=organisation, name=name[:100], prefix=prefix, key_hash=api_key_hash(raw), created_by=by
        )
    return api_key, raw


def _key_by_prefix(prefix: str) -> ApiKey | None:
    return ApiKey.objects.select_related("organisation").filter(prefix=prefix).first()


def api_key_authenticate(raw: str | None, *, lookup=_key_by_prefix) -> ApiKey | None:
    """The live key matching ``raw``, or ``None`` (unknown, malformed, revoked, or its administration closed).

    ``lookup(prefix)`` finds the key with its organisation: through the ORM here; the API, where this runs on every
    request, passes its hand-written SELECT (``guarantees.api.authentication``)."""
    if not raw or not isinstance(raw, str) or len(raw) > 200:
        return None
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != PREFIX_LENGTH or not parts[2]:
        return None
    api_key = lookup(parts[1])
    digest = api_key_hash(raw.strip())
    if api_key is None:
        hmac.compare_digest(digest, digest)  # spend the same time as for a known prefix
        return None
    if not hmac.compare_digest(api_key.key_hash, digest):
        return None
    if api_key.revoked_at is not None or not api_key.organisation.is_active:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def api_key_revoke(*, api_key: ApiKey, by=None) -> ApiKey:
    """Revoke the key; revoking it again changes nothing."""
    _require_manager(by)
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key
