"""/healthz, /readyz and /metrics (guarantees.web.probes, operations.health, guarantees.metrics).

Readiness against a Redis of the test's own (stopped, then started again: never the machine's) and against a
PostgreSQL port nothing listens on (the machine's server is never stopped): 503 within a second, 200 again when
it is back. The probes need no session, pass no sign-in or two-factor rule and no rate limit; /metrics only for
its token or an allowed network.
"""

import time

import pytest
from django.db import connections
from django.test import Client

from guarantees.operations import health
from tests.processes import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]


@pytest.fixture
def ready_settings(settings, registry_signing_key, own_redis):
    settings.REDIS_URL = own_redis.url
    settings.CELERY_BROKER_URL = own_redis.url
    return settings


def _until_ready(client, timeout: float = 20):
    """The first probe of a process loads the signing key (pyHanko, the PKCS#12 file): on a busy machine longer than
    the probe waits, so the process says "not ready" until it is loaded — as it should."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def _timed(client, path):
    start = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - start


def test_healthz_answers_anybody_with_nothing_but_ok():
    response = Client().get("/healthz", HTTP_HOST="10.1.2.3")  # a load balancer probes by address
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


def test_readyz_goes_503_within_a_second_when_redis_stops_and_200_when_it_is_back(ready_settings, own_redis):
    client = Client()
    response = _until_ready(client)
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ready",
                               "checks": {"database": "ok", "redis": "ok", "signing_key": "ok"}}

    own_redis.stop()
    response, took = _timed(client, "/readyz")
    assert response.status_code == 503
    assert took < 1.0
    assert response.json()["checks"]["redis"] in ("fail", "timeout")
    assert response.json()["checks"]["database"] == "ok"
    assert own_redis.url.split("//")[1] not in response.content.decode()  # no address, no error text

    own_redis.start()
    assert client.get("/readyz").status_code == 200


def test_readyz_goes_503_within_a_second_when_postgresql_is_unreachable(ready_settings, monkeypatch):
    client = Client()
    assert _until_ready(client).status_code == 200
    # The check opens a connection of its own from these settings; the test's own connection is left alone.
    monkeypatch.setitem(connections["default"].settings_dict, "PORT", str(free_port()))
    response, took = _timed(client, "/readyz")
    assert response.status_code == 503
    assert took < 1.0
    assert response.json()["checks"]["database"] in ("fail", "timeout")
    monkeypatch.undo()
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_while_a_migration_is_not_applied(ready_settings, monkeypatch):
    leaves = health._migration_leaves()
    monkeypatch.setattr(health, "_migration_leaves", lambda: leaves | {("guarantees", "9999_not_yet")})
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "fail"


def test_readyz_is_503_without_the_signing_key(ready_settings, tmp_path):
    ready_settings.CERTIFICATE_PKCS12_PATH = str(tmp_path / "missing.p12")
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["signing_key"] == "fail"


def test_probes_pass_no_sign_in_mfa_or_rate_limit(ready_settings, world_person):
    # A person who must still enrol a second factor is sent to enrol from every page — not from the probes.
    client = Client()
    client.force_login(world_person)
    assert client.get("/guarantees/").status_code == 302
    assert client.get("/healthz").status_code == 200
    assert _until_ready(client).status_code == 200
    ready_settings.API_THROTTLE_RATES = {"api_key": "", "user": "", "anon": "1/m"}
    assert [Client().get("/healthz").status_code for _ in range(5)] == [200] * 5


@pytest.fixture
def world_person(db):
    from accounts.roles import Role
    from tests.factories import BankFactory, member

    return member(BankFactory().organisation, Role.BANK_CHECKER)


def test_metrics_need_the_token_or_an_allowed_network(settings):
    settings.METRICS_TOKEN = "t" * 32
    settings.METRICS_ALLOWED_NETWORKS = []
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer " + "t" * 32)
    assert response.status_code == 200
    assert b"caution_http_requests_total" in response.content
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert Client(REMOTE_ADDR="10.2.3.4").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.1").get("/metrics", HTTP_X_FORWARDED_FOR="10.2.3.4").status_code == 404
