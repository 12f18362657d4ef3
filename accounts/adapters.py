"""allauth adapters: no open sign-up, throttled sign-ins recorded, the client's address read behind our proxies,
MFA changes behind a fresh reauthentication, and TOTP secrets encrypted at rest."""

import math
import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_noop, ngettext

from accounts.crypto import mfa_secret_decrypt, mfa_secret_encrypt
from accounts.mfa import first_enrolment_without_reauthentication
from accounts.network import client_ip

# allauth's own messages that its French catalogue leaves empty: listed here so that makemessages puts them
# in ours, where they are translated (our catalogue comes first in LOCALE_PATHS).
ALLAUTH_MESSAGES_TRANSLATED_HERE = (gettext_noop("Too many failed login attempts. Try again later."),)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return getattr(settings, "ACCOUNT_SIGNUP_OPEN", False)

    def get_client_ip(self, request) -> str:
        """allauth's rate limits count per address: the one ``accounts.network.client_ip`` reads behind
        ``REGISTRY_TRUSTED_PROXY_COUNT`` proxies, like the API's limits (a spoofed X-Forwarded-For changes
        nothing; behind the proxy, each client is counted apart)."""
        return client_ip(request)

    def pre_authenticate(self, request, **credentials):
        """allauth refuses the attempt here when the failure rate limit is hit; keep a record of that too."""
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            from accounts.signals import record_failed_sign_in

            record_failed_sign_in(request, credentials)
            wait = self.sign_in_wait_seconds(request, **credentials)
            if not wait:
                raise
            minutes = max(1, math.ceil(wait / 60))
            raise ValidationError(
                ngettext(
                    "Too many failed sign-in attempts. Try again in %(minutes)d minute.",
                    "Too many failed sign-in attempts. Try again in %(minutes)d minutes.",
                    minutes,
                ) % {"minutes": minutes},
                code="too_many_login_attempts",
            ) from None

    def sign_in_wait_seconds(self, request, **credentials) -> int:
        """How long before the next attempt is allowed: allauth keeps, per limit (per address, per login), the
        times of the recent failures; a limit of N per period frees up when the N-th most recent one is older
        than the period. 0 when no limit is reached."""
        from allauth.core.internal import ratelimit
        from django.core.cache import cache

        key = self._get_login_attempts_cache_key(request, **credentials)
        now = time.time()
        wait = 0.0
        for rate in ratelimit.get_rates(app="allauth.account", action="login_failed"):
            try:
                cache_key = ratelimit.get_cache_key(request, app="allauth.account", action="login_failed", rate=rate,
                                                    key=key)
            except Exception:  # noqa: BLE001 - a limit that cannot apply here does not make anyone wait
                continue
            history = [at for at in cache.get(cache_key, []) if at > now - rate.duration]
            if len(history) >= rate.amount:
                wait = max(wait, history[rate.amount - 1] + rate.duration - now)
        return math.ceil(wait)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """allauth asks for the password (or a TOTP code) again before any change to MFA, within
        ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` of that reauthentication; signing in does not count.

        One exception (``accounts.mfa.first_enrolment_without_reauthentication``): the first enrolment a bank,
        customs, secretariat or staff user is forced into right after signing in with their password.
        """
        required = super().is_reauthentication_required(app=app, **kwargs)
        if required and app == "allauth.mfa" and first_enrolment_without_reauthentication(context.request):
            return False
        return required


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are stored encrypted (Fernet, key from the environment): a copy of
    the database alone does not give anyone's second factor."""

    def encrypt(self, text: str) -> str:
        return mfa_secret_encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return mfa_secret_decrypt(encrypted_text)
