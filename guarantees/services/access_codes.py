"""Access codes: 4 characters that let a customs system or border officer check a guarantee without an account.

Codes are drawn from 32 unambiguous letters and digits (no 0/O, 1/I), compared case-insensitively and stored
only as an HMAC keyed with the site's secret, so a copy of the database does not reveal them.
"""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guarantees.errors import InvalidTransition, TooManyAttempts
from guarantees.grn import grn_normalise
from guarantees.models import AccessCode, Guarantee, GuaranteeAction

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 4


def _key() -> bytes:
    return hashlib.sha256(b"caution-unique/access-code/" + settings.SECRET_KEY.encode()).digest()


def access_code_hash(*, guarantee_id: int, code: str) -> str:
    normalised = (code or "").strip().upper()
    return hmac.new(_key(), f"{guarantee_id}:{normalised}".encode(), hashlib.sha256).hexdigest()


def access_code_issue(*, guarantee: Guarantee, by, label: str = "") -> str:
    """Create a new code for the guarantee and return it in clear, to be shown once to the principal (the
    only one who may issue codes: customs accept the guarantee but never see its codes)."""
    from guarantees.services.guarantees import _require, guarantee_event

    _require(by, "guarantee.access_code", guarantee.principal)
    if not guarantee.grn:
        raise InvalidTransition(_("An access code can be issued only once customs have accepted the guarantee."))
    code = "".join(secrets.choice(ALPHABET) for _position in range(CODE_LENGTH))
    with transaction.atomic():
        AccessCode.objects.create(
            guarantee=guarantee, code_hash=access_code_hash(guarantee_id=guarantee.pk, code=code),
            label=label, created_by=by,
        )
        guarantee_event(guarantee=guarantee, action=GuaranteeAction.ACCESS_CODE_ISSUED, by=by, comment=label)
    return code


def access_code_matches(*, guarantee: Guarantee, code: str) -> bool:
    """Whether ``code`` is a live code of the guarantee; records when it was last used, to the minute.

    The last-use time is written at most once a minute: every declaration checks the code, and writing the
    row each time would make it a lock hot spot for a busy forwarder.
    """
    if not code or len(code.strip()) != CODE_LENGTH:
        return False
    digest = access_code_hash(guarantee_id=guarantee.pk, code=code)
    live = AccessCode.objects.filter(guarantee=guarantee, code_hash=digest, revoked_at__isnull=True)
    pk = live.values_list("pk", flat=True).first()
    if pk is None:
        return False
    now = timezone.now()
    AccessCode.objects.filter(pk=pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - datetime.timedelta(seconds=60))
    ).update(last_used_at=now)
    return True


def access_code_revoke(*, access_code: AccessCode, by) -> AccessCode:
    from guarantees.services.guarantees import _require, guarantee_event

    _require(by, "guarantee.access_code", access_code.guarantee.principal)
    with transaction.atomic():
        if access_code.revoked_at is None:
            access_code.revoked_at = timezone.now()
            access_code.save(update_fields=["revoked_at"])
            guarantee_event(
                guarantee=access_code.guarantee, action=GuaranteeAction.ACCESS_CODE_REVOKED, by=by,
                comment=access_code.label,
            )
    return access_code


def _failure_keys(*, grn: str, caller: str) -> list[str]:
    """One counter per GRN (guessing the code of one guarantee) and one per caller (guessing across GRNs)."""
    keys = [f"access-code-failures:grn:{hashlib.sha256(grn.encode()).hexdigest()[:32]}"]
    if caller:
        keys.append(f"access-code-failures:caller:{hashlib.sha256(caller.encode()).hexdigest()[:32]}")
    return keys


def access_code_check(*, grn: str, code: str, caller: str = "") -> Guarantee | None:
    """The guarantee with this GRN when ``code`` is one of its live codes, else ``None``: an unknown GRN and a
    wrong code give the same answer, so numbers cannot be guessed. After
    ``REGISTRY_ACCESS_CODE_MAX_FAILURES`` wrong tries on a GRN, or by one caller, within the window,
    every try is refused with ``TooManyAttempts`` until the window has passed."""
    normalised = grn_normalise(grn)
    keys = _failure_keys(grn=normalised, caller=caller)
    limit = settings.REGISTRY_ACCESS_CODE_MAX_FAILURES
    if any((cache.get(key) or 0) >= limit for key in keys):
        raise TooManyAttempts()
    guarantee = Guarantee.objects.filter(grn=normalised).first() if normalised else None
    if guarantee is not None and access_code_matches(guarantee=guarantee, code=code):
        return guarantee
    window = settings.REGISTRY_ACCESS_CODE_WINDOW_SECONDS
    for key in keys:
        if cache.add(key, 1, timeout=window) is False:
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=window)
    return None
