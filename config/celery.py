"""The Celery app. Tasks live in each app's ``tasks`` module; the broker is Redis (``REDIS_URL``).

Without ``REDIS_URL`` (the embedded default), tasks run in-process and eagerly, so the site works with
no server but itself.

Publishing: ``RegistryTask`` (every task's base) leaves a broker that just failed alone for a few seconds
(``config.cache.Outage``): a queued message is only ever a hint, PostgreSQL has the row and the sweeps re-drive it,
so a request that queues work after its commit pays for a dead or frozen broker once per process and pause, not
every time, and the log says so once rather than once per request.

Signal hooks: a task that fails for good (its retries spent) is recorded as a ``TaskFailure`` for the
secretariat, who may retry it; a retry that succeeds marks its failure resolved. Eager tasks are not recorded:
their error reaches the caller, who sees it at once.
"""

import logging
import os

from celery import Celery, Task
from celery.signals import task_failure, task_success
from kombu.exceptions import OperationalError

from config.cache import outage_for, redacted

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")


class BrokerUnavailable(OperationalError):
    """Not even tried: the broker failed moments ago (see ``RegistryTask``)."""


class RegistryTask(Task):
    def apply_async(self, *args, **kwargs):
        app = self._get_app()
        if app.conf.task_always_eager:
            return super().apply_async(*args, **kwargs)
        outage = outage_for(f"Celery broker {redacted(str(app.conf.broker_url))}")
        if not outage.usable():
            raise BrokerUnavailable(f"{self.name} not queued: the broker is unreachable; the sweeps will re-drive it")
        try:
            result = super().apply_async(*args, **kwargs)
        except (OperationalError, OSError) as exc:
            outage.failed(exc)
            raise
        outage.recovered()
        return result


app = Celery("caution_unique", task_cls=RegistryTask)
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
