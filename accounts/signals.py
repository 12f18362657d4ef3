"""Every sign-in is recorded, and a successful one opens the site in the person's saved language.

Django's ``user_logged_in`` is sent by every way in (allauth's sign-in after the TOTP step, the admin, an
accepted invitation); ``user_login_failed`` by every wrong password. Throttled attempts, which never reach a
password check, are recorded by ``accounts.adapters.AccountAdapter.pre_authenticate``.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from accounts.services import sign_in_attempt_record


def _client(request) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    ip = None
    try:
        from allauth.account.adapter import get_adapter

        ip = get_adapter(request).get_client_ip(request)
    except Exception:  # no address at all (unusual proxies): record the attempt anyway
        ip = request.META.get("REMOTE_ADDR") or None
    return ip, request.META.get("HTTP_USER_AGENT", "")


def record_failed_sign_in(request, credentials: dict) -> None:
    User = get_user_model()
    email = (
        credentials.get("email") or credentials.get("username") or credentials.get(User.USERNAME_FIELD) or ""
    )
    ip, agent = _client(request)
    user = User.objects.filter(email__iexact=email).first() if email else None
    sign_in_attempt_record(email=email, user=user, succeeded=False, ip_address=ip, user_agent=agent)


@receiver(user_login_failed, dispatch_uid="accounts.sign_in_failed")
def _on_sign_in_failed(sender, credentials, request=None, **kwargs):
    record_failed_sign_in(request, credentials)


@receiver(user_logged_in, dispatch_uid="accounts.signed_in")
def _on_signed_in(sender, request, user, **kwargs):
    ip, agent = _client(request)
    sign_in_attempt_record(email=user.email, user=user, succeeded=True, ip_address=ip, user_agent=agent)
    if request is not None and user.language:
        # UserLanguageMiddleware puts it in the language cookie of this response: the next page is in it.
        # (No translation.activate() here: it would outlive the request in tests that call force_login.)
        request.registry_language_cookie = user.language
