"""Probes, metrics and logs (guarantees.web.probes, guarantees.metrics, guarantees.logs; README, "Observing").

``/healthz`` and ``/readyz`` answer anybody (they say nothing but ok / not ok per check); ``/metrics`` only a
bearer of METRICS_TOKEN or a peer in METRICS_ALLOWED_NETWORKS (comma-separated CIDRs, e.g. the Prometheus
server's), else 404. Logs: JSON lines on stderr (LOG_FORMAT=plain for a person reading a terminal).
"""

from config.env import env_int, env_list, env_str

HEALTH_CHECK_TIMEOUT_SECONDS = env_int("HEALTH_CHECK_TIMEOUT_MS", 800) / 1000
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS")
LOG_FORMAT = env_str("LOG_FORMAT", "json")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "guarantees.logs.RedactingFilter"}},
    "formatters": {
        "json": {"()": "guarantees.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_FORMAT == "json" else "plain",
                    "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Gunicorn's access log is nginx's job (it has the request id, deploy/nginx); errors stay.
        "gunicorn.error": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}

# The worker keeps these handlers (JSON, redacted) instead of installing its own on the root logger.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
