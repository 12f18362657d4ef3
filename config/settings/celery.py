"""Celery: Redis broker when REDIS_URL is set; otherwise tasks run in-process, eagerly.

Work that must not be lost is acknowledged late and given back to the queue when its worker dies; PostgreSQL
stays the source of truth, and the sweeps below re-drive from it whatever a lost message left undone.

Queues: ``releases`` (applying transit events: short, latency matters), ``bulk`` (discharge files,
reconciliations: long) and ``celery`` (notifications, sweeps, the rest). A worker started without ``-Q``
consumes all three; production runs one worker on ``releases,celery`` and one on ``bulk`` so that a large file
never delays a release (see ``deploy/``).
"""

from celery.schedules import crontab
from kombu import Queue

from config.env import env_bool, env_int, env_str

_redis_url = env_str("REDIS_URL")

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", _redis_url or "memory://")
CELERY_TASK_ALWAYS_EAGER = _redis_url is None and env_str("CELERY_BROKER_URL") is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# A message taken by a worker that died comes back after this many seconds (Redis has no real acks). The
# sweeps do not wait for it: the events it carried are applied from PostgreSQL long before.
# Socket timeouts so that a broker that stops answering without closing the connection (frozen, failed over,
# behind a firewall) fails a publish in seconds instead of hanging the request forever (kombu waits forever by
# default); the worker's BRPOP is watched by kombu's own health checks and is not limited by them.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "socket_connect_timeout": env_int("CELERY_BROKER_CONNECT_TIMEOUT", 1),
    "socket_timeout": env_int("CELERY_BROKER_SOCKET_TIMEOUT", 2),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# On a lost broker connection the tasks in flight cannot be acknowledged any more: stop them, their messages
# come back, and each task is safe to run twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# A request that queues work after its commit must not hang on a broker that is down: two quick tries, then
# the stored row waits for the sweep; after a failure, publishing pauses for REDIS_OUTAGE_RETRY_SECONDS
# (config.celery.RegistryTask).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": env_int("CELERY_PUBLISH_MAX_RETRIES", 2),
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

# Database connections in the worker are kept as in the web (CONN_MAX_AGE, broken ones closed before and after
# each task: guarantees.operations.receivers.task_database_connections). Celery's Django fixup would otherwise
# close them around every task — a new PostgreSQL session per release; with this it closes them only once every
# this many tasks.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)

CELERY_TASK_QUEUES = (Queue("releases"), Queue("celery"), Queue("bulk"))
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "guarantees.tasks.apply_transit_event": {"queue": "releases"},
    "guarantees.tasks.process_discharge_file": {"queue": "bulk"},
    "guarantees.tasks.process_discharge_file_bulk": {"queue": "bulk"},
    "guarantees.tasks.run_reconciliation": {"queue": "bulk"},
    # Reading a report takes seconds at a million transits: beside the files, not in front of the notifications.
    "reporting.tasks.refresh_report": {"queue": "bulk"},
    "reporting.tasks.refresh_report_defaults": {"queue": "bulk"},
}

# --- Sweeps --------------------------------------------------------------------------------------------
# A stored transit event still not applied this many seconds after it was received is applied by the sweep
# (its message was lost, the broker was down when it came, or the workers are behind). Kept short on purpose:
# under load the sweep applies the backlog in batches of hundreds per transaction, while the task of each event
# finds it applied and does nothing; when the workers keep up, the sweep finds nothing to do.
REGISTRY_EVENT_SWEEP_AFTER_SECONDS = env_int("REGISTRY_EVENT_SWEEP_AFTER_SECONDS", 1)
REGISTRY_SWEEP_EVENTS_EVERY_SECONDS = env_int("REGISTRY_SWEEP_EVENTS_EVERY_SECONDS", 1)
# Events the task of one event applies with it, when their own tasks are still queued (transit_events_apply_queued).
REGISTRY_APPLY_EVENTS_TOGETHER = env_int("REGISTRY_APPLY_EVENTS_TOGETHER", 100)
# Rows a sweep locks (skip_locked) and handles per transaction.
REGISTRY_SWEEP_BATCH = env_int("REGISTRY_SWEEP_BATCH", 200)
# Seconds a sweep run may go on taking batches before it leaves the rest to its next run.
REGISTRY_SWEEP_BUDGET_SECONDS = env_int("REGISTRY_SWEEP_BUDGET_SECONDS", 50)
# Expiry alerts: days before the end of validity (each given once per guarantee and end of validity).
REGISTRY_EXPIRY_ALERT_DAYS = tuple(sorted((int(d) for d in env_str("REGISTRY_EXPIRY_ALERT_DAYS", "30,7").split(",")),
                                          reverse=True))
# Notifications not e-mailed this long after they were written are sent by the sweep; older than the horizon,
# they stay in the site only.
REGISTRY_NOTIFICATION_EMAIL_AFTER_SECONDS = env_int("REGISTRY_NOTIFICATION_EMAIL_AFTER_SECONDS", 300)
REGISTRY_NOTIFICATION_EMAIL_HORIZON_SECONDS = env_int("REGISTRY_NOTIFICATION_EMAIL_HORIZON_SECONDS", 2 * 86400)
# A discharge file queued or running this long without finishing is queued again (it resumes where it was).
REGISTRY_DISCHARGE_FILE_STALE_SECONDS = env_int("REGISTRY_DISCHARGE_FILE_STALE_SECONDS", 900)
# Failed tasks are recorded for the secretariat (config.celery); the secretariat is told of the first failure of
# a task in this many seconds, not of every one.
REGISTRY_RECORD_TASK_FAILURES = env_bool("REGISTRY_RECORD_TASK_FAILURES", True)
REGISTRY_TASK_FAILURE_NOTICE_SECONDS = env_int("REGISTRY_TASK_FAILURE_NOTICE_SECONDS", 3600)

_MINUTES = 60


def _every(task: str, seconds: int) -> dict:
    # A sweep message not taken before the next one is due is dropped: after a worker outage, one run of each
    # sweep catches up, not one per missed tick.
    return {"task": task, "schedule": seconds, "options": {"expires": max(seconds, 10)}}


CELERY_BEAT_SCHEDULE: dict = {
    "sweep-transit-events": _every("guarantees.tasks.sweep_transit_events", REGISTRY_SWEEP_EVENTS_EVERY_SECONDS),
    "sweep-overdue-transits": _every("guarantees.tasks.sweep_overdue_transits", 10 * _MINUTES),
    "sweep-expired-guarantees": _every("guarantees.tasks.sweep_expired_guarantees", 60 * _MINUTES),
    "sweep-low-balances": _every("guarantees.tasks.sweep_low_balances", 10 * _MINUTES),
    "sweep-expiry-alerts": _every("guarantees.tasks.sweep_expiry_alerts", 60 * _MINUTES),
    "sweep-release-digest": _every("guarantees.tasks.sweep_release_digest", 60 * _MINUTES),
    "sweep-notification-emails": _every("guarantees.tasks.sweep_notification_emails", 5 * _MINUTES),
    "sweep-discharge-files": _every("guarantees.tasks.sweep_discharge_files", 5 * _MINUTES),
    # The signed status list of offline verification (also refreshed after every change it shows).
    "refresh-status-list": _every("guarantees.tasks.refresh_status_list", 60 * _MINUTES),
    # Lists of open transits are compared as they arrive; this catches any left waiting, once a day.
    # Once a day, after the night's releases: a forecast is a daily figure, and each alert is given once.
    "sweep-headroom-forecasts": {"task": "guarantees.tasks.sweep_headroom_forecasts",
                                 "schedule": crontab(hour=6, minute=30)},
    "reconciliation-daily": {"task": "guarantees.tasks.reconcile_pending", "schedule": crontab(hour=5, minute=0)},
}

# --- Report snapshots (reporting.snapshots) ---------------------------------------------------------------
# A report page shows its snapshot as it is while younger than this; older, it is still shown (with its "as of")
# while a task reads it afresh.
REPORT_SNAPSHOT_FRESH_SECONDS = env_int("REPORT_SNAPSHOT_FRESH_SECONDS", 10 * _MINUTES)
# A snapshot nobody reads is dropped after this long.
REPORT_SNAPSHOT_KEEP_SECONDS = env_int("REPORT_SNAPSHOT_KEEP_SECONDS", 24 * 60 * _MINUTES)
# The pages as they open of banks, customs and the secretariat are read afresh this often by beat.
REPORT_SNAPSHOT_REFRESH_SECONDS = env_int("REPORT_SNAPSHOT_REFRESH_SECONDS", 10 * _MINUTES)
CELERY_BEAT_SCHEDULE["refresh-report-defaults"] = _every("reporting.tasks.refresh_report_defaults",
                                                         REPORT_SNAPSHOT_REFRESH_SECONDS)
