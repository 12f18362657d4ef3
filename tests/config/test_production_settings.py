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
    "LEDGER_MAC_KEY": secrets.token_urlsafe(48),
}


def _manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and not k.startswith("DJANGO")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
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
