"""Access codes: 4 characters that let a customs system or border officer check a guarantee without an account.

Codes are drawn from 32 unambiguous letters and digits (no 0/O, 1/I), compared case-insensitively and stored
only as an HMAC keyed with the site's secret, so a copy of the database does not reveal them.
"""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guarantees.counters import counter_get, counter_incr, members_add, members_get
from guarantees.errors import InvalidTransition, TooManyAttempts
from guarantees.grn import grn_normalise
from guarantees.models import AccessCode, AlertKind, Guarantee, GuaranteeAction, GuaranteeAlert
from guarantees.sql import convert, hot_cursor, instance, select_columns, width

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


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _caller_key(*, grn: str, caller: str) -> str:
    """Wrong tries of one caller on one GRN: what slows down a guesser, and nobody else."""
    return f"access-code-failures:{_digest(grn, caller)}"


def _grn_keys(grn: str) -> tuple[str, str]:
    """Wrong tries on one GRN by every caller, and who they were: what alerts, and blocks nobody. Keyed on the
    GRN as typed (normalised), so that an unknown GRN costs the same work as a known one."""
    base = f"access-code-failures:grn:{_digest(grn)}"
    return base, f"{base}:callers"


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
    # The last use read as the ORM reads it (SQLite's driver gives it naive: compared with now, it was a 500).
    codes = [(row[start], row[start + 1], convert(AccessCode, "last_used_at", row[start + 2]))
             for row in rows if row[start] is not None]
    return instance(Guarantee, rows[0]), codes


def access_code_check(*, grn: str, code: str, caller: str) -> Guarantee | None:
    """The guarantee with this GRN when ``code`` is one of its live codes, else ``None``: an unknown GRN and a
    wrong code give the same answer, so numbers cannot be guessed.

    ``caller`` is who asks: an API key (``apikey:<id>``) or a person (``user:<id>``). After
    ``REGISTRY_ACCESS_CODE_MAX_FAILURES`` wrong tries of that caller on that GRN within the window, that caller
    is refused on that GRN (``TooManyAttempts``, with the seconds left), right code or not, until the window
    has passed; every other caller and every other GRN go through. Wrong tries on a guarantee from all callers
    together alert its principal and the secretariat (``access_code_failures_alert``) instead of blocking.

    Costs one cache round trip and one query; a wrong code adds the counting. The last-use time of a code is
    written at most once a minute (a hint for the principal, and writing it on every declaration would make the
    row a lock hot spot for a busy forwarder)."""
    if not caller:
        raise ValueError("access_code_check needs the caller, who alone is slowed down by wrong codes")
    normalised = grn_normalise(grn)
    key = _caller_key(grn=normalised, caller=caller)
    window = settings.REGISTRY_ACCESS_CODE_WINDOW_SECONDS
    tried = counter_get(key)
    if tried.count >= settings.REGISTRY_ACCESS_CODE_MAX_FAILURES:
        raise TooManyAttempts(retry_after=tried.seconds_left or window)
    guarantee, codes = _guarantee_and_live_codes(normalised) if normalised else (None, [])
    matched = _matching_code(guarantee, codes, code) if guarantee is not None else None
    if matched is not None:
        _note_use(*matched)
        return guarantee
    counter_incr(key, timeout=window)
    count_key, callers_key = _grn_keys(normalised)
    members_add(callers_key, caller, timeout=window)
    if counter_incr(count_key, timeout=window) == settings.REGISTRY_ACCESS_CODE_ALERT_FAILURES and guarantee:
        # Exactly once per count (the call that reaches the threshold), and once per window in the database.
        access_code_failures_alert(guarantee=guarantee, failures=settings.REGISTRY_ACCESS_CODE_ALERT_FAILURES,
                                   callers=members_get(callers_key))
    return None


def access_code_failures_alert(*, guarantee: Guarantee, failures: int, callers, now=None) -> GuaranteeAlert | None:
    """Tell the principal (those who manage its access codes) and the secretariat that wrong access codes keep
    coming for ``guarantee``: how many, and from whom (never the codes tried). Given once per window of
    ``REGISTRY_ACCESS_CODE_WINDOW_SECONDS`` (a ``GuaranteeAlert`` per window); returns it, or ``None`` when this
    window's alert was given already."""
    from accounts.models import Organisation
    from accounts.roles import OrganisationKind
    from guarantees.services.notifications import notice_send

    now = now or timezone.now()
    window = settings.REGISTRY_ACCESS_CODE_WINDOW_SECONDS
    start = datetime.datetime.fromtimestamp(now.timestamp() // window * window, tz=datetime.timezone.utc)
    guarantee = Guarantee.objects.select_related("principal", "bank__organisation").get(pk=guarantee.pk)
    try:
        with transaction.atomic():
            alert = GuaranteeAlert.objects.create(guarantee=guarantee, kind=AlertKind.WRONG_ACCESS_CODES,
                                                  window_start=start)
            params = {"failures": failures, "minutes": max(1, window // 60),
                      "callers": ", ".join(caller_labels(callers)) or "—"}
            notice_send(event="access_code_failures", organisation=guarantee.principal, guarantee=guarantee,
                        permission="guarantee.access_code", params=params)
            for secretariat in Organisation.objects.filter(kind=OrganisationKind.SECRETARIAT, is_active=True):
                notice_send(event="access_code_failures", organisation=secretariat, guarantee=guarantee,
                            permission="guarantee.view", params=params)
    except IntegrityError:
        return None  # this window's alert was given (another process reached the threshold too)
    return alert


def caller_labels(callers) -> list[str]:
    """``apikey:<id>`` and ``user:<id>`` as people read them: "SIDONIA ML (Douanes du Mali)", sorted."""
    from accounts.models import ApiKey, User

    ids: dict[str, set[int]] = {"apikey": set(), "user": set()}
    for caller in callers:
        kind, _colon, pk = caller.partition(":")
        if kind in ids and pk.isdigit():
            ids[kind].add(int(pk))
    key_ids, user_ids = ids["apikey"], ids["user"]
    labels = [f"{key.name} ({key.organisation})" for key in ApiKey.objects.filter(pk__in=key_ids)
              .select_related("organisation")]
    for user in User.objects.filter(pk__in=user_ids):
        organisation = user.organisation
        labels.append(f"{user} ({organisation})" if organisation is not None else str(user))
    return sorted(labels)


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
