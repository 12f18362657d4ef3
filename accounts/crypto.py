"""Secrets at rest: the TOTP secrets and recovery-code seeds allauth stores, encrypted with Fernet.

The key comes from the environment (``MFA_ENCRYPTION_KEY``, required in production; derived from SECRET_KEY in
local and test settings). Rotation: set the new key, list the old one in ``MFA_ENCRYPTION_OLD_KEYS``; values
written with either decrypt, new ones are written with the new key (``MultiFernet``). An encrypted value is
``fernet:<token>``, which tells it apart from a value stored in clear before migration accounts 0004.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Encrypted values carry this prefix: what lacks it was stored in clear (before migration accounts 0004).
ENCRYPTED_PREFIX = "fernet:"


def mfa_fernet() -> MultiFernet:
    """The current key first (it encrypts), then the retired ones (they still decrypt)."""
    current = settings.REGISTRY_MFA_ENCRYPTION_KEY or _key_from_secret_key(settings.SECRET_KEY)
    keys = [current, *settings.REGISTRY_MFA_ENCRYPTION_OLD_KEYS]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured("MFA_ENCRYPTION_KEY and MFA_ENCRYPTION_OLD_KEYS hold Fernet keys.") from exc


def _key_from_secret_key(secret_key: str) -> bytes:
    # Local and test settings only (production requires MFA_ENCRYPTION_KEY): make run works with no key to set.
    digest = hashlib.sha256(b"caution-unique mfa secrets at rest\x00" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def mfa_secret_encrypt(text: str) -> str:
    return ENCRYPTED_PREFIX + mfa_fernet().encrypt(text.encode()).decode("ascii")


def mfa_secret_decrypt(stored: str) -> str:
    """Refuses, loudly, a value stored in clear or written with a key no longer configured: a TOTP that silently
    verifies against the wrong secret would lock everyone out without saying why."""
    if not is_encrypted(stored):
        raise ImproperlyConfigured("An MFA secret is stored unencrypted: run the migrations (accounts 0004).")
    try:
        return mfa_fernet().decrypt(stored[len(ENCRYPTED_PREFIX):].encode("ascii")).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "An MFA secret cannot be decrypted with MFA_ENCRYPTION_KEY (or MFA_ENCRYPTION_OLD_KEYS): was the key "
            "changed without keeping the old one?"
        ) from exc


def is_encrypted(stored: str) -> bool:
    return stored.startswith(ENCRYPTED_PREFIX)
