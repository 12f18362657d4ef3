"""What the registry does when Celery says a task failed for good or a retry succeeded (connected in
``GuaranteesConfig.ready``): the failure is kept for the secretariat (``failures``), and a successful retry marks
it resolved. Eager tasks are not recorded: their error reaches the caller, who sees it at once."""

import logging

from celery.signals import task_failure, task_success
from django.conf import settings

logger = logging.getLogger(__name__)


def record_task_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **_):
    from guarantees.operations.failures import task_failure_record

    if sender is None or not getattr(settings, "REGISTRY_RECORD_TASK_FAILURES", False):
        return
    if getattr(sender.request, "is_eager", False):
        return
    try:
        task_failure_record(task_name=sender.name, task_id=task_id or "", args=args, kwargs=kwargs,
                            exception=exception, traceback=str(einfo or ""))
    except Exception:  # noqa: BLE001 - recording must never hide the original failure
        logger.exception("could not record the failure of task %s (%s)", getattr(sender, "name", "?"), task_id)


def resolve_retried_failure(sender=None, **_):
    from guarantees.operations.failures import RETRY_PREFIX, task_failure_retried_ok

    task_id = getattr(getattr(sender, "request", None), "id", None) or ""
    if not task_id.startswith(RETRY_PREFIX):
        return
    try:
        task_failure_retried_ok(retry_task_id=task_id)
    except Exception:  # noqa: BLE001
        logger.exception("could not mark the retry %s resolved", task_id)


def connect() -> None:
    task_failure.connect(record_task_failure, dispatch_uid="guarantees.record_task_failure", weak=False)
    task_success.connect(resolve_retried_failure, dispatch_uid="guarantees.resolve_retried_failure", weak=False)
