"""Celery tasks of the registry. Each takes ids, loads rows, calls one service and is safe to run twice."""

from celery import shared_task

from guarantees.models import Guarantee


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
    from guarantees.services.transits import transit_event_apply

    event = transit_event_apply(event_id=event_id)
    return event.status if event is not None else None


@shared_task(acks_late=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5)
def process_discharge_file(job_id: int):
    from guarantees.services.transits import discharge_file_process

    job = discharge_file_process(job_id=job_id)
    return job.status if job is not None else None
