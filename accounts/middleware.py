"""Request guards of the accounts side.

``SessionTimeoutMiddleware``: a session ends after a while without requests (30 minutes for bank, customs,
secretariat and staff people, 2 hours for forwarders) and, whatever the activity, some hours after it was
opened (``config/settings/security.py``).

``RequireMFAMiddleware``: people who must use TOTP (bank, customs, secretariat, staff) cannot reach any page
before they have enrolled a device; they are sent to allauth's enrolment page (``mfa_activate_totp``) and may
only sign out, switch language or use allauth's own pages until then. And anyone who has a TOTP device reaches
nothing with a session that did not pass it (``accounts.mfa``): a session opened by a path that skipped the
TOTP step is sent to allauth's "confirm with your code" page first, where only that page and sign-out work.

``UserLanguageMiddleware``: the language is a cookie (``LANGUAGE_COOKIE_NAME``) read by Django's
``LocaleMiddleware``; this middleware writes the person's saved language into it when they sign in, and saves
their choice on their account when they switch language while signed in.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts import mfa

# Pages a user who must enrol may still reach: allauth (enrolment, sign-out, password), language, static files,
# the public verification page.
_ALLOWED_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/media/", "/verify/", "/favicon.ico")
# A session that must still type its TOTP code reaches far less of allauth: not the pages that change MFA, the
# e-mail or the password (a session that skipped the code could otherwise turn the code off).
_ALLOWED_BEFORE_CODE_PREFIXES = ("/i18n/", "/static/", "/verify/", "/favicon.ico")
_ALLOWED_BEFORE_CODE_URLS = ("mfa_reauthenticate", "account_logout")

# Session keys of SessionTimeoutMiddleware (seconds since the epoch).
SESSION_STARTED_AT = "registry_session_started_at"
SESSION_SEEN_AT = "registry_session_seen_at"
# The last-activity time is written at most this often: not a session write on every request.
_SEEN_AT_GRANULARITY = 60


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            session = request.session
            started = session.get(SESSION_STARTED_AT)
            seen = session.get(SESSION_SEEN_AT)
            if started is None or seen is None:
                # A session opened before this guard existed (or by a path that does not send user_logged_in).
                session[SESSION_STARTED_AT] = started = now
                session[SESSION_SEEN_AT] = seen = now
            if now - seen > session_idle_seconds(user) or now - started > settings.REGISTRY_SESSION_MAX_SECONDS:
                logout(request)
                messages.info(request, _("You were signed out after a period without activity. Sign in again."))
            elif now - seen >= _SEEN_AT_GRANULARITY:
                session[SESSION_SEEN_AT] = now
        return self.get_response(request)


def session_idle_seconds(user) -> int:
    # The people who must use TOTP reach money and customs decisions: the short timeout is theirs.
    if user.mfa_required:
        return settings.REGISTRY_SESSION_IDLE_SECONDS
    return settings.REGISTRY_SESSION_IDLE_SECONDS_FORWARDER


def session_timeout_start(request) -> None:
    """A sign-in opens a new period: called from the ``user_logged_in`` receiver."""
    now = time.time()
    request.session[SESSION_STARTED_AT] = now
    request.session[SESSION_SEEN_AT] = now


class RequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(_ALLOWED_BEFORE_CODE_PREFIXES):
            return self.get_response(request)
        state = mfa.mfa_state(request, user)
        if state == mfa.ENROL and not request.path.startswith(_ALLOWED_PREFIXES):
            return self._refuse(request, _("Set up two-factor authentication first."), reverse("mfa_activate_totp"))
        if state == mfa.AUTHENTICATE and request.path not in {reverse(name) for name in _ALLOWED_BEFORE_CODE_URLS}:
            target = f"{reverse('mfa_reauthenticate')}?{urlencode({'next': request.get_full_path()})}"
            return self._refuse(request, _("Confirm this session with your authenticator code first."), target)
        return self.get_response(request)

    @staticmethod
    def _refuse(request, detail: str, url: str):
        if request.path.startswith("/api/"):
            # A browser session calling the API; machine clients authenticate in DRF, not by session.
            return JsonResponse({"code": "mfa_required", "detail": detail}, status=403)
        return redirect(url)


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        signed_in_language = getattr(request, "registry_language_cookie", None)
        if signed_in_language:
            _set_language_cookie(response, signed_in_language)
        elif request.method == "POST" and request.path == reverse("set_language"):
            user = getattr(request, "user", None)
            chosen = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
            if user is not None and user.is_authenticated and chosen is not None and chosen.value:
                from accounts.services import user_language_set

                user_language_set(user=user, language=chosen.value)
        return response


def _set_language_cookie(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class FrenchFirstMiddleware:
    """French is the registry's language unless the person chose English with the switch.

    Django's ``LocaleMiddleware`` would otherwise follow the browser's Accept-Language, and an officer whose
    browser happens to be set to English would get English pages nobody chose. The API keeps honouring
    Accept-Language for machine clients.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
