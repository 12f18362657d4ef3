"""The production settings refuse insecure defaults, and `check --deploy` is clean with them."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "DATABASE_URL": "postgres://caution@127.0.0.1:5432/caution",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "caution.example.org",
    "CERTIFICATE_PKCS12_PATH": "/etc/caution/registry.p12",
    "CERTIFICATE_PKCS12_PASSPHRASE": "not-a-real-passphrase",
    "CERTIFICATE_TRUST_ROOTS_PATH": "/etc/caution/roots.pem",
    "OFFLINE_SIGNING_KEY_PATH": "/etc/caution/offline.pem",
    "LEDGER_MAC_KEY": secrets.token_urlsafe(48),
    "MFA_ENCRYPTION_KEY": "sH2mNq3v5d0T9m2cXo3mM2w4e8lq4m5r7cPj8sZk2ZU=",
}


def _clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and not k.startswith("DJANGO")}


def _manage(*args, env):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**_clean_env(), **env},
                          capture_output=True, text=True, timeout=120)


def _python(code: str, env: dict):
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**_clean_env(), **env},
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_the_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_the_ledger_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "LEDGER_MAC_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "LEDGER_MAC_KEY" in result.stderr


def test_production_refuses_a_short_ledger_key():
    result = _manage("check", env={**PRODUCTION_ENV, "LEDGER_MAC_KEY": "too-short"})
    assert result.returncode != 0
    assert "LEDGER_MAC_KEY must be at least 32 characters" in result.stderr


def test_production_refuses_to_start_without_the_mfa_encryption_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "MFA_ENCRYPTION_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0 and "MFA_ENCRYPTION_KEY" in result.stderr


def test_production_refuses_a_malformed_mfa_encryption_key():
    result = _manage("check", env={**PRODUCTION_ENV, "MFA_ENCRYPTION_KEY": "too-short"})
    assert result.returncode != 0 and "Fernet" in result.stderr


def test_the_wsgi_application_without_a_settings_module_is_production_and_refuses_without_secrets():
    # gunicorn config.wsgi with DJANGO_SETTINGS_MODULE forgotten: no DEBUG and no public key, but a refusal.
    result = _python("import config.wsgi", env={})
    assert result.returncode != 0 and "ImproperlyConfigured: The environment variable" in result.stderr
    result = _python(
        "import config.wsgi; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)",
        env={k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SETTINGS_MODULE"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.settings.production", "False"]


def test_celery_without_a_settings_module_is_production():
    result = _python("import config.celery, os; print(os.environ['DJANGO_SETTINGS_MODULE'])", env={})
    assert result.stdout.strip() == "config.settings.production"


def test_celery_under_the_local_settings_still_runs_tasks_in_process():
    # make run: manage.py sets the local settings, no REDIS_URL; the Celery app imports and runs tasks eagerly.
    result = _python(
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.local'\n"
        "import django; django.setup()\n"
        "from config.celery import app; from django.conf import settings\n"
        "print(settings.DEBUG, app.conf.task_always_eager)",
        env={"DATABASE_URL": f"sqlite:///{ROOT / 'var' / 'local-settings-check.db'}"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
