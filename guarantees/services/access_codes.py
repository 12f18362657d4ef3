"""Access codes: 4 characters that let a customs system or border officer check a guarantee without an account.

Codes are drawn from 32 unambiguous letters and digits (no 0/O, 1/I), compared case-insensitively and stored
only as an HMAC keyed with the site's secret, so a copy of the database does not reveal them.
"""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guarantees.counters import counter_incr, counters_get
from guarantees.errors import InvalidTransition, TooManyAttempts
from guarantees.grn import grn_normalise
from guarantees.models import AccessCode, Guarantee, GuaranteeAction
from guarantees.sql import hot_cursor, instance, select_columns, width

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 4
# A code's last use is a hint for the principal: written at most once a minute.
LAST_USED_RESOLUTION = datetime.timedelta(seconds=60)


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
    """Whether ``code`` is a live code of the guarantee; records when it was last used, to the minute."""
    live = AccessCode.objects.filter(guarantee=guarantee, revoked_at__isnull=True)
    matched = _matching_code(guarantee, live.values_list("pk", "code_hash", "last_used_at"), code)
    if matched is None:
        return False
    _note_use(*matched)
    return True


def _note_use(pk: int, last_used_at) -> None:
    """Record that the code was used, unless that was already recorded within the last minute."""
    now = timezone.now()
    if last_used_at is None or last_used_at < now - LAST_USED_RESOLUTION:
        AccessCode.objects.filter(pk=pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)


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


def _guarantee_and_live_codes(grn: str) -> tuple[Guarantee | None, list[tuple[int, str, object]]]:
    """The guarantee with this GRN and its live codes ``(id, code_hash, last_used_at)``, in one hand-written
    SELECT: this runs on every check and every declaration (see ``guarantees/sql.py`` for why not the ORM)."""
    sql = (
        f"SELECT {select_columns(Guarantee, 'g')}, a.id, a.code_hash, a.last_used_at "
        f"FROM {Guarantee._meta.db_table} g LEFT JOIN {AccessCode._meta.db_table} a "
        "ON a.guarantee_id = g.id AND a.revoked_at IS NULL WHERE g.grn = %s"
    )
    with hot_cursor() as cursor:
        cursor.execute(sql, [grn])
        rows = cursor.fetchall()
    if not rows:
        return None, []
    start = width(Guarantee)
    codes = [(row[start], row[start + 1], row[start + 2]) for row in rows if row[start] is not None]
    return instance(Guarantee, rows[0]), codes


def access_code_check(*, grn: str, code: str, caller: str = "") -> Guarantee | None:
    """The guarantee with this GRN when ``code`` is one of its live codes, else ``None``: an unknown GRN and a
    wrong code give the same answer, so numbers cannot be guessed. After
    ``REGISTRY_ACCESS_CODE_MAX_FAILURES`` wrong tries on a GRN, or by one caller, within the window,
    every try is refused with ``TooManyAttempts`` until the window has passed.

    Costs one cache round trip (both failure counters at once) and one query; a wrong code adds the counting.
    The last-use time of a code is written at most once a minute (a hint for the principal, and writing it on
    every declaration would make the row a lock hot spot for a busy forwarder)."""
    normalised = grn_normalise(grn)
    keys = _failure_keys(grn=normalised, caller=caller)
    limit = settings.REGISTRY_ACCESS_CODE_MAX_FAILURES
    if any(count >= limit for count in counters_get(keys)):
        raise TooManyAttempts()
    guarantee, codes = _guarantee_and_live_codes(normalised) if normalised else (None, [])
    matched = _matching_code(guarantee, codes, code) if guarantee is not None else None
    if matched is not None:
        _note_use(*matched)
        return guarantee
    for key in keys:
        counter_incr(key, timeout=settings.REGISTRY_ACCESS_CODE_WINDOW_SECONDS)
    return None


def _matching_code(guarantee: Guarantee, codes, code: str) -> tuple[int, object] | None:
    """``(id, last_used_at)`` of the live code equal to ``code``, compared in constant time, or ``None``."""
    if not code or len(code.strip()) != CODE_LENGTH:
        return None
    digest = access_code_hash(guarantee_id=guarantee.pk, code=code)
    found = None
    for pk, code_hash, last_used_at in codes:
        if hmac.compare_digest(code_hash, digest) and found is None:
            found = (pk, last_used_at)
    return found
