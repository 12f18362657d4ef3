"""allauth adapter: no open sign-up, throttled sign-ins recorded, a fresh sign-in is enough to enrol TOTP."""

import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_noop

# allauth's own messages that its French catalogue leaves empty: listed here so that makemessages puts them
# in ours, where they are translated (our catalogue comes first in LOCALE_PATHS).
ALLAUTH_MESSAGES_TRANSLATED_HERE = (gettext_noop("Too many failed login attempts. Try again later."),)

# Sign-in methods that prove the person is at the keyboard now: password (then TOTP when enrolled), or a
# password just set from a reset or invitation link.
_FRESH_SIGN_IN_METHODS = {"password", "password_reset"}


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return getattr(settings, "ACCOUNT_SIGNUP_OPEN", False)

    def pre_authenticate(self, request, **credentials):
        """allauth refuses the attempt here when the failure rate limit is hit; keep a record of that too."""
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            from accounts.signals import record_failed_sign_in

            record_failed_sign_in(request, credentials)
            raise

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """allauth asks for the password again before any change to MFA, even a minute after signing in.

        A bank, customs or secretariat user is sent to TOTP enrolment right after signing in; asking for the
        password a second time there only gets in the way. A sign-in less than
        ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds old counts as a reauthentication for MFA changes.
        """
        required = super().is_reauthentication_required(app=app, **kwargs)
        if required and app == "allauth.mfa" and signed_in_recently(context.request):
            return False
        return required


def signed_in_recently(request) -> bool:
    from allauth.account.internal.flows.login import get_authentication_records

    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return False
    now = time.time()
    return any(
        record.get("method") in _FRESH_SIGN_IN_METHODS
        and now - record.get("at", 0) < account_settings.REAUTHENTICATION_TIMEOUT
        for record in get_authentication_records(request, user)
    )
