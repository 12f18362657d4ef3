"""Work queued by name after the commit: found from any thread (a request served by a thread of its own, as
runserver and the browser tests' live server do), and never failing the request that committed."""

import logging
import threading

import pytest

from guarantees.queue import queue_after_commit
from tests.builders import transits_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    """The lean world of the background work (``tests.builders.transits_world``)."""
    return transits_world()


def test_a_task_queued_from_another_thread_runs(world, django_capture_on_commit_callbacks):
    from guarantees.models import Notification
    from guarantees.services.notifications import notice_send

    notice_send(event="guarantee_expiring", organisation=world.s.forwarder, guarantee=world.guarantee)
    notice = str(Notification.objects.filter(event="guarantee_expiring").first().notice)
    errors = []

    def publish():
        try:
            from celery import current_app

            current_app.tasks["guarantees.tasks.send_notification_emails"]  # registered, whatever the thread
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=publish)
    thread.start()
    thread.join()
    assert errors == []
    with django_capture_on_commit_callbacks(execute=True):
        queue_after_commit("guarantees.tasks.send_notification_emails", notice=notice)  # eager: runs on commit
    assert not Notification.objects.filter(notice=notice, emailed_at__isnull=True).exists()


def test_an_unknown_task_is_logged_not_raised(caplog, django_capture_on_commit_callbacks):
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        queue_after_commit("guarantees.tasks.no_such_task")
    assert "guarantees.tasks.no_such_task failed when run in-process" in caplog.text
