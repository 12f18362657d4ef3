"""Background work queued by the services, after their commit, by task name.

A service that decides something (a discharge received, a version created, a file stored) writes its rows and
asks for the follow-up work here: ``queue_after_commit("guarantees.tasks.apply_transit_event", pk)``. The task is
looked up by name in the Celery app's registry when the transaction commits, so services never import the tasks
module (tasks call services, not the other way round) and a rolled-back decision queues nothing.

A queued message is only ever a hint: PostgreSQL holds the row and the sweeps re-drive whatever a lost message
left undone. So publishing never fails the request that committed: a broker that is down (``BrokerUnavailable``
and kombu's errors, see ``guarantees.cache``) costs a warning; a task that fails when run in-process (the embedded
default runs tasks eagerly) is logged with its trace, and its work is retried by the sweeps or from the failed
tasks page.
"""

import logging
import traceback
from functools import partial

from django.dispatch import Signal

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as _KombuOperationalError

logger = logging.getLogger(__name__)

# Sent when a task run in-process (the embedded default runs tasks eagerly) fails after its commit:
# ``task_name, args, kwargs, exception, traceback``.
task_failed_in_process = Signal()


def queue_after_commit(task_name: str, *args, **kwargs) -> None:
    """Run the task ``task_name`` with these arguments once the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(_publish, task_name, args, kwargs))


def _publish(task_name: str, args: tuple, kwargs: dict) -> None:
    from celery import current_app

    try:
        current_app.tasks[task_name].apply_async(args=args, kwargs=kwargs)
    except (_KombuOperationalError, OSError) as exc:
        logger.warning("%s not queued (%s): the sweeps will re-drive it", task_name, exc)
    except Exception as exc:  # noqa: BLE001 - an eager task's own failure must not undo what committed
        logger.exception("%s failed when run in-process", task_name)
        # Nobody else sees it (the request that queued it has answered): kept under the failed tasks, as a
        # worker's failure is (guarantees.operations.receivers).
        try:
            task_failed_in_process.send(sender=None, task_name=task_name, args=args, kwargs=kwargs, exception=exc,
                                        traceback=traceback.format_exc())
        except Exception:  # noqa: BLE001 - recording must never hide the original failure
            logger.exception("could not record the failure of %s", task_name)


# --- Publishing while the broker is down -------------------------------------------------------------------

class BrokerUnavailable(_KombuOperationalError):
    """Not even tried: the broker failed moments ago (see ``RegistryTask``)."""


class RegistryTask(Task):
    """Every task's base (``config.celery``): carries the request id of whoever queues it in the message's headers
    (``guarantees.logs``); leaves a broker that just failed alone for a few seconds
    (``guarantees.cache.Outage``), so a request that queues work after its commit pays for a dead or frozen broker
    once per process and pause, not every time, and the log says so once rather than once per request."""

    def apply_async(self, *args, **kwargs):
        from guarantees.cache import outage_for, redacted

        from guarantees.logs import request_id

        rid = request_id()
        if rid:
            # The request (or task) that queues this one: its id follows into the task's log lines.
            kwargs["headers"] = {"request_id": rid, **(kwargs.get("headers") or {})}
        app = self._get_app()
        if app.conf.task_always_eager:
            return super().apply_async(*args, **kwargs)
        outage = outage_for(f"Celery broker {redacted(str(app.conf.broker_url))}")
        if not outage.usable():
            raise BrokerUnavailable(f"{self.name} not queued: the broker is unreachable; the sweeps will re-drive it")
        try:
            result = super().apply_async(*args, **kwargs)
        except (_KombuOperationalError, OSError) as exc:
            outage.failed(exc)
            raise
        outage.recovered()
        return result
