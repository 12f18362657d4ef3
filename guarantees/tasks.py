"""Celery tasks of the registry. Each takes ids, loads rows, calls one service and is safe to run twice."""

import logging

from celery import shared_task
from celery.exceptions import Ignore, Reject, Retry

from config.celery import RegistryTask
from guarantees.models import Guarantee

logger = logging.getLogger(__name__)


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
                from guarantees.services.sweeps import discharge_file_fail

                discharge_file_fail(job_id=int(job_id), exception=exc)
            except Exception:  # noqa: BLE001 - marking must never hide the original failure
                logger.exception("could not mark discharge file %s failed", job_id)
            raise


@shared_task(bind=True, acks_late=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5)
def send_guarantee_notification(self, *, event, guarantee_id, organisation_id, permission=None, exclude_id=None,
                                reason=""):
    from accounts.models import Organisation
    from guarantees.services.notifications import notification_send

    guarantee = Guarantee.objects.select_related("principal", "bank__organisation").filter(pk=guarantee_id).first()
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if guarantee is None or organisation is None:
        return 0
    return notification_send(event=event, guarantee=guarantee, organisation=organisation, permission=permission,
                             exclude_id=exclude_id, reason=reason)


@shared_task(acks_late=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=10)
def apply_transit_event(event_id: int):
    from guarantees.services.events import transit_event_apply

    event = transit_event_apply(event_id=event_id)
    return event.status if event is not None else None


@shared_task(base=DischargeFileTask, acks_late=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True,
             max_retries=5)
def process_discharge_file(job_id: int):
    from guarantees.services.transits import discharge_file_process

    job = discharge_file_process(job_id=job_id)
    return job.status if job is not None else None


@shared_task(acks_late=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5)
def render_certificates(*, guarantee_id: int, number: int):
    """Render and sign the certificates of one version (each configured language). A second run finds them
    stored and does nothing."""
    from guarantees.services.certificates import certificates_issue_for_version

    issued = certificates_issue_for_version(guarantee_id=guarantee_id, number=number)
    return [c.pk for c in issued]


@shared_task(acks_late=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5)
def flag_overdue_claims():
    """The periodic sweep: flag claims the guarantor left unanswered past their examination deadline (once
    each), telling the claiming customs and the secretariat. Safe to run twice and side by side."""
    from guarantees.services.claims import claims_flag_overdue

    return claims_flag_overdue()


# --- Background work: notifications, sweeps, bulk files, reconciliation (guarantees.services.sweeps, ...) ----
# The sweeps run on Celery beat (config.settings.celery); each takes its rows with skip_locked, so two runs side
# by side, or a message delivered twice, do the work once.

from django.db import InterfaceError as _DbInterfaceError  # noqa: E402
from django.db import OperationalError as _DbOperationalError  # noqa: E402

_TRANSIENT = (ConnectionError, OSError, _DbOperationalError, _DbInterfaceError)


@shared_task(acks_late=True, autoretry_for=_TRANSIENT, retry_backoff=True, max_retries=8)
def send_notification_emails(*, notice: str):
    """E-mail the notifications of one notice (written with the decision that caused them); each once."""
    from guarantees.services.notifications import notification_emails_send

    return notification_emails_send(notice=notice)


@shared_task(acks_late=True)
def sweep_transit_events():
    """Apply the stored transit events no task applied (lost message, broker down, worker killed)."""
    from guarantees.services.sweeps import transit_events_sweep

    return transit_events_sweep()


@shared_task(acks_late=True)
def sweep_overdue_transits():
    from guarantees.services.sweeps import transits_mark_overdue

    return transits_mark_overdue()


@shared_task(acks_late=True)
def sweep_expired_guarantees():
    from guarantees.services.sweeps import guarantees_expire_due

    return guarantees_expire_due()


@shared_task(acks_late=True)
def sweep_low_balances():
    from guarantees.services.sweeps import low_balance_alerts_sweep

    return list(low_balance_alerts_sweep())


@shared_task(acks_late=True)
def sweep_expiry_alerts():
    from guarantees.services.sweeps import expiry_alerts_sweep

    return expiry_alerts_sweep()


@shared_task(acks_late=True)
def sweep_release_digest():
    from guarantees.services.sweeps import release_digest_sweep

    return release_digest_sweep()


@shared_task(acks_late=True)
def sweep_notification_emails():
    from guarantees.services.sweeps import notification_emails_sweep

    return notification_emails_sweep()


@shared_task(acks_late=True)
def sweep_discharge_files():
    from guarantees.services.sweeps import discharge_files_sweep

    return discharge_files_sweep()


@shared_task(base=DischargeFileTask, acks_late=True, autoretry_for=_TRANSIENT, retry_backoff=True, max_retries=5)
def process_discharge_file_bulk(job_id: int):
    """A discharge file in batches of thousands of lines per transaction; resumes after its last chunk."""
    from guarantees.services.discharge_bulk import discharge_file_process_bulk

    job = discharge_file_process_bulk(job_id=job_id)
    return job.status if job is not None else None


@shared_task(acks_late=True, autoretry_for=_TRANSIENT, retry_backoff=True, max_retries=5)
def run_reconciliation(run_id: int):
    """Compare one customs administration's list of open transits with the holds open here."""
    from guarantees.services.reconciliation import reconciliation_run

    run = reconciliation_run(run_id=run_id)
    return run.status if run is not None else None


@shared_task(acks_late=True)
def reconcile_pending():
    """The daily job: compare the lists of open transits still waiting."""
    from guarantees.services.reconciliation import reconcile_pending as compare_waiting

    return compare_waiting()


@shared_task(acks_late=True)
def ledger_checkpoint():
    """Sign the chain heads of every guarantee (beat, hourly). A chain that no longer extends the last checkpoint
    is not signed over: the task fails, which records the failure and tells the secretariat."""
    from guarantees.services.checkpoints import ledger_checkpoint_create

    checkpoint = ledger_checkpoint_create()
    return checkpoint.pk if checkpoint is not None else None
