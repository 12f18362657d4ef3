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
