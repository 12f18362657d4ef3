"""Helpers shared by the accounts tests."""

from allauth.account.models import EmailAddress
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
