"""Helpers shared by the accounts tests, and the one way every test signs a person in."""

from allauth.account.models import EmailAddress
from django.http import HttpRequest
from django.urls import reverse

PASSWORD = "correct-horse-battery"


def verified(user):
    EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


def give_totp(user):
    """Enrol a TOTP device directly, as allauth would; returns the secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def sign_in_as(client, user):
    """THE test-side sign-in: a session for ``user`` as allauth's sign-in leaves it.

    ``client.force_login`` alone opens a session that skipped the TOTP step, which ``RequireMFAMiddleware``
    refuses for anyone with a device. Here, when ``user`` has a TOTP device, the session also gets the records
    allauth writes when the password and then the code were typed (``record_authentication``), so that it counts
    as having passed MFA. Works with Django's ``Client`` and DRF's ``APIClient``; returns the client.
    """
    from allauth.account.internal.flows.login import record_authentication
    from allauth.mfa.models import Authenticator

    client.force_login(user)
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is not None:
        request = HttpRequest()
        request.session = client.session
        record_authentication(request, user, "password", email=user.email)
        record_authentication(request, user, "mfa", id=totp.pk, type=totp.type)
        request.session.save()
    return client
