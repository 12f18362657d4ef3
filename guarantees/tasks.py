"""Celery tasks of the registry: thin. Each takes ids, calls one service or sweep, and is safe to run twice.

Work that must not be lost is acknowledged late (``acks_late``) and retried on transient errors; PostgreSQL is the
source of truth, so a lost message costs only time: the sweeps re-drive whatever it left undone. Services queue
these tasks by name after their commit (``guarantees.queue``) and never import this module.
"""

import logging

from celery import shared_task
from celery.exceptions import Ignore, Reject, Retry
from django.conf import settings
from django.db import InterfaceError, OperationalError

from guarantees.operations import emails, exports, failures, reconciliation, sweeps
from guarantees.queue import RegistryTask
from guarantees.services.certificates import certificates_issue_for_version
from guarantees.services.checkpoints import ledger_checkpoint_create
from guarantees.services.claims import claims_flag_overdue
from guarantees.services.discharge_bulk import discharge_file_process_bulk, transit_events_apply_queued
from guarantees.services.statements import statement_issue_by_id, statements_issue_for_month
from guarantees.services.status_list import status_list_refresh
from guarantees.services.transits import discharge_file_process

logger = logging.getLogger(__name__)

# Errors worth retrying: the broker, the network, the database restarting.
TRANSIENT = (ConnectionError, OSError, OperationalError, InterfaceError)


class _MarksFailure(RegistryTask):
    """A task whose row must say when it failed for good: ``mark(row_id, exc)`` runs around the body (eager tasks
    included, where Celery's ``on_failure`` is never called). A retry being scheduled is no failure (autoretry
    raises ``Retry`` until its retries are spent); nor is a worker killed mid-task (its message comes back)."""

    row_argument = "job_id"

    @staticmethod
    def mark(row_id: int, exc: BaseException) -> None:
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except (Retry, Ignore, Reject):
            raise
        except Exception as exc:
            row_id = args[0] if args else kwargs.get(self.row_argument)
            try:
                self.mark(int(row_id), exc)
            except Exception:  # noqa: BLE001 - marking must never hide the original failure
                logger.exception("could not mark %s %s failed", self.name, row_id)
            raise


class ReconciliationTask(_MarksFailure):
    """A comparison that fails for good leaves its run ``failed`` with the reason."""

    row_argument = "run_id"

    @staticmethod
    def mark(row_id: int, exc: BaseException) -> None:
        failures.reconciliation_fail(run_id=row_id, exception=exc)


class DischargeFileTask(RegistryTask):
    """A discharge file's task that fails for good (an unexpected error, or its retries spent) leaves the file
    ``failed`` with the reason, visible to its sender, rather than queued for the sweep to queue again forever.
    Marked around the body (``__call__``), so that it holds with eager tasks too, where Celery's ``on_failure``
    is never called. A retry being scheduled is no failure; nor is a worker killed mid-file (its message comes
    back and the file resumes)."""

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except (Retry, Ignore, Reject):
            raise
        except Exception as exc:
            job_id = args[0] if args else kwargs.get("job_id")
            try:
                failures.discharge_file_fail(job_id=int(job_id), exception=exc)
            except Exception:  # noqa: BLE001 - marking must never hide the original failure
                logger.exception("could not mark discharge file %s failed", job_id)
            raise


class ExportTask(RegistryTask):
    """An export whose run fails (for good: transient errors are retried first) ends ``failed`` with a reason its
    owner reads, and is recorded with the failed tasks for the secretariat — here rather than through Celery's
    failure signal, so that it holds with eager tasks too, and only once."""

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except (Retry, Ignore, Reject):
            raise
        except Exception as exc:
            import traceback

            job_id = int(args[0] if args else kwargs.get("job_id"))
            try:
                exports.export_job_fail(job_id=job_id, exception=exc)
                failures.task_failure_record(
                    task_name=self.name, task_id=getattr(self.request, "id", None) or "", args=[job_id], kwargs={},
                    exception=exc, traceback=traceback.format_exc(),
                )
            except Exception:  # noqa: BLE001 - marking must never hide the original failure
                logger.exception("could not mark export %s failed", job_id)
                raise exc from None
            return "failed"


# --- Work queued by a decision ---------------------------------------------------------------------------------

@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=10)
def apply_transit_event(event_id: int):
    """Apply one stored transit event (a release, most often) after the commit that stored it, with the events
    whose tasks are queued behind it (``transit_events_apply_queued``: a worker keeps up with the API)."""
    return transit_events_apply_queued(event_id=int(event_id), limit=settings.REGISTRY_APPLY_EVENTS_TOGETHER)


@shared_task(base=DischargeFileTask, acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def process_discharge_file(job_id: int):
    """A discharge file line by line (the path the batched one is measured against)."""
    job = discharge_file_process(job_id=job_id)
    return job.status if job is not None else None


@shared_task(base=DischargeFileTask, acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def process_discharge_file_bulk(job_id: int):
    """A discharge file in batches of thousands of lines per transaction; resumes after its last chunk."""
    job = discharge_file_process_bulk(job_id=job_id)
    return job.status if job is not None else None


@shared_task(base=ExportTask, acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def run_export(job_id: int):
    """Write one export job's file (a list too large to stream in its request)."""
    job = exports.export_job_run(job_id=job_id)
    return job.status if job is not None else None


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def issue_statement(*, guarantee_id: int, month: str):
    """Render and sign one guarantee's statement of one month (``YYYY-MM-01``) in each configured language; a
    second run finds them stored."""
    return [s.pk for s in statement_issue_by_id(guarantee_id=guarantee_id, month=month)]


@shared_task(acks_late=True)
def statements_previous_month():
    """On the 1st (Celery beat): queue the statements of the month that just ended."""
    return statements_issue_for_month()


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def refresh_status_list():
    """Sign and publish the offline status list as of now (hourly, and after every change it shows)."""
    return status_list_refresh().pk


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def render_certificates(*, guarantee_id: int, number: int):
    """Render and sign the certificates of one version (each configured language). A second run finds them
    stored and does nothing."""
    return [c.pk for c in certificates_issue_for_version(guarantee_id=guarantee_id, number=number)]


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=8)
def send_notification_emails(*, notice: str):
    """E-mail the notifications of one notice (written with the decision that caused them); each once."""
    return emails.notification_emails_send(notice=notice)


@shared_task(base=ReconciliationTask, acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def run_reconciliation(run_id: int):
    """Compare one customs administration's list of open transits with the holds open here."""
    run = reconciliation.reconciliation_run(run_id=run_id)
    return run.status if run is not None else None


# --- Sweeps (Celery beat, config.settings.celery) ------------------------------------------------------------
# Each takes its rows with skip_locked, so two runs side by side, or a message delivered twice, do the work once.

@shared_task(acks_late=True)
def sweep_transit_events():
    """Apply the stored transit events no task applied (lost message, broker down, worker killed)."""
    return sweeps.transit_events_sweep()


@shared_task(acks_late=True)
def sweep_overdue_transits():
    return sweeps.transits_mark_overdue()


@shared_task(acks_late=True)
def sweep_expired_guarantees():
    return sweeps.guarantees_expire_due()


@shared_task(acks_late=True)
def sweep_low_balances():
    return list(sweeps.low_balance_alerts_sweep())


@shared_task(acks_late=True)
def sweep_headroom_forecasts():
    return list(sweeps.headroom_alerts_sweep())


@shared_task(acks_late=True)
def sweep_expiry_alerts():
    return sweeps.expiry_alerts_sweep()


@shared_task(acks_late=True)
def sweep_release_digest():
    return sweeps.release_digest_sweep()


@shared_task(acks_late=True)
def sweep_notification_emails():
    return sweeps.notification_emails_sweep()


@shared_task(acks_late=True)
def sweep_discharge_files():
    return sweeps.discharge_files_sweep()


@shared_task(acks_late=True)
def sweep_export_files():
    """Remove the export files past their keeping time."""
    return exports.export_files_sweep()


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def flag_overdue_claims():
    """Flag claims the guarantor left unanswered past their examination deadline (once each), telling the
    claiming customs and the secretariat."""
    return claims_flag_overdue()


@shared_task(acks_late=True)
def reconcile_pending():
    """The daily job: compare the lists of open transits still waiting."""
    return reconciliation.reconcile_pending()


@shared_task(acks_late=True)
def ledger_checkpoint():
    """Sign the chain heads of every guarantee (hourly). A chain that no longer extends the last checkpoint is not
    signed over: the task fails, which records the failure and tells the secretariat."""
    checkpoint = ledger_checkpoint_create()
    return checkpoint.pk if checkpoint is not None else None
