"""Every sign-in is recorded, and a successful one opens the site in the person's saved language.

Django's ``user_logged_in`` is sent by every way in (allauth's sign-in after the TOTP step, an accepted
invitation); ``user_login_failed`` by every wrong password. Throttled attempts, which never reach a password
check, are recorded by ``accounts.adapters.AccountAdapter.pre_authenticate``.

A sign-in also starts the session's idle and absolute timers; enrolling a TOTP device counts, for the session
that did it, as having passed MFA (the person just typed the new device's code).
"""

from allauth.core import context as allauth_context
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.middleware import session_timeout_start
from accounts.mfa import mfa_enrolment_record
from accounts.network import client_ip
from accounts.services import sign_in_attempt_record


def _client(request) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    ip = client_ip(request)
    return (None if ip == "unknown" else ip), request.META.get("HTTP_USER_AGENT", "")


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
    if request is not None and hasattr(request, "session"):
        session_timeout_start(request)
    if request is not None and user.language:
        # UserLanguageMiddleware puts it in the language cookie of this response: the next page is in it.
        # (No translation.activate() here: it would outlive the request in tests that call force_login.)
        request.registry_language_cookie = user.language


@receiver(post_save, sender=Authenticator, dispatch_uid="accounts.mfa_enrolled")
def _on_authenticator_saved(sender, instance, created, **kwargs):
    # Synchronously, in the request that enrolled the device (allauth's own authenticator_added signal comes
    # on commit, which may be after the session was saved). A device created outside a request by someone else
    # (the admin, a script) opens no session.
    request = allauth_context.request
    user = getattr(request, "user", None)
    if created and instance.type == Authenticator.Type.TOTP and user is not None and user.pk == instance.user_id:
        mfa_enrolment_record(request=request, user=user, authenticator=instance)
