"""Notifications: written with the decision, in each recipient's language, e-mailed once; and failed tasks
recorded, shown and retried."""

import pytest
from django.core import mail
from django.utils import translation

from guarantees.operations.receivers import record_task_failure
from guarantees.errors import InvalidTransition
from guarantees.models import Notification, TaskFailure
from guarantees.services.guarantees import guarantee_suspend
from guarantees.links import notification_path
from guarantees.operations.emails import notification_emails_send
from guarantees.services.notifications import notice_send, notification_mark_read, notifications_mark_all_read
from guarantees.operations.failures import task_failure_record, task_failure_resolve, task_failure_retry

pytestmark = pytest.mark.django_db


def test_a_notice_is_worded_in_the_readers_language_and_emailed_in_the_recipients(
        world, django_capture_on_commit_callbacks):
    s = world.s
    s.agent.language = "en"
    s.agent.save(update_fields=["language"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        guarantee_suspend(guarantee=world.guarantee, by=s.supervisor, reason="Contrôle en cours")
    mine = Notification.objects.get(recipient=s.agent, event="guarantee_suspended")
    # Stored as values, worded when read: the same row reads in English, then in French.
    assert mine.params["grn"] == world.guarantee.grn and not mine.stored_subject
    with translation.override("en"):
        assert mine.subject.startswith("Guarantee") and "Contrôle en cours" in mine.body
    with translation.override("fr"):
        assert mine.subject.startswith("Caution")
    assert notification_path(mine) == f"/guarantees/{world.guarantee.pk}/" and mine.emailed_at is not None
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {n.recipient.email for n in Notification.objects.filter(event="guarantee_suspended")}
    # Each e-mail in its recipient's language, with the address of the guarantee's page at the end.
    assert by_address[s.agent.email].subject.startswith("Guarantee")
    assert by_address[s.maker.email].subject.startswith("Caution")
    assert by_address[s.agent.email].body.rstrip().endswith(f"/guarantees/{world.guarantee.pk}/")


def test_a_decision_rolled_back_tells_nobody(world):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        notice_send(event="guarantee_expiring", organisation=world.s.forwarder, guarantee=world.guarantee)
        raise RuntimeError
    assert not Notification.objects.filter(event="guarantee_expiring").exists()


def test_each_notification_is_emailed_once_however_often_its_task_runs(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        notice_send(event="guarantee_expiring", organisation=world.s.bank.organisation, guarantee=world.guarantee)
    notice = Notification.objects.filter(event="guarantee_expiring").first().notice
    mail.outbox.clear()
    assert notification_emails_send(notice=str(notice)) == 2  # the maker and the checker
    assert notification_emails_send(notice=str(notice)) == 0
    assert len(mail.outbox) == 2


def test_only_members_holding_the_permission_are_told(world):
    notice_send(event="reconciliation_done", organisation=world.burkina, permission="guarantee.suspend",
                about=("reconciliation", 1), params={
                    "country": "BF", "customs": "x", "as_of": "x", "differences": "0", "closed_there": "0",
                    "unknown_here": "0", "closed_here": "0", "amount_differs": "0"})
    assert {n.recipient for n in Notification.objects.filter(event="reconciliation_done")} == {world.s.supervisor}


def test_reading_marks_only_ones_own(world):
    notice_send(event="guarantee_expiring", organisation=world.s.forwarder, guarantee=world.guarantee)
    mine = Notification.objects.get(recipient=world.s.agent, event="guarantee_expiring")
    assert notification_mark_read(notification=mine, user=world.s.maker) is False
    assert notification_mark_read(notification=mine, user=world.s.agent) is True
    assert notification_mark_read(notification=mine, user=world.s.agent) is False
    assert notifications_mark_all_read(user=world.s.agent) >= 0
    assert not Notification.objects.filter(recipient=world.s.agent, read_at__isnull=True).exists()


# --- Failed tasks -----------------------------------------------------------------------------------------

class _Sender:
    name = "guarantees.tasks.sweep_transit_events"

    class request:  # noqa: N801 - the shape of a Celery task's request
        is_eager = False


def test_a_failure_is_recorded_and_the_secretariat_told_once_per_burst(world):
    for n in range(3):
        record_task_failure(sender=_Sender, task_id=f"t-{n}", exception=ValueError("boom"), args=[1],
                            kwargs={"x": object()}, einfo="Traceback...")
    assert TaskFailure.objects.count() == 3
    failure = TaskFailure.objects.first()
    assert failure.exception == "ValueError" and failure.error == "boom" and failure.args == [1]
    assert isinstance(failure.kwargs["x"], str)
    assert Notification.objects.filter(event="task_failed", recipient=world.secretariat).count() == 1


def test_an_eager_failure_is_not_recorded(world):
    class Eager(_Sender):
        class request:  # noqa: N801
            is_eager = True

    record_task_failure(sender=Eager, task_id="e", exception=ValueError("x"))
    assert not TaskFailure.objects.exists()


def test_a_retried_task_that_succeeds_resolves_its_failure(world, django_capture_on_commit_callbacks):
    failure = task_failure_record(task_name="guarantees.tasks.sweep_transit_events", task_id="t-1",
                                  exception=RuntimeError("db down"))
    with pytest.raises(Exception):  # noqa: B017 - only the secretariat retries
        task_failure_retry(failure=failure, by=world.s.agent)
    with django_capture_on_commit_callbacks(execute=True):  # runs eagerly here: it succeeds
        task_failure_retry(failure=failure, by=world.secretariat)
    failure.refresh_from_db()
    assert failure.retries == 1 and failure.retry_task_id.startswith("retry-") and failure.resolved
    with pytest.raises(InvalidTransition):
        task_failure_retry(failure=failure, by=world.secretariat)


def test_a_failure_can_be_closed_without_retrying(world):
    failure = task_failure_record(task_name="guarantees.tasks.run_reconciliation", task_id="t-2", args=[9])
    task_failure_resolve(failure=failure, by=world.secretariat)
    failure.refresh_from_db()
    assert failure.resolved and failure.retries == 0
