"""Two request guards of the accounts side.

``RequireMFAMiddleware``: bank, customs and secretariat users cannot reach any page before they have enrolled
a TOTP device; they are sent to allauth's enrolment page (``mfa_activate_totp``) and may only sign out,
switch language or use allauth's own pages until then.

``UserLanguageMiddleware``: the language is a cookie (``LANGUAGE_COOKIE_NAME``) read by Django's
``LocaleMiddleware``; this middleware writes the person's saved language into it when they sign in, and saves
their choice on their account when they switch language while signed in.
"""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

# Pages a user who must enrol may still reach: allauth (enrolment, sign-out, password), language, static files,
# the public verification page.
_ALLOWED_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/media/", "/verify/", "/favicon.ico")


class RequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(_ALLOWED_PREFIXES)
            and user.mfa_required
            and not has_totp(user)
        ):
            if request.path.startswith("/api/"):
                # A browser session calling the API; machine clients authenticate in DRF, not by session.
                return JsonResponse(
                    {"code": "mfa_required", "detail": _("Set up two-factor authentication first.")}, status=403
                )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


def has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    cached = getattr(user, "_has_totp", None)
    if cached is None:
        cached = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        user._has_totp = cached
    return cached


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
