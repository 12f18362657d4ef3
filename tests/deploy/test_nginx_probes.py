"""Probes and request ids through nginx (deploy/nginx/caution.conf.template): /healthz and /readyz answer through
it, /metrics never does, and the request id nginx gives a request is the one the application logs and answers with
— whatever X-Request-ID the client sent."""

import json

import pytest

from tests.deploy.test_nginx import behind_nginx, nginx, static_root  # noqa: F401 - the fixtures

pytestmark = pytest.mark.django_db(transaction=True)


def test_health_and_readiness_answer_through_nginx_and_metrics_do_not(behind_nginx, settings):  # noqa: F811
    settings.METRICS_TOKEN = "a-token-that-is-long-enough"
    health = behind_nginx.request("GET", "/healthz")
    assert health.status == 200
    assert json.loads(health.body) == {"status": "ok"}
    ready = behind_nginx.request("GET", "/readyz")
    assert ready.status in (200, 503)
    assert set(json.loads(ready.body)["checks"]) == {"database", "redis", "signing_key"}
    # Not even with the token: nginx never passes /metrics.
    metrics = behind_nginx.request("GET", "/metrics", headers={"Authorization": "Bearer a-token-that-is-long-enough"})
    assert metrics.status == 404
    assert b"caution_" not in metrics.body


def test_the_request_id_is_nginxs_not_the_clients(behind_nginx):  # noqa: F811
    answer = behind_nginx.request("GET", "/api/v1/transits", headers={"X-Request-ID": "forged-by-the-client-0001"})
    assert answer.status == 401
    rid = answer.headers["x-request-id"]
    assert rid != "forged-by-the-client-0001"
    assert len(rid) == 32 and int(rid, 16) >= 0  # nginx's $request_id: 32 hex digits
    # The application answers with the id it logs under (RequestIdMiddleware): nginx's, not the client's. That the
    # log lines of a refused request carry that id is shown in-process by tests/guarantees/operations/test_logs.py
    # (reading the live server thread's records from here was order-dependent under xdist).
