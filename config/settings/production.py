"""Production: refuses to start on insecure defaults. ``python manage.py check --deploy`` is clean with it."""

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str

from .base import *  # noqa: F401,F403

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY", required=True)
DATABASE_URL = env_str("DATABASE_URL", required=True)
REDIS_URL = env_str("REDIS_URL", required=True)
# The ledger's MAC key lives outside the database; a derived development key would let a database writer
# who reads the code and the settings reseal a rewritten chain.
LEDGER_MAC_KEY = env_str("LEDGER_MAC_KEY", required=True)
if len(LEDGER_MAC_KEY) < 32:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("LEDGER_MAC_KEY must be at least 32 characters.")
LEDGER_MAC_KEY_ID = env_str("LEDGER_MAC_KEY_ID", "k1")
REGISTRY_MFA_ENCRYPTION_KEY = env_str("MFA_ENCRYPTION_KEY", required=True)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# A malformed TOTP encryption key stops the start, not the first sign-in.
for _key in [REGISTRY_MFA_ENCRYPTION_KEY, *REGISTRY_MFA_ENCRYPTION_OLD_KEYS]:  # noqa: F405
    try:
        Fernet(_key)
    except ValueError as exc:
        raise ImproperlyConfigured(
            "MFA_ENCRYPTION_KEY and MFA_ENCRYPTION_OLD_KEYS hold Fernet keys (Fernet.generate_key())."
        ) from exc
