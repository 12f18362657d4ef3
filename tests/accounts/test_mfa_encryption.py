"""TOTP secrets are stored encrypted: a copy of the database does not give anyone's second factor."""

import pyotp
import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from accounts.crypto import is_encrypted, mfa_secret_encrypt
from tests.accounts.helpers import give_totp, sign_in

pytestmark = pytest.mark.django_db


def _stored(user, kind="totp") -> dict:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.get(user=user, type=kind).data


def _sign_in_with_code(client, user, secret):
    sign_in(client, user.email)
    client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()})
    return client.get(reverse("home"))


def test_the_stored_totp_secret_is_not_the_secret(client, bank_maker):
    secret = give_totp(bank_maker)
    stored = _stored(bank_maker)["secret"]
    assert secret not in stored and stored != secret
    assert is_encrypted(stored)
    assert _sign_in_with_code(client, bank_maker, secret).status_code == 200


def test_the_stored_recovery_code_seed_is_encrypted(bank_maker):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    give_totp(bank_maker)
    codes = RecoveryCodes.activate(bank_maker)
    assert is_encrypted(_stored(bank_maker, "recovery_codes")["seed"])
    assert len(codes.get_unused_codes()) == 10


def test_an_enrolment_through_the_pages_stores_it_encrypted(client, bank_maker):
    sign_in(client, bank_maker.email)
    secret = client.get(reverse("mfa_activate_totp")).context["form"].secret
    client.post(reverse("mfa_activate_totp"), {"code": pyotp.TOTP(secret).now()})
    assert _stored(bank_maker)["secret"] != secret and is_encrypted(_stored(bank_maker)["secret"])


def test_a_wrong_key_fails_loudly(client, bank_maker, settings):
    secret = give_totp(bank_maker)
    settings.REGISTRY_MFA_ENCRYPTION_KEY = Fernet.generate_key().decode()
    sign_in(client, bank_maker.email)
    client.raise_request_exception = True
    with pytest.raises(ImproperlyConfigured, match="MFA_ENCRYPTION_KEY"):
        client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()})


def test_after_a_rotation_the_old_key_still_decrypts_and_new_secrets_use_the_new_key(client, bank_maker, settings):
    old = Fernet.generate_key().decode()
    settings.REGISTRY_MFA_ENCRYPTION_KEY = old
    secret = give_totp(bank_maker)
    settings.REGISTRY_MFA_ENCRYPTION_KEY = Fernet.generate_key().decode()
    settings.REGISTRY_MFA_ENCRYPTION_OLD_KEYS = [old]
    assert _sign_in_with_code(client, bank_maker, secret).status_code == 200
    settings.REGISTRY_MFA_ENCRYPTION_OLD_KEYS = []
    with pytest.raises(ImproperlyConfigured):
        from accounts.crypto import mfa_secret_decrypt

        mfa_secret_decrypt(_stored(bank_maker)["secret"])


def test_a_secret_stored_in_clear_is_refused_not_used(bank_maker):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    authenticator = Authenticator.objects.create(user=bank_maker, type="totp", data={"secret": generate_totp_secret()})
    with pytest.raises(ImproperlyConfigured, match="unencrypted"):
        TOTP(authenticator).validate_code("123456")


def test_the_migration_encrypts_clear_secrets_once_and_back(bank_maker):
    from importlib import import_module

    from allauth.mfa.models import Authenticator
    from django.apps import apps

    migration = import_module("accounts.migrations.0004_mfa_secrets_encrypted")
    clear = "JBSWY3DPEHPK3PXP"
    already = mfa_secret_encrypt("KRSXG5CTMVRXEZLU")
    totp = Authenticator.objects.create(user=bank_maker, type="totp", data={"secret": clear})
    codes = Authenticator.objects.create(
        user=bank_maker, type="recovery_codes", data={"seed": already, "used_mask": 0, "migrated_codes": ["11112222"]}
    )

    migration.encrypt_clear_secrets(apps, None)
    totp.refresh_from_db()
    codes.refresh_from_db()
    first = totp.data["secret"]
    assert is_encrypted(first) and clear not in first
    assert codes.data["seed"] == already  # already encrypted: left alone
    assert is_encrypted(codes.data["migrated_codes"][0])

    migration.encrypt_clear_secrets(apps, None)  # again: nothing changes
    totp.refresh_from_db()
    assert totp.data["secret"] == first

    migration.decrypt_secrets(apps, None)
    totp.refresh_from_db()
    codes.refresh_from_db()
    assert totp.data["secret"] == clear and codes.data["migrated_codes"] == ["11112222"]
