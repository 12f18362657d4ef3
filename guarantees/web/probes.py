"""What operators and their machines ask of every process: ``/healthz``, ``/readyz``, ``/metrics``; and the
request id and the request metrics of everything else.

``ProbesMiddleware`` is the first middleware: the three paths are answered before sessions, sign-in, two-factor
authentication, language, CSRF, rate limits or the host check run (a load balancer probes by address), so a probe
costs no database query of the request's own and cannot be turned away by the rules of people's pages.

- ``/healthz``: the process answers (no check of anything else: a restart cures nothing a dependency lacks).
- ``/readyz``: ``operations.health.readiness`` — PostgreSQL with every migration applied, Redis, the signing key;
  503 within ``HEALTH_CHECK_TIMEOUT_SECONDS`` when one is down or slow. The body names each check and says ok or
  not, nothing else (no host, no error text).
- ``/metrics``: Prometheus's text (``guarantees.metrics``), only for ``Authorization: Bearer <METRICS_TOKEN>`` or
  a peer address in ``METRICS_ALLOWED_NETWORKS`` (the direct peer: a forwarded address proves nothing); neither
  set: 404, as for anybody else. nginx does not pass it from outside (deploy/nginx).

``RequestIdMiddleware`` gives each request an id for its log lines and the tasks it queues (``guarantees.logs``);
``RequestMetricsMiddleware`` counts it by view (URL name) and status.
"""

from __future__ import annotations

import hmac
import ipaddress
import time

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from guarantees import logs, metrics
from guarantees.operations.health import readiness

HEALTH, READY, METRICS = "/healthz", "/readyz", "/metrics"


def _no_store(response):
    response["Cache-Control"] = "no-store"
    # Not one "Service Unavailable" error line per probe from django.request: the check's warning says why.
    response._has_been_logged = True
    return response


def _metrics_allowed(request) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "") or ""
    given = request.META.get("HTTP_AUTHORIZATION", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
        return True
    networks = getattr(settings, "METRICS_ALLOWED_NETWORKS", ()) or ()
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(network, strict=False) for network in networks)


class ProbesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path == HEALTH:
            return _no_store(JsonResponse({"status": "ok"}))
        if path == READY:
            ready, checks = readiness()
            return _no_store(JsonResponse({"status": "ready" if ready else "not_ready", "checks": checks},
                                          status=200 if ready else 503))
        if path == METRICS:
            if not _metrics_allowed(request):
                return _no_store(JsonResponse({"code": "not_found", "detail": "Not found."}, status=404))
            body, content_type = metrics.exposition()
            return _no_store(HttpResponse(body, content_type=content_type))
        return self.get_response(request)


class RequestIdMiddleware:
    """X-Request-ID from nginx (``$request_id``) when the application is behind ``REGISTRY_TRUSTED_PROXY_COUNT``
    proxies and the value looks like an id; else a fresh one. Sent back in the response's X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        trusted = getattr(settings, "REGISTRY_TRUSTED_PROXY_COUNT", 0) > 0
        rid = (logs.request_id_accept(request.META.get("HTTP_X_REQUEST_ID")) if trusted else None) \
            or logs.request_id_new()
        request.request_id = rid
        # Left set after the response: Django logs a refused request ("Unauthorized: /api/...") once every
        # middleware has returned; ``request_finished`` clears it (GuaranteesConfig.ready).
        logs.request_id_set(rid)
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "unnamed") if match is not None else "unmatched"
        method = request.method if request.method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                                      "OPTIONS") else "other"
        metrics.REQUESTS.labels(view, method, str(response.status_code)).inc()
        metrics.REQUEST_SECONDS.labels(view).observe(time.perf_counter() - start)
        return response
