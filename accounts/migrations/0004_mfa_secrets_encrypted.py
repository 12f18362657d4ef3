"""Encrypt the TOTP secrets and recovery-code seeds allauth stored in clear (accounts.crypto, MFA_ENCRYPTION_KEY).

Idempotent: a value already encrypted (``fernet:`` prefix) is left as it is, so running it again, or after some
devices were enrolled with encryption on, changes nothing. Reversible: going back decrypts them.
"""

from django.db import migrations

# Where allauth keeps a secret in Authenticator.data: the TOTP secret, the recovery-code seed, and the codes
# carried over from django-allauth's predecessors.
_FIELDS = ("secret", "seed")
_LISTS = ("migrated_codes",)


def _convert(apps, change) -> None:
    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.order_by("pk").iterator():
        data = dict(authenticator.data or {})
        for name in _FIELDS:
            if isinstance(data.get(name), str):
                data[name] = change(data[name])
        for name in _LISTS:
            if isinstance(data.get(name), list):
                data[name] = [change(value) if isinstance(value, str) else value for value in data[name]]
        if data != authenticator.data:
            authenticator.data = data
            authenticator.save(update_fields=["data"])


def encrypt_clear_secrets(apps, schema_editor):
    from accounts.crypto import is_encrypted, mfa_secret_encrypt

    _convert(apps, lambda value: value if is_encrypted(value) else mfa_secret_encrypt(value))


def decrypt_secrets(apps, schema_editor):
    from accounts.crypto import is_encrypted, mfa_secret_decrypt

    _convert(apps, lambda value: mfa_secret_decrypt(value) if is_encrypted(value) else value)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_transits_and_api_keys"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_clear_secrets, decrypt_secrets, elidable=False)]
