"""E-mail to the people who must act next, in each recipient's language, sent after the commit.

``notify`` only queues: the message is built and sent by a Celery task once the transaction that caused it
has committed, so a rolled-back decision never e-mails anybody.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "guarantee_submitted": (
        _("Guarantee request to review: %(principal)s"),
        _("%(principal)s asks your bank for a guarantee of %(amount)s. A maker should prepare it: %(url)s"),
    ),
    "guarantee_withdrawn": (
        _("Guarantee request withdrawn: %(principal)s"),
        _("%(principal)s withdrew its request for a guarantee of %(amount)s."),
    ),
    "guarantee_prepared": (
        _("Guarantee to confirm: %(principal)s"),
        _("A maker prepared the guarantee of %(amount)s for %(principal)s. A checker should confirm or decline "
          "it: %(url)s"),
    ),
    "guarantee_confirmed": (
        _("Your guarantee was confirmed by %(bank)s"),
        _("%(bank)s confirmed your guarantee of %(amount)s. It will be active once customs accept it: %(url)s"),
    ),
    "guarantee_declined": (
        _("Your guarantee request was declined by %(bank)s"),
        _("%(bank)s declined your request for a guarantee of %(amount)s. Reason: %(reason)s"),
    ),
    "guarantee_to_accept": (
        _("Guarantee to accept: %(principal)s"),
        _("%(bank)s confirmed a guarantee of %(amount)s for %(principal)s. Customs acceptance is awaited: %(url)s"),
    ),
    "guarantee_active": (
        _("Guarantee %(grn)s is active"),
        _("The guarantee %(grn)s of %(principal)s (%(amount)s, guarantor %(bank)s) is active: %(url)s"),
    ),
    "guarantee_suspended": (
        _("Guarantee %(grn)s suspended"),
        _("Customs suspended the guarantee %(grn)s. Reason: %(reason)s"),
    ),
    "guarantee_reactivated": (
        _("Guarantee %(grn)s reactivated"),
        _("Customs reactivated the guarantee %(grn)s. Reason: %(reason)s"),
    ),
    "guarantee_cancelled": (
        _("Guarantee %(grn)s cancelled"),
        _("The guarantee %(grn)s was cancelled. Reason: %(reason)s. Existing holds stay until released."),
    ),
    "guarantee_expired": (
        _("Guarantee %(grn)s expired"),
        _("The guarantee %(grn)s reached the end of its validity. No new transit can draw on it."),
    ),
    "amendment_requested": (
        _("Amendment to review: %(grn)s"),
        _("%(principal)s asks to amend the guarantee %(grn)s. A maker should prepare it: %(url)s"),
    ),
    "amendment_prepared": (
        _("Amendment to confirm: %(grn)s"),
        _("A maker prepared an amendment of the guarantee %(grn)s. A checker should confirm or decline it: %(url)s"),
    ),
    "amendment_confirmed": (
        _("Amendment of %(grn)s confirmed"),
        _("The amendment of the guarantee %(grn)s was confirmed: reference amount %(amount)s, valid until "
          "%(valid_until)s."),
    ),
    "amendment_declined": (
        _("Amendment of %(grn)s declined"),
        _("The bank declined the amendment of the guarantee %(grn)s. Reason: %(reason)s"),
    ),
}


def notify(*, event: str, guarantee, organisation, permission: str | None = None, exclude=None,
           reason: str = "") -> None:
    """Queue an e-mail about ``guarantee`` to the members of ``organisation`` (holding ``permission``)."""
    if event not in MESSAGES:
        raise ValueError(f"Unknown notification event {event!r}")
    from guarantees.tasks import send_guarantee_notification

    transaction.on_commit(
        lambda: send_guarantee_notification.delay(
            event=event, guarantee_id=guarantee.pk, organisation_id=organisation.pk, permission=permission,
            exclude_id=exclude.pk if exclude is not None else None, reason=reason or guarantee.status_reason,
        ),
        robust=True,  # a failing mail server must not turn a committed decision into an error page
    )


def format_fcfa(amount: int) -> str:
    return f"{amount:,}".replace(",", "\u00a0") + "\u00a0FCFA"


def notification_send(*, event: str, guarantee, organisation, permission: str | None, exclude_id: int | None,
                      reason: str = "") -> int:
    """Build and send the e-mails; returns how many were sent."""
    from accounts.models import User
    from django.urls import reverse

    recipients = (
        User.objects.filter(is_active=True, memberships__organisation=organisation).exclude(pk=exclude_id).distinct()
    )
    subject_tpl, body_tpl = MESSAGES[event]
    url = settings.REGISTRY_PUBLIC_URL.rstrip("/") + reverse("guarantees:detail", args=[guarantee.pk])
    sent = 0
    for user in recipients:
        if permission and not user.can(permission):
            continue
        with translation.override(user.language or settings.LANGUAGE_CODE):
            values = {
                "principal": guarantee.principal.display_name,
                "bank": guarantee.bank.organisation.display_name,
                "amount": format_fcfa(guarantee.amount or guarantee.requested_amount),
                "grn": guarantee.grn or "",
                "reason": reason or "—",
                "url": url,
                "valid_until": guarantee.valid_until.isoformat(),
            }
            subject = str(subject_tpl) % values
            body = str(body_tpl) % values
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], fail_silently=False)
        sent += 1
    return sent
