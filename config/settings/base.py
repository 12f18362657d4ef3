"""Settings shared by every environment. Each concern has its own module; values come from the environment.

``local`` (the embedded default: SQLite, tasks in-process), ``test`` and ``production`` build on this.
"""

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "django-insecure-development-only-key-do-not-use-in-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The admin signs nobody in itself: its login page sends to allauth's (password, then TOTP).
    "accounts.admin_site.RegistryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "accounts",
    "guarantees",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.FrenchFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, whose check reads the body: a view's upload limit applies before anything is read.
    "guarantees.web.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "guarantees.web.zones.ReaderZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.RequireMFAMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.membership",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# DATABASE_URL, e.g. postgres://user:pass@127.0.0.1:5432/caution. Absent: a SQLite file next to the code,
# with BEGIN IMMEDIATE transactions (writers queue instead of failing) and WAL (readers never wait).
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
# "reporting": where long read-only queries (reports, exports) may go, so that they never slow the writes — a
# streaming standby of the primary (README, "Deployment"). REPORTING_DATABASE_URL; absent, the same database as
# "default". Nothing is routed there by itself: a report reads with .using("reporting"). Django never writes
# through it (a standby refuses writes anyway), and tests run against "default" only.
REPORTING_DATABASE_URL = env_str("REPORTING_DATABASE_URL", "")
DATABASES["reporting"] = (
    dj_database_url.parse(REPORTING_DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    if REPORTING_DATABASE_URL else {**DATABASES["default"]}
)
DATABASES["reporting"]["TEST"] = {"MIRROR": "default"}
# The statements of the busiest API requests run as prepared statements on PostgreSQL (guarantees/sql.py).
# Turn off behind a connection pooler in transaction mode that cannot keep them (PgBouncer before 1.21).
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
# The hot path (a hold's reservation, a declaration's rows) in its hand-written PostgreSQL statements; off, it
# goes through the ORM as on SQLite (the tests compare both paths; never needed in production).
REGISTRY_HAND_WRITTEN_SQL = env_bool("REGISTRY_HAND_WRITTEN_SQL", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

from config.settings.allauth import *  # noqa: E402,F401,F403

# --- Languages and time ---------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "cu_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Day/month/year and a 24-hour clock in both languages (config/formats); times in the reader's zone
# (guarantees.web.zones).
FORMAT_MODULE_PATH = "config.formats"

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
# collectstatic writes here; nginx serves it (deploy/nginx), WhiteNoise too when nothing is in front.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- E-mail ---------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Caution unique <no-reply@caution-unique.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Cache (rate limits, sign-in throttling) ------------------------------------------------------
# On Redis, a dead or frozen server costs a request milliseconds: short socket timeouts, one immediate retry on a
# fresh connection (a restarted server leaves stale ones in the pool), then the cache carries on in process
# memory until Redis answers again (guarantees.cache), trying it again every REDIS_OUTAGE_RETRY_SECONDS and logging
# the outage at most every REDIS_OUTAGE_LOG_SECONDS.
REDIS_URL = env_str("REDIS_URL")
REDIS_OUTAGE_RETRY_SECONDS = env_int("REDIS_OUTAGE_RETRY_SECONDS", 5)
REDIS_OUTAGE_LOG_SECONDS = env_int("REDIS_OUTAGE_LOG_SECONDS", 60)


def redis_cache(url: str) -> dict:
    """The settings of the default cache on the Redis at ``url`` (also used by the tests that stop Redis)."""
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.retry import Retry

    return {
        "BACKEND": "guarantees.cache.ResilientRedisCache",
        "LOCATION": url,
        "OPTIONS": {
            "socket_connect_timeout": env_int("REDIS_CONNECT_TIMEOUT_MS", 250) / 1000,
            "socket_timeout": env_int("REDIS_SOCKET_TIMEOUT_MS", 500) / 1000,
            "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        },
    }


if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cache_table",
        }
    }

from config.settings.celery import *  # noqa: E402,F401,F403
from config.settings.api import *  # noqa: E402,F401,F403
from config.settings.registry import *  # noqa: E402,F401,F403
from config.settings.certificates import *  # noqa: E402,F401,F403
from config.settings.security import *  # noqa: E402,F401,F403

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
