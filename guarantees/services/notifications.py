"""Notifications to the people who must act next, in each recipient's language: an in-app notification and
an e-mail.

``notify`` (about a guarantee) and ``notice_send`` (about anything: a transit, a reconciliation, a failed
task) write one ``Notification`` row per recipient *in the caller's transaction*, already worded in the
recipient's language, and queue the e-mails for after the commit. So a rolled-back decision tells nobody, a
committed one is never lost with a broker message (``notification_emails_send`` sweeps what is still unsent),
and a task run twice e-mails nobody twice (each row is e-mailed once, under a row lock).
"""

import datetime
import uuid
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from guarantees.formats import format_fcfa

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
    "guarantee_sent_back": (
        _("Guarantee sent back to the maker: %(principal)s"),
        _("A checker sent the preparation of the guarantee of %(amount)s for %(principal)s back to the makers. "
          "Reason: %(reason)s. A maker should prepare it again: %(url)s"),
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
    "amendment_sent_back": (
        _("Amendment sent back to the maker: %(grn)s"),
        _("A checker sent the preparation of an amendment of the guarantee %(grn)s back to the makers. Reason: "
          "%(reason)s. A maker should prepare it again: %(url)s"),
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


# Enquiries, manual releases and claims (guarantees.services.enquiries, .claims). ``%(reason)s`` carries the
# transit or claim reference and the date that matters; ``%(url)s`` is the enquiry, release or claim page.
MESSAGES.update({
    "enquiry_opened": (
        _("Enquiry on a transit under guarantee %(grn)s"),
        _("Customs opened an enquiry on a transit drawing on the guarantee %(grn)s of %(principal)s, which was "
          "not discharged in time or shows an irregularity. This is the notice of non-discharge to the guarantor. "
          "The principal must answer (proof of discharge or duties paid) by the date given: %(reason)s. %(url)s"),
    ),
    "enquiry_answered": (
        _("Enquiry answered by %(principal)s"),
        _("%(principal)s answered the enquiry on a transit under the guarantee %(grn)s: %(reason)s. %(url)s"),
    ),
    "enquiry_closed_by_discharge": (
        _("Enquiry closed: transit discharged (guarantee %(grn)s)"),
        _("The customs system reported the discharge (or the cancellation) of a transit under enquiry, drawing on "
          "the guarantee %(grn)s: the enquiry is closed and nothing can be claimed on it: %(reason)s. %(url)s"),
    ),
    "release_proposed": (
        _("Manual release to approve (guarantee %(grn)s)"),
        _("An officer of your administration proposes to release a transit under the guarantee %(grn)s. A "
          "supervisor must approve or refuse it: %(reason)s. %(url)s"),
    ),
    "release_approved": (
        _("Transit released by customs (guarantee %(grn)s)"),
        _("Customs released manually a transit under the guarantee %(grn)s; its hold is given back: %(reason)s. %(url)s"),
    ),
    "release_refused": (
        _("Manual release refused (guarantee %(grn)s)"),
        _("The proposed manual release of a transit under the guarantee %(grn)s was refused: %(reason)s. %(url)s"),
    ),
    "claim_issued": (
        _("Claim under the guarantee %(grn)s"),
        _("Customs claim under the guarantee %(grn)s of %(principal)s (guarantor %(bank)s). The bank must pay "
          "or reject, listing every discrepancy, by the date given: %(reason)s. %(url)s"),
    ),
    "claim_prepared": (
        _("Answer to a claim to decide (guarantee %(grn)s)"),
        _("A maker prepared the answer to a claim under the guarantee %(grn)s. A checker must decide: %(reason)s. %(url)s"),
    ),
    "claim_paid": (
        _("Claim paid by %(bank)s (guarantee %(grn)s)"),
        _("%(bank)s paid a claim under the guarantee %(grn)s of %(principal)s: %(reason)s. %(url)s"),
    ),
    "claim_rejected": (
        _("Claim rejected by %(bank)s (guarantee %(grn)s)"),
        _("%(bank)s rejected a claim under the guarantee %(grn)s. Customs may reissue or withdraw it: %(reason)s. %(url)s"),
    ),
    "claim_withdrawn": (
        _("Claim withdrawn (guarantee %(grn)s)"),
        _("Customs withdrew a claim under the guarantee %(grn)s; what it held is released: %(reason)s. %(url)s"),
    ),
    "claim_overdue": (
        _("Claim unanswered by its deadline (guarantee %(grn)s)"),
        _("%(bank)s did not answer a claim under the guarantee %(grn)s by the end of its examination period: "
          "%(reason)s. %(url)s"),
    ),
})


# Background work (guarantees.services.sweeps, .reconciliation, config.celery). Values beyond the common ones
# (principal, bank, amount, grn, reason, url, valid_until) are given by the caller, already formatted.
MESSAGES.update({
    "transit_overdue": (
        _("Transit %(transit)s not discharged in time (guarantee %(grn)s)"),
        _("The transit %(transit)s of %(principal)s under the guarantee %(grn)s (guarantor %(bank)s) was not "
          "discharged by its time limit, %(deadline)s. %(held)s stays held until it is discharged or the guarantee "
          "is invoked: %(url)s"),
    ),
    "low_balance": (
        _("Low balance on the guarantee %(grn)s"),
        _("The available balance of the guarantee %(grn)s of %(principal)s is %(available)s, at or below the "
          "alert threshold of %(threshold)s%% of its reference amount (%(amount)s). New transits may be refused "
          "for want of balance: %(url)s"),
    ),
    "guarantee_expiring": (
        _("The guarantee %(grn)s expires on %(valid_until)s"),
        _("The guarantee %(grn)s of %(principal)s (guarantor %(bank)s) is valid until %(valid_until)s. After that "
          "date no new transit can draw on it; ask the bank for an extension if it is still needed: %(url)s"),
    ),
    "holds_released": (
        _("Holds released on the guarantee %(grn)s"),
        _("Transits discharged or cancelled since %(since)s gave back %(released)s on the guarantee %(grn)s "
          "(releases in full or in part: %(count)s). Available now: %(available)s. %(url)s"),
    ),
    "reconciliation_done": (
        _("Reconciliation of open transits (%(country)s): %(differences)s difference(s)"),
        _("The list of open transits sent by %(customs)s as of %(as_of)s was compared with the holds open in the "
          "registry. Held here but closed there: %(closed_there)s. Open there but unknown here: %(unknown_here)s. "
          "Open there but closed here: %(closed_here)s. Amounts that differ: %(amount_differs)s. Report and CSV: "
          "%(url)s"),
    ),
    "access_code_failures": (
        _("Repeated wrong access codes on the guarantee %(grn)s"),
        _("%(failures)s wrong access codes were tried on the guarantee %(grn)s of %(principal)s within %(minutes)s "
          "minutes, by: %(callers)s. Each caller is slowed down on this guarantee; nobody else is. If a code may "
          "have been disclosed, revoke it and issue a new one: %(url)s"),
    ),
    "task_failed": (
        _("Background task failed: %(task)s"),
        _("The background task %(task)s failed after its retries (%(error)s). The error and its trace are on the "
          "failed tasks page, where it can be retried: %(url)s"),
    ),
})


def notify(*, event: str, guarantee, organisation, permission: str | None = None, exclude=None,
           reason: str = "") -> None:
    """Tell the members of ``organisation`` (holding ``permission``) about ``guarantee``: an in-app notification
    each, written in this transaction, and an e-mail sent after the commit."""
    if event not in MESSAGES:
        raise ValueError(f"Unknown notification event {event!r}")
    notice_send(event=event, organisation=organisation, guarantee=guarantee, permission=permission,
                exclude=exclude, reason=reason or guarantee.status_reason)


def notice_send(*, event: str, organisation, guarantee=None, transit=None, permission: str | None = None,
                exclude=None, reason: str = "", path: str = "", params: dict | None = None) -> int:
    """Write one notification per member of ``organisation`` (holding ``permission``), worded in their own
    language, and queue the e-mails for after the commit. ``path`` is the page the message points to (by
    default the transit's, else the guarantee's); ``params`` adds values to the message. Returns how many."""
    from guarantees.models import Notification
    from guarantees.tasks import send_notification_emails

    if event not in MESSAGES:
        raise ValueError(f"Unknown notification event {event!r}")
    recipients = _recipients(organisation, permission, exclude.pk if exclude is not None else None)
    if not recipients:
        return 0
    path = path or _default_path(guarantee, transit)
    values = _values(guarantee=guarantee, transit=transit, reason=reason, path=path, params=params or {})
    subject_tpl, body_tpl = MESSAGES[event]
    notice = uuid.uuid4()
    rows = []
    for user in recipients:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            rows.append(Notification(
                recipient=user, notice=notice, event=event, guarantee=guarantee, transit=transit, url=path,
                subject=(str(subject_tpl) % values)[:255], body=str(body_tpl) % values,
            ))
    Notification.objects.bulk_create(rows)
    transaction.on_commit(
        lambda: send_notification_emails.delay(notice=str(notice)),
        robust=True,  # a broker or mail server down must not undo a committed decision; the sweep sends later
    )
    return len(rows)


def _recipients(organisation, permission: str | None, exclude_id: int | None) -> list:
    from accounts.models import Membership, User
    from accounts.roles import permissions_for

    roles: dict[int, set[str]] = defaultdict(set)
    memberships = Membership.objects.filter(
        organisation=organisation, organisation__is_active=True, user__is_active=True
    ).values_list("user_id", "role")
    for user_id, role in memberships:
        roles[user_id].add(role)
    ids = [
        user_id for user_id, held in roles.items()
        if user_id != exclude_id and (not permission or permission in permissions_for(held))
    ]
    return list(User.objects.filter(pk__in=ids).order_by("pk")) if ids else []


def _default_path(guarantee, transit) -> str:
    from django.urls import reverse

    if transit is not None:
        return reverse("guarantees:transit_detail", args=[transit.declaration_ref])
    if guarantee is not None:
        return reverse("guarantees:detail", args=[guarantee.pk])
    return reverse("guarantees:notifications")


def _values(*, guarantee, transit, reason: str, path: str, params: dict) -> dict:
    """The language-neutral values of a message (names, amounts, dates); the sentence around them is
    translated per recipient."""
    values = {
        "principal": "", "bank": "", "amount": "", "grn": "", "valid_until": "",
        "reason": reason or "—",
        "url": settings.REGISTRY_PUBLIC_URL.rstrip("/") + path,
    }
    if guarantee is not None:
        values.update({
            "principal": guarantee.principal.display_name,
            "bank": guarantee.bank.organisation.display_name,
            "amount": format_fcfa(guarantee.amount or guarantee.requested_amount),
            "grn": guarantee.grn or "",
            "valid_until": guarantee.valid_until.isoformat(),
        })
    if transit is not None:
        values["transit"] = transit.declaration_ref
    values.update(params)
    return values


def notification_emails_send(*, notice: str | None = None, older_than_seconds: int | None = None,
                             limit: int = 500) -> int:
    """E-mail the notifications not e-mailed yet: those of one ``notice`` (the task queued after the commit),
    or any older than ``older_than_seconds`` (the sweep, for a lost message or a mail server that was down).
    Each row is locked while it is sent and marked sent in the same transaction, so two runs side by side
    never send one twice. Returns how many were sent."""
    from guarantees.models import Notification

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
            send_mail(row.subject, row.body, settings.DEFAULT_FROM_EMAIL, [row.recipient.email], fail_silently=False)
            row.emailed_at = timezone.now()
            row.save(update_fields=["emailed_at"])
            sent += 1
    return sent


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


def notification_mark_read(*, notification, user) -> bool:
    """Mark one of ``user``'s notifications read; reading it again changes nothing."""
    from guarantees.models import Notification

    return bool(Notification.objects.filter(pk=notification.pk, recipient=user, read_at__isnull=True)
                .update(read_at=timezone.now()))


def notifications_mark_all_read(*, user) -> int:
    from guarantees.models import Notification

    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
