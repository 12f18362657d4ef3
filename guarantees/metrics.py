"""Prometheus metrics of the registry (prometheus-client), served at ``/metrics`` (``guarantees.web.probes``).

Two kinds:

- counted where things happen, in the process where they happen: HTTP requests by view and status and their
  duration, ledger entries by kind (holds, releases...) counted when their transaction commits, the release lag
  (discharge stored → hold released), sweep runs and what they applied, failed tasks, certificate render time;
- read when Prometheus scrapes (``RegistryCollector``): stored transit events not applied yet and the age of the
  oldest, Celery queue depths (LLEN on the broker), failed tasks not resolved. These are the state of the
  database and the broker, the same whichever process answers.

Several processes (gunicorn's workers, Celery's prefork pool): with ``PROMETHEUS_MULTIPROC_DIR`` set in the
environment of every process before it starts (deploy/), each process writes its samples to files there and
``/metrics`` adds them up (prometheus-client's multiprocess mode); gunicorn's ``child_exit`` and Celery's
``worker_process_shutdown`` mark dead processes' files (deploy/gunicorn.conf.py, ``operations.receivers``).
Without it (``make run``, tests), one process's registry.

Labels are bounded: a view's URL name (never the path), an HTTP status, an entry kind, a task or sweep name.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter as _Tally
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
if MULTIPROCESS:
    # Files named by host and pid, not pid alone: containers sharing the directory (compose.yaml) each have a pid 1.
    import socket

    from prometheus_client import values

    values.ValueClass = values.MultiProcessValue(lambda: f"{socket.gethostname()}-{os.getpid()}")

REQUESTS = Counter("caution_http_requests_total", "HTTP requests answered, by view (URL name) and status.",
                   ["view", "method", "status"])
REQUEST_SECONDS = Histogram(
    "caution_http_request_duration_seconds", "Time to answer an HTTP request, by view.", ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LEDGER_ENTRIES = Counter("caution_ledger_entries_total",
                         "Ledger entries committed, by kind (hold, release, partial_release, claim...).", ["kind"])
RELEASE_LAG = Histogram(
    "caution_release_lag_seconds", "From a discharge (or cancellation) stored to its hold released.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900),
)
SWEEP_RUNS = Counter("caution_sweep_runs_total", "Sweep runs finished, by sweep.", ["sweep"])
SWEEP_ITEMS = Counter("caution_sweep_items_total", "Rows a sweep handled (events applied, transits marked...).",
                      ["sweep"])
TASK_FAILURES = Counter("caution_task_failures_total", "Celery tasks that failed for good, by task.", ["task"])
CERTIFICATE_RENDER = Histogram(
    "caution_certificate_render_seconds", "Rendering and signing one certificate (one language).",
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
)


def ledger_entries_committed(kinds) -> None:
    """Count ledger entries (an iterable of kinds) once their transaction commits (never if it rolls back)."""
    from django.db import transaction

    tally = _Tally(str(kind) for kind in kinds)
    if tally:
        transaction.on_commit(lambda: [LEDGER_ENTRIES.labels(kind).inc(n) for kind, n in tally.items()])


def release_lags_committed(seconds: list[float]) -> None:
    from django.db import transaction

    if seconds:
        transaction.on_commit(lambda: [RELEASE_LAG.observe(max(0.0, s)) for s in seconds])


@contextmanager
def certificate_render_timed():
    start = time.perf_counter()
    yield
    CERTIFICATE_RENDER.observe(time.perf_counter() - start)


class RegistryCollector:
    """Read at scrape time: the database's and the broker's state. Each part fails alone (a broker down shows no
    queue depths, and ``caution_scrape_errors`` says which part failed)."""

    def collect(self):
        errors = GaugeMetricFamily("caution_scrape_errors", "Parts of /metrics that could not be read.",
                                   labels=["part"])
        try:
            yield from self._events()
            errors.add_metric(["database"], 0)
        except Exception:  # noqa: BLE001
            logger.warning("metrics: the database part could not be read", exc_info=True)
            errors.add_metric(["database"], 1)
        try:
            yield from self._queues()
            errors.add_metric(["broker"], 0)
        except Exception:  # noqa: BLE001
            logger.warning("metrics: the broker part could not be read", exc_info=True)
            errors.add_metric(["broker"], 1)
        yield errors

    @staticmethod
    def _events():
        from django.db.models import Count, Min
        from django.utils import timezone

        from guarantees.models import EventStatus, TaskFailure, TransitEvent

        pending = TransitEvent.objects.filter(status=EventStatus.RECEIVED).aggregate(n=Count("pk"),
                                                                                   oldest=Min("received_at"))
        waiting = TransitEvent.objects.filter(status=EventStatus.WAITING).count()
        events = GaugeMetricFamily("caution_transit_events_pending",
                                   "Stored transit events not applied yet (received: to apply; waiting: for their "
                                   "declaration).", labels=["status"])
        events.add_metric(["received"], pending["n"])
        events.add_metric(["waiting"], waiting)
        yield events
        age = (timezone.now() - pending["oldest"]).total_seconds() if pending["oldest"] else 0.0
        yield GaugeMetricFamily("caution_transit_events_pending_oldest_seconds",
                                "Age of the oldest stored event still to apply (0: none).", value=age)
        yield GaugeMetricFamily("caution_task_failures_unresolved", "Failed tasks not resolved on the failed tasks "
                                "page.", value=TaskFailure.objects.filter(resolved=False).count())

    @staticmethod
    def _queues():
        import redis
        from django.conf import settings

        broker = getattr(settings, "CELERY_BROKER_URL", "") or ""
        if not broker.startswith(("redis://", "rediss://", "unix://")):
            return
        depth = GaugeMetricFamily("caution_celery_queue_length", "Messages waiting in each Celery queue.",
                                  labels=["queue"])
        client = redis.Redis.from_url(broker, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            for queue in settings.CELERY_TASK_QUEUES:
                # kombu's Redis transport keeps a queue as a list (priorities 0 and others as name\x06\x16N).
                length = client.llen(queue.name)
                for priority in (3, 6, 9):
                    length += client.llen(f"{queue.name}\x06\x16{priority}")
                depth.add_metric([queue.name], length)
            unacked = client.hlen("unacked")
        finally:
            client.close()
        yield depth
        yield GaugeMetricFamily("caution_celery_unacked", "Messages taken by a worker and not acknowledged yet.",
                                value=unacked)


def exposition() -> tuple[bytes, str]:
    """The text Prometheus reads: every process's counters (multiprocess mode) or this one's, and the state."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY
    from prometheus_client import multiprocess

    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in list(REGISTRY._collector_to_names):  # this process's metrics, without the defaults twice
            registry.register(collector)
    registry.register(RegistryCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


def process_dead(pid: int) -> None:
    """A process of the pool ended: its live gauges go (counters stay summed, as prometheus-client does)."""
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
