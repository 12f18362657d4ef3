"""Notifications to the people who must act next: an in-app notice each, and an e-mail.

``notify`` (about a guarantee) and ``notice_send`` (about anything: a transit, an enquiry, a claim, a
reconciliation, a failed task) write one ``Notification`` row per recipient *in the caller's transaction* and
queue the e-mails for after the commit. So a rolled-back decision tells nobody, a committed one is never lost
with a broker message (``guarantees.operations.emails`` sweeps what is still unsent), and a task run twice
e-mails nobody twice (each row is e-mailed once, under a row lock).

A row stores the event, its language-neutral values and what it is about — never a sentence or a link: the
sentence is worded when it is read, in the reader's language (``guarantees.messages``), and the page that shows
it builds the link (``guarantees.links``). A service knows nothing of pages.
"""

import uuid
from collections import defaultdict

from django.utils import timezone

from guarantees.messages import MESSAGES, message_values_json
from guarantees.models import NoticeAbout, Notification
from guarantees.queue import queue_after_commit


def notify(*, event: str, guarantee, organisation, permission: str | None = None, exclude=None,
           reason: str = "") -> None:
    """Tell the members of ``organisation`` (holding ``permission``) about ``guarantee``: an in-app notification
    each, written in this transaction, and an e-mail sent after the commit."""
    notice_send(event=event, organisation=organisation, guarantee=guarantee, permission=permission,
                exclude=exclude, reason=reason or guarantee.status_reason)


def notice_send(*, event: str, organisation, guarantee=None, transit=None, about: tuple[str, object] | None = None,
                permission: str | None = None, exclude=None, reason: str = "", params: dict | None = None) -> int:
    """Write one notification per member of ``organisation`` (holding ``permission``) and queue the e-mails for
    after the commit. ``about`` is ``(kind, reference)`` of what the notice points at (``NoticeAbout``; by
    default the transit, else the guarantee); ``params`` adds values to the message (amounts as whole francs,
    dates and moments as ``date``/``datetime``). Returns how many notifications were written."""
    if event not in MESSAGES:
        raise ValueError(f"Unknown notification event {event!r}")
    recipients = _recipients(organisation, permission, exclude.pk if exclude is not None else None)
    if not recipients:
        return 0
    kind, ref = about or _default_about(guarantee, transit)
    values = {key: message_values_json(value)
              for key, value in _values(guarantee=guarantee, transit=transit, reason=reason, params=params or {}).items()}
    notice = uuid.uuid4()
    Notification.objects.bulk_create(
        Notification(recipient=user, notice=notice, event=event, guarantee=guarantee, transit=transit,
                     params=values, about=kind, about_ref=str(ref or ""))
        for user in recipients
    )
    # A broker or mail server down must not undo a committed decision: the sweep sends what is left.
    queue_after_commit("guarantees.tasks.send_notification_emails", notice=str(notice))
    return len(recipients)


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


def _default_about(guarantee, transit) -> tuple[str, object]:
    if transit is not None:
        return NoticeAbout.TRANSIT, transit.declaration_ref
    if guarantee is not None:
        return NoticeAbout.GUARANTEE, guarantee.pk
    return "", ""


def _values(*, guarantee, transit, reason: str, params: dict) -> dict:
    """The language-neutral values of a message (names, amounts, dates); the sentence around them is worded for
    each reader when read."""
    values = {"principal": "", "bank": "", "amount": None, "grn": "", "valid_until": None, "reason": reason or "—"}
    if guarantee is not None:
        values.update({
            "principal": guarantee.principal.display_name,
            "bank": guarantee.bank.organisation.display_name,
            "amount": guarantee.amount or guarantee.requested_amount,
            "grn": guarantee.grn or "",
            "valid_until": guarantee.valid_until,
        })
    if transit is not None:
        values["transit"] = transit.declaration_ref
    values.update(params)
    return values


def notification_mark_read(*, notification, user) -> bool:
    """Mark one of ``user``'s notifications read; reading it again changes nothing."""
    return bool(Notification.objects.filter(pk=notification.pk, recipient=user, read_at__isnull=True)
                .update(read_at=timezone.now()))


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
