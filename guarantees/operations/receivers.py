"""What the registry does when Celery says a task failed for good or a retry succeeded (connected in
``GuaranteesConfig.ready``): the failure is kept for the secretariat (``failures``), and a successful retry marks
it resolved. An eager task called directly is not recorded (its error reaches its caller); one queued after a commit and run
in-process is (``guarantees.queue``: nobody else would see it)."""

import logging
import uuid

from celery.signals import task_failure, task_postrun, task_prerun, task_success, worker_process_shutdown
from django.conf import settings

from guarantees import logs, metrics

logger = logging.getLogger(__name__)


def record_task_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **_):
    from guarantees.operations.failures import task_failure_record

    if sender is not None:
        metrics.TASK_FAILURES.labels(sender.name).inc()
    if sender is None or not getattr(settings, "REGISTRY_RECORD_TASK_FAILURES", False):
        return
    if getattr(sender.request, "is_eager", False):
        return
    try:
        task_failure_record(task_name=sender.name, task_id=task_id or "", args=args, kwargs=kwargs,
                            exception=exception, traceback=str(einfo or ""))
    except Exception:  # noqa: BLE001 - recording must never hide the original failure
        logger.exception("could not record the failure of task %s (%s)", getattr(sender, "name", "?"), task_id)


def record_in_process_failure(sender=None, task_name="", args=(), kwargs=None, exception=None, traceback="", **_):
    """A task run in-process after a commit (eager: the embedded default) that failed: nobody saw its error (the
    request had answered), so it is kept under the failed tasks like a worker's."""
    from guarantees.operations.failures import task_failure_record

    if not getattr(settings, "REGISTRY_RECORD_TASK_FAILURES", False):
        return
    task_failure_record(task_name=task_name, task_id=f"in-process-{uuid.uuid4()}", args=args, kwargs=kwargs,
                        exception=exception, traceback=traceback)


def resolve_retried_failure(sender=None, **_):
    from guarantees.operations.failures import RETRY_PREFIX, task_failure_retried_ok

    task_id = getattr(getattr(sender, "request", None), "id", None) or ""
    if not task_id.startswith(RETRY_PREFIX):
        return
    try:
        task_failure_retried_ok(retry_task_id=task_id)
    except Exception:  # noqa: BLE001
        logger.exception("could not mark the retry %s resolved", task_id)


_SWEEP_PREFIX = "guarantees.tasks.sweep_"


def task_request_id_set(sender=None, task=None, **_):
    """The request id of the request that queued the task (its message's header), for the task's log lines; a
    task queued by beat or by another task without one gets its own."""
    request = getattr(task, "request", None)
    value = getattr(request, "request_id", None) or (getattr(request, "headers", None) or {}).get("request_id")
    if request is not None and not getattr(request, "is_eager", False):
        logs.request_id_set(logs.request_id_accept(value) or logs.request_id_new())


def task_counted(sender=None, task=None, retval=None, state=None, **_):
    name = getattr(task, "name", "") or ""
    if name.startswith(_SWEEP_PREFIX) and state == "SUCCESS":
        sweep = name[len(_SWEEP_PREFIX):]
        metrics.SWEEP_RUNS.labels(sweep).inc()
        if isinstance(retval, int):
            metrics.SWEEP_ITEMS.labels(sweep).inc(retval)
        elif isinstance(retval, list | tuple):
            metrics.SWEEP_ITEMS.labels(sweep).inc(len(retval))
    request = getattr(task, "request", None)
    if request is not None and not getattr(request, "is_eager", False):
        logs.request_id_set(None)


def task_database_connections(sender=None, task=None, **_):
    """Before and after every task in a worker, what Django does around every request: close the connections
    that are broken or older than ``CONN_MAX_AGE``, keep the others. Celery's own handling (its Django fixup)
    closes every connection before and after every task unless ``CELERY_DB_REUSE_MAX`` is set; at one release task
    per discharge, that was a new PostgreSQL session per release (a server process forked, its caches filled, the
    hot statements prepared again: about half of the database's CPU in the soak). ``CELERY_DB_REUSE_MAX`` (settings)
    now leaves them to this. Not for a task run eagerly, inside a request whose transaction it must not close."""
    request = getattr(task, "request", None)
    if request is not None and not getattr(request, "is_eager", False):
        from django.db import close_old_connections

        close_old_connections()


def pool_process_ended(pid=None, **_):
    import os

    metrics.process_dead(pid or os.getpid())


def connect() -> None:
    task_failure.connect(record_task_failure, dispatch_uid="guarantees.record_task_failure", weak=False)
    from guarantees.queue import task_failed_in_process

    task_failed_in_process.connect(record_in_process_failure, dispatch_uid="guarantees.record_in_process_failure",
                                   weak=False)
    task_success.connect(resolve_retried_failure, dispatch_uid="guarantees.resolve_retried_failure", weak=False)
    task_prerun.connect(task_request_id_set, dispatch_uid="guarantees.task_request_id", weak=False)
    task_postrun.connect(task_counted, dispatch_uid="guarantees.task_counted", weak=False)
    task_prerun.connect(task_database_connections, dispatch_uid="guarantees.task_db_prerun", weak=False)
    task_postrun.connect(task_database_connections, dispatch_uid="guarantees.task_db_postrun", weak=False)
    worker_process_shutdown.connect(pool_process_ended, dispatch_uid="guarantees.pool_process_ended", weak=False)
