"""Where a session stands with two-factor authentication, read from allauth's records of this session.

allauth appends a record to the session for every step a person completes in it (``"password"`` at sign-in or
reauthentication, ``"mfa"`` after a TOTP or recovery code). A device existing is not enough: only a session
whose records show an ``"mfa"`` step has passed it. This module is the one place that reads those records
(``allauth.account.internal.flows.login``; allauth 65 offers no public reader).

States: ``OK``; ``ENROL`` (must have TOTP and has none: enrolment first); ``AUTHENTICATE`` (has TOTP, this
session never passed it: a code first).
"""

from __future__ import annotations

import time

from allauth.account import app_settings as account_settings
from allauth.account.internal.flows.login import get_authentication_records, record_authentication

OK = "ok"
ENROL = "enrol"
AUTHENTICATE = "authenticate"


def has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    cached = getattr(user, "_has_totp", None)
    if cached is None:
        cached = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        user._has_totp = cached
    return cached


def session_passed_mfa(request, user) -> bool:
    """Did this session complete a TOTP (or recovery code) step for ``user``: at sign-in, at a reauthentication,
    or by enrolling a device?"""
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, user))


def mfa_state(request, user) -> str:
    if has_totp(user):
        return OK if session_passed_mfa(request, user) else AUTHENTICATE
    return ENROL if user.mfa_required else OK


def mfa_enrolment_record(*, request, user, authenticator) -> None:
    """The person just proved they hold the new device (they typed its code): this session has passed MFA."""
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type, enrolled=True)


def _recent(record: dict) -> bool:
    return time.time() - record.get("at", 0) < account_settings.REAUTHENTICATION_TIMEOUT


def first_enrolment_without_reauthentication(request) -> bool:
    """May this request change MFA without typing the password again?

    Only the very first enrolment a bank, customs, secretariat or staff user is forced into right after signing
    in: the session proved the password less than ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` ago and there is no second
    factor yet to ask for, so asking for the password once more proves nothing new. That covers activating the
    first TOTP device and the one display of the recovery codes it generated. Everything else (a second look at
    the codes, new codes, deactivation, enrolling again after a deactivation) needs a fresh reauthentication.
    """
    from allauth.mfa.models import Authenticator

    user = getattr(request, "user", None) if request is not None else None
    if user is None or not user.is_authenticated or not user.mfa_required:
        return False
    match = getattr(request, "resolver_match", None)
    url_name = match.url_name if match else None
    records = get_authentication_records(request, user)
    if url_name == "mfa_activate_totp":
        return not Authenticator.objects.filter(user=user).exists() and any(
            record.get("method") == "password" and _recent(record) for record in records
        )
    if url_name == "mfa_view_recovery_codes":
        codes = Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).first()
        return (
            codes is not None
            and not codes.wrap().did_view
            and any(record.get("method") == "mfa" and record.get("enrolled") and _recent(record) for record in records)
        )
    return False
