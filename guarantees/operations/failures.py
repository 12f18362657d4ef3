"""Background work that failed for good: recorded for the secretariat, who retries it or closes it.

A task whose retries are spent is kept as a ``TaskFailure`` (``guarantees.operations.receivers`` listens to
Celery's failure signal) with its arguments, error and trace, and the secretariat is told of the first failure of
a task in a while. Retrying queues the task again after the commit under an id of its own; its success marks the
failure resolved. A discharge file whose task fails for good ends ``failed``, saying so, rather than queued for the
sweep to queue again forever.
"""

import datetime
import json

from celery import current_app
from celery import uuid as celery_uuid
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.roles import OrganisationKind
from guarantees.errors import InvalidTransition, NotAllowed
from guarantees.models import DischargeFile, JobStatus, NoticeAbout, TaskFailure
from guarantees.services.notifications import notice_send

# Task ids of the secretariat's retries start with this, so success is checked against failures only for them.
RETRY_PREFIX = "retry-"


def discharge_file_fail(*, job_id: int, exception: BaseException) -> bool:
    """A discharge file whose task failed for good (an unexpected error, or its retries spent) ends ``failed``,
    saying so, instead of staying queued or running for the sweep to queue again and again. The lines already
    received stay received; a retry of the task (the secretariat's failed tasks page) takes the file again, those
    lines counting as already received. Returns whether the job was marked."""
    error = f"{type(exception).__name__}: {exception}"[:500]
    detail = gettext("The file could not be processed (%(error)s). The registry's secretariat is told and may "
                     "retry it.") % {"error": error}
    return bool(
        DischargeFile.objects.filter(pk=job_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(
            status=JobStatus.FAILED, finished_at=timezone.now(),
            errors=[{"line": 0, "code": "processing_failed", "detail": detail}],
        )
    )


def reconciliation_fail(*, run_id: int, exception: BaseException) -> bool:
    """A reconciliation whose comparison failed for good ends ``failed`` with the reason, instead of "received, to
    compare" for ever (its page stops refreshing and says so). Returns whether the run was marked."""
    from guarantees.models import ReconciliationRun, ReconciliationStatus

    # The technical cause only (no sentence in a language): the page words the failure in its reader's language.
    error = f"{type(exception).__name__}: {exception}"[:500]
    return bool(
        ReconciliationRun.objects.filter(pk=run_id, status=ReconciliationStatus.RECEIVED).update(
            status=ReconciliationStatus.FAILED, error=error, finished_at=timezone.now(),
        )
    )


def _json_safe(value):
    return json.loads(json.dumps(value, default=str))


def task_failure_record(*, task_name: str, task_id: str, args=None, kwargs=None, exception=None,
                        traceback: str = "") -> TaskFailure:
    """Keep a task that failed for good; tell the secretariat of the first failure of that task in
    ``REGISTRY_TASK_FAILURE_NOTICE_SECONDS`` (not of each one of a burst)."""
    from accounts.models import Organisation

    now = timezone.now()
    with transaction.atomic():
        recent = TaskFailure.objects.filter(
            task_name=task_name, resolved=False,
            created_at__gte=now - datetime.timedelta(seconds=settings.REGISTRY_TASK_FAILURE_NOTICE_SECONDS),
        ).exists()
        failure = TaskFailure.objects.create(
            task_id=task_id[:64], task_name=task_name[:200], args=_json_safe(list(args or [])),
            kwargs=_json_safe(dict(kwargs or {})), exception=type(exception).__name__[:200] if exception else "",
            error=str(exception or "")[:5000], traceback=traceback[-20000:],
        )
        # The e-mail task itself is not announced by e-mail: its failure shows on the page.
        if not recent and task_name != "guarantees.tasks.send_notification_emails":
            for organisation in Organisation.objects.filter(kind=OrganisationKind.SECRETARIAT, is_active=True):
                notice_send(event="task_failed", organisation=organisation, permission="task.retry",
                            about=(NoticeAbout.TASK_FAILURE, failure.pk),
                            params={"task": task_name, "error": failure.exception or "?"})
    return failure


def task_failure_retry(*, failure, by) -> TaskFailure:
    """Queue the failed task again with its arguments, after the commit; its success marks it resolved."""
    if not by.can("task.retry"):
        raise NotAllowed()
    with transaction.atomic():
        locked = TaskFailure.objects.select_for_update().get(pk=failure.pk)
        if locked.resolved:
            raise InvalidTransition(_("This failure is resolved already."))
        task = current_app.tasks.get(locked.task_name)
        if task is None:
            raise InvalidTransition(_("This task does not exist any more."))
        task_id = f"{RETRY_PREFIX}{locked.pk}-{celery_uuid()}"
        locked.retried_at = timezone.now()
        locked.retried_by = by
        locked.retries += 1
        locked.retry_task_id = task_id
        locked.save(update_fields=["retried_at", "retried_by", "retries", "retry_task_id"])
        args, kwargs = list(locked.args or []), dict(locked.kwargs or {})
        transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs, task_id=task_id), robust=True)
    return locked


def task_failure_retried_ok(*, retry_task_id: str) -> int:

    return TaskFailure.objects.filter(retry_task_id=retry_task_id, resolved=False).update(
        resolved=True, resolved_at=timezone.now()
    )


def task_failure_resolve(*, failure, by) -> TaskFailure:
    """The secretariat closes a failure without retrying it (dealt with otherwise)."""
    if not by.can("task.retry"):
        raise NotAllowed()
    with transaction.atomic():
        locked = TaskFailure.objects.select_for_update().get(pk=failure.pk)
        if not locked.resolved:
            locked.resolved = True
            locked.resolved_at = timezone.now()
            locked.save(update_fields=["resolved", "resolved_at"])
    return locked
