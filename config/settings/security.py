"""Sessions, the Content-Security-Policy, and the key that encrypts TOTP secrets at rest.

Sessions: people who reach money or customs decisions (bank, customs, secretariat, staff) are signed out after
``REGISTRY_SESSION_IDLE_SECONDS`` without a request, forwarders after ``REGISTRY_SESSION_IDLE_SECONDS_FORWARDER``;
every session ends ``REGISTRY_SESSION_MAX_SECONDS`` after it was opened (``accounts.middleware.SessionTimeoutMiddleware``).

CSP: every script and style comes from our own origin (``static/``); QR codes are ``data:`` images; no page may
be framed, no form may post elsewhere. The Swagger UI is served in the split mode (its script is a file of its
own), so it needs no exception.
"""

from csp.constants import NONE, SELF

from config.env import env_int, env_list, env_str

# --- Sessions -------------------------------------------------------------------------------------
REGISTRY_SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_TIMEOUT_SECONDS", 30 * 60)
REGISTRY_SESSION_IDLE_SECONDS_FORWARDER = env_int("SESSION_IDLE_TIMEOUT_FORWARDER_SECONDS", 2 * 3600)
REGISTRY_SESSION_MAX_SECONDS = env_int("SESSION_MAX_AGE_SECONDS", 12 * 3600)
# The cookie does not outlive the longest session (Django's default is two weeks).
SESSION_COOKIE_AGE = REGISTRY_SESSION_MAX_SECONDS

# --- Content-Security-Policy (django-csp 4) -------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- TOTP secrets at rest (accounts.adapters.MFAAdapter) ------------------------------------------
# A Fernet key (``Fernet.generate_key()``); required in production. Empty here: derived from SECRET_KEY, so that
# ``make run`` and the tests work without one. Keys retired by a rotation stay readable while listed in
# MFA_ENCRYPTION_OLD_KEYS (comma-separated); new secrets are always written with the current key.
REGISTRY_MFA_ENCRYPTION_KEY = env_str("MFA_ENCRYPTION_KEY")
REGISTRY_MFA_ENCRYPTION_OLD_KEYS = env_list("MFA_ENCRYPTION_OLD_KEYS")
