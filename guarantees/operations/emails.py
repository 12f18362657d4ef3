"""The e-mail of each notification, sent once, worded in its recipient's language.

Notifications are written with the decision that causes them (``guarantees.services.notifications``); this
sends them by e-mail: the task queued after the commit sends those of one notice, the sweep those whose task was
lost or whose mail server was down. Each row is locked while it is sent and marked sent in the same transaction,
so two runs side by side never send one twice. The message is worded here, in the recipient's language, with the
address of what it is about at the end.
"""

import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from guarantees.links import absolute, notification_path
from guarantees.models import Notification


def notification_email(notification: Notification) -> tuple[str, str]:
    """``(subject, body)`` of a notification's e-mail, in its recipient's language."""
    with translation.override(notification.recipient.language or settings.LANGUAGE_CODE):
        subject, body = notification.subject, notification.body
        link = absolute(notification_path(notification))
        if link and notification.params is not None:
            label = gettext("Open it in the registry:")
            body = f"{body}\n\n{label} {link}"
    return subject, body


def notification_emails_send(*, notice: str | None = None, older_than_seconds: int | None = None,
                             limit: int = 500) -> int:
    """E-mail the notifications not e-mailed yet: those of one ``notice`` (the task queued after the commit),
    or any older than ``older_than_seconds`` (the sweep). Returns how many were sent."""
    pending = Notification.objects.filter(emailed_at__isnull=True)
    if notice is not None:
        pending = pending.filter(notice=notice)
    if older_than_seconds is not None:
        now = timezone.now()
        horizon = settings.REGISTRY_NOTIFICATION_EMAIL_HORIZON_SECONDS
        pending = pending.filter(
            created_at__lt=now - datetime.timedelta(seconds=older_than_seconds),
            created_at__gte=now - datetime.timedelta(seconds=horizon),
        )
    sent = 0
    for pk in list(pending.order_by("pk").values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            row = (
                Notification.objects.select_for_update(skip_locked=True, of=("self",)).select_related("recipient")
                .filter(pk=pk, emailed_at__isnull=True).first()
            )
            if row is None:
                continue  # sent meanwhile, or being sent by another run
            subject, body = notification_email(row)
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [row.recipient.email], fail_silently=False)
            row.emailed_at = timezone.now()
            row.save(update_fields=["emailed_at"])
            sent += 1
    return sent
