"""The Celery app. Tasks live in each app's ``tasks`` module; the broker is Redis (``REDIS_URL``).

Without ``REDIS_URL`` (the embedded default), tasks run in-process and eagerly, so the site works with
no server but itself.

Signal hooks: a task that fails for good (its retries spent) is recorded as a ``TaskFailure`` for the
secretariat, who may retry it; a retry that succeeds marks its failure resolved. Eager tasks are not recorded:
their error reaches the caller, who sees it at once.
"""

import logging
import os

from celery import Celery
from celery.signals import task_failure, task_success

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("caution_unique")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)

# Task ids of the secretariat's retries start with this, so success is checked against failures only for them.
RETRY_PREFIX = "retry-"


@task_failure.connect
def record_task_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **_):
    from django.conf import settings

    if sender is None or not getattr(settings, "REGISTRY_RECORD_TASK_FAILURES", False):
        return
    if getattr(sender.request, "is_eager", False):
        return
    try:
        from guarantees.services.sweeps import task_failure_record

        task_failure_record(task_name=sender.name, task_id=task_id or "", args=args, kwargs=kwargs,
                            exception=exception, traceback=str(einfo or ""))
    except Exception:  # noqa: BLE001 - recording must never hide the original failure
        logger.exception("could not record the failure of task %s (%s)", getattr(sender, "name", "?"), task_id)


@task_success.connect
def resolve_retried_failure(sender=None, **_):
    task_id = getattr(getattr(sender, "request", None), "id", None) or ""
    if not task_id.startswith(RETRY_PREFIX):
        return
    try:
        from guarantees.services.sweeps import task_failure_retried_ok

        task_failure_retried_ok(retry_task_id=task_id)
    except Exception:  # noqa: BLE001
        logger.exception("could not mark the retry %s resolved", task_id)
