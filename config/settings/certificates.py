"""Certificates (attestations de caution unique): the registry's signing key, trust roots, timestamp
authority, languages and the public verification page's limits.

Development and tests use the self-signed key that ``manage.py certificate_devkey`` writes under
``var/certificates/`` (``make run`` does it); production sets ``CERTIFICATE_PKCS12_PATH`` and its passphrase
to the registry's real key, and ``CERTIFICATE_TRUST_ROOTS_PATH`` to the PEM bundle of its certification
authority's root (plus the timestamp authority's root when ``CERTIFICATE_TSA_URL`` is set).
"""

import os
from pathlib import Path

from config.env import env_int, env_list, env_str

_DEV_DIR = Path(__file__).resolve().parent.parent.parent / "var" / "certificates"
CERTIFICATE_DEV_PKCS12_PATH = str(_DEV_DIR / "registry-dev.p12")
CERTIFICATE_DEV_ROOT_PATH = str(_DEV_DIR / "registry-dev-root.pem")
# The development key's passphrase is no secret: the key signs nothing anybody trusts.
CERTIFICATE_DEV_PASSPHRASE = "caution-unique-dev"

# Production (config.settings.production) refuses to start without the real key: never the development one.
_PRODUCTION = (os.environ.get("DJANGO_SETTINGS_MODULE") or "").endswith(".production")

CERTIFICATE_PKCS12_PATH = env_str(
    "CERTIFICATE_PKCS12_PATH", None if _PRODUCTION else CERTIFICATE_DEV_PKCS12_PATH, required=_PRODUCTION
)
# A real key's passphrase must come with it: no silent fall-back to the development one.
CERTIFICATE_PKCS12_PASSPHRASE = env_str(
    "CERTIFICATE_PKCS12_PASSPHRASE",
    CERTIFICATE_DEV_PASSPHRASE if CERTIFICATE_PKCS12_PATH == CERTIFICATE_DEV_PKCS12_PATH else None,
    required=CERTIFICATE_PKCS12_PATH != CERTIFICATE_DEV_PKCS12_PATH,
)
CERTIFICATE_TRUST_ROOTS_PATH = env_str(
    "CERTIFICATE_TRUST_ROOTS_PATH", None if _PRODUCTION else CERTIFICATE_DEV_ROOT_PATH, required=_PRODUCTION
)

# RFC 3161 timestamp authority, used only when set (PAdES B-T); its root must be in the trust roots.
CERTIFICATE_TSA_URL = env_str("CERTIFICATE_TSA_URL")
CERTIFICATE_TSA_TIMEOUT = env_int("CERTIFICATE_TSA_TIMEOUT", 10)

# Languages the task renders each version in (French); another (English) is rendered on its first download
# and stored the same way.
CERTIFICATE_LANGUAGES = env_list("CERTIFICATE_LANGUAGES", ["fr"])

# Where the certificate is signed (printed in the signature's /Location).
CERTIFICATE_SIGNING_LOCATION = env_str("CERTIFICATE_SIGNING_LOCATION", "Ouagadougou")

# The public verification page: look-ups (and uploads) per client per window, and the largest upload. The
# client is the address accounts.network.client_ip reads (behind TRUSTED_PROXY_COUNT proxies), an IPv6 client
# counted by its /64.
CERTIFICATE_VERIFY_RATE_LIMIT = env_int("CERTIFICATE_VERIFY_RATE_LIMIT", 30)
CERTIFICATE_VERIFY_RATE_WINDOW_SECONDS = env_int("CERTIFICATE_VERIFY_RATE_WINDOW_SECONDS", 60)
# Well-formed numbers not in the register, per client per window: past it, nothing more until the window ends.
CERTIFICATE_VERIFY_MISS_LIMIT = env_int("CERTIFICATE_VERIFY_MISS_LIMIT", 10)
CERTIFICATE_VERIFY_MISS_WINDOW_SECONDS = env_int("CERTIFICATE_VERIFY_MISS_WINDOW_SECONDS", 3600)
# Larger uploads are refused before they are read (guarantees.web.uploads); a certificate is far smaller.
CERTIFICATE_UPLOAD_MAX_BYTES = env_int("CERTIFICATE_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)

# --- Offline verification (guarantees.documents.offline, offline_keys) -----------------------------------
# The P-256 key that signs the QR payload and the status list (dedicated to this); outside production a
# development key is made on first use at OFFLINE_DEV_KEY_PATH. OFFLINE_SIGNING_KEY_NOT_BEFORE: ISO date-time
# the key signs from; OFFLINE_RETIRED_KEYS_PATH: JSON list of the keys it replaced, with their validity.
OFFLINE_DEV_KEY_PATH = str(_DEV_DIR / "offline-dev-p256.pem")
OFFLINE_SIGNING_KEY_PATH = env_str("OFFLINE_SIGNING_KEY_PATH", None if _PRODUCTION else OFFLINE_DEV_KEY_PATH,
                                   required=_PRODUCTION)
OFFLINE_SIGNING_KEY_PASSPHRASE = env_str("OFFLINE_SIGNING_KEY_PASSPHRASE")
OFFLINE_SIGNING_KEY_NOT_BEFORE = env_str("OFFLINE_SIGNING_KEY_NOT_BEFORE")
OFFLINE_RETIRED_KEYS_PATH = env_str("OFFLINE_RETIRED_KEYS_PATH")
# A status list says it expires this long after it was signed (it is refreshed every hour and on every change);
# the verifier warns past OFFLINE_STATUS_LIST_WARN_HOURS.
OFFLINE_STATUS_LIST_TTL_SECONDS = env_int("OFFLINE_STATUS_LIST_TTL_SECONDS", 48 * 3600)
OFFLINE_STATUS_LIST_WARN_HOURS = env_int("OFFLINE_STATUS_LIST_WARN_HOURS", 24)
# Bumped when the offline verifier's files change: its service worker then replaces what phones cached.
OFFLINE_VERIFIER_VERSION = env_str("OFFLINE_VERIFIER_VERSION", "1")
