"""deploy/compose.yaml: valid for Docker Compose where its CLI exists (`docker compose config`, or Debian's
`docker-compose`), and in any case what the registry needs of it: nginx the only service published, in front of
the web app with the static files it collects, every variable the production settings require, one beat."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
TEMPLATE = ROOT / "deploy" / "nginx" / "caution.conf.template"
APP_SERVICES = ["web", "worker", "worker-bulk", "beat"]
REQUIRED_BY_PRODUCTION = [
    "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "LEDGER_MAC_KEY", "MFA_ENCRYPTION_KEY",
    "CERTIFICATE_PKCS12_PATH", "CERTIFICATE_PKCS12_PASSPHRASE", "CERTIFICATE_TRUST_ROOTS_PATH", "ALLOWED_HOSTS",
    "OFFLINE_SIGNING_KEY_PATH",
]
ENV = {
    "SECRET_KEY": "s", "MFA_ENCRYPTION_KEY": "m", "LEDGER_MAC_KEY": "l", "CERTIFICATE_PKCS12_PASSPHRASE": "p",
    "POSTGRES_PASSWORD": "pw", "SERVER_NAME": "caution.example.org", "TLS_DIR": "/etc/caution/tls",
    "KEYS_DIR": "/etc/caution/keys",
}


def compose_cli() -> list[str] | None:
    """``docker compose`` (the plugin) if it answers, else Debian's ``docker-compose``; neither needs an engine for
    ``config``."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def _config(env: dict) -> subprocess.CompletedProcess:
    cli = compose_cli()
    clean = {k: v for k, v in os.environ.items() if k not in ENV}
    return subprocess.run([*cli, "-f", str(COMPOSE), "config"], capture_output=True, text=True, timeout=60,
                          env={**clean, **env}, cwd=ROOT)


@pytest.mark.skipif(compose_cli() is None, reason="no Docker Compose CLI here (the structure is checked below)")
def test_docker_compose_config_accepts_the_file():
    result = _config(ENV)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert set(resolved["services"]) == {"postgres", "redis", "nginx", *APP_SERVICES}
    assert resolved["services"]["web"]["environment"]["ALLOWED_HOSTS"] == "caution.example.org"


@pytest.mark.skipif(compose_cli() is None, reason="no Docker Compose CLI here")
def test_docker_compose_config_refuses_a_missing_secret():
    result = _config({k: v for k, v in ENV.items() if k != "LEDGER_MAC_KEY"})
    assert result.returncode != 0
    assert "LEDGER_MAC_KEY" in result.stderr


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_only_nginx_is_published_in_front_of_the_web_app(compose):
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"nginx"}
    assert sorted(str(port) for port in services["nginx"]["ports"]) == ["443:443", "80:80"]
    assert services["nginx"]["environment"]["CAUTION_UPSTREAM"] == "web:8000"


def test_nginx_gets_its_template_and_every_variable_of_it(compose):
    nginx = compose["services"]["nginx"]
    mounts = [volume.split(":") for volume in nginx["volumes"]]
    assert ["./nginx/caution.conf.template", "/etc/nginx/templates/default.conf.template", "ro"] in mounts
    needed = set(re.findall(r"\$\{(CAUTION_[A-Z_]+)\}", TEMPLATE.read_text()))
    assert needed == set(nginx["environment"])


def test_static_files_are_shared_between_web_and_nginx(compose):
    services = compose["services"]
    static_root = services["nginx"]["environment"]["CAUTION_STATIC_ROOT"]
    assert f"static:{static_root}:ro" in services["nginx"]["volumes"]
    assert services["web"]["environment"]["STATIC_ROOT"] == static_root
    assert f"static:{static_root}" in services["web"]["volumes"]
    assert "collectstatic" in services["web"]["command"]
    assert "static" in compose["volumes"]


def test_the_application_services_have_what_production_requires(compose):
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        missing = [variable for variable in REQUIRED_BY_PRODUCTION if variable not in environment]
        assert not missing, f"{name} lacks {missing}"
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        # Behind the one nginx: the client is the last address of X-Forwarded-For.
        assert environment["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"


def test_references_resolve(compose):
    services, volumes = compose["services"], set(compose["volumes"])
    for name, service in services.items():
        for dependency in service.get("depends_on") or []:
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0]
            if not source.startswith((".", "/", "$")):
                assert source in volumes, f"{name} mounts undeclared volume {source}"
    beats = [name for name, service in services.items() if "beat" in str(service.get("command", ""))]
    assert beats == ["beat"]
