"""Bank, customs and secretariat users cannot reach any page before they have enrolled a TOTP device."""

from django.shortcuts import redirect
from django.urls import reverse

# Pages a user who must enrol may still reach: enrolment itself, signing out, language, static files.
_ALLOWED_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/media/", "/verify/")


class RequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.mfa_required
            and not request.path.startswith(_ALLOWED_PREFIXES)
            and not request.path.startswith("/api/")
            and not _has_totp(user)
        ):
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


def _has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    cached = getattr(user, "_has_totp", None)
    if cached is None:
        cached = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        user._has_totp = cached
    return cached
