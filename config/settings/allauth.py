"""django-allauth: e-mail sign-in, verification, password reset, TOTP with recovery codes, rate limits."""

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# Accounts are created by invitation from an organisation's admin, never by open sign-up.
ACCOUNT_SIGNUP_OPEN = False
# Failed sign-ins: 5 a minute per IP, and per e-mail 10 per 5 minutes (allauth's own throttling).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/m/ip,10/5m/key",
    "login": "30/m/ip",
    "reset_password": "5/m/ip,3/m/key",
    "reset_password_from_key": "20/m/ip",
    "signup": "20/m/ip",
    "confirm_email": "3/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Caution unique"
# Encrypts TOTP secrets and recovery-code seeds at rest (REGISTRY_MFA_ENCRYPTION_KEY, config/settings/security.py).
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
# Changes to MFA need the password or a TOTP code typed again (not an e-mailed code), within allauth's
# ACCOUNT_REAUTHENTICATION_TIMEOUT (300 s) of that reauthentication.
ACCOUNT_REAUTHENTICATION_METHODS = ("password", "mfa")
# The client's address is read by accounts.network.client_ip (AccountAdapter.get_client_ip), behind
# REGISTRY_TRUSTED_PROXY_COUNT proxies; allauth's own reading of X-Forwarded-For stays off.
ALLAUTH_TRUSTED_PROXY_COUNT = 0
# A code of the previous or next 30-second step is accepted too: a phone's clock a few seconds off (common at border
# posts without network time) or a code typed as it turns would otherwise fail. allauth still refuses a code used
# once already, so the tolerance gives a replay nothing.
MFA_TOTP_TOLERANCE = 1
