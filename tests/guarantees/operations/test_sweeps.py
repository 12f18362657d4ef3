"""The periodic sweeps, called directly (tasks run eagerly here): each does its work once, tells the right
people, and leaves rows another transaction holds for its next run."""

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from guarantees.models import (
    AlertKind,
    DischargeFile,
    EventStatus,
    GuaranteeAlert,
    GuaranteeStatus,
    JobStatus,
    Notification,
    TransitEvent,
    TransitStatus,
)
from guarantees.services.ledger import ledger_verify
from guarantees.operations.sweeps import (
    discharge_files_sweep,
    expiry_alerts_sweep,
    guarantees_expire_due,
    low_balance_alerts_sweep,
    release_digest_sweep,
    transit_events_sweep,
    transits_mark_overdue,
)
from guarantees.services.events import transit_event_apply, transit_event_receive
from tests.builders import declare, event, transits_world

pytestmark = pytest.mark.django_db


def _later(seconds: int = 120):
    return timezone.now() + datetime.timedelta(seconds=seconds)


# --- Stored events --------------------------------------------------------------------------------------

def test_an_event_whose_message_was_lost_is_applied_by_the_sweep_once(world, django_capture_on_commit_callbacks):
    transit = declare(world, "LOST-1")
    with django_capture_on_commit_callbacks(execute=False) as queued:  # the broker message is lost
        ev, _ = transit_event_receive(sender=world.burkina, data=event("LOST-1", "M-LOST-1"))
    assert queued and ev.status == EventStatus.RECEIVED

    assert transit_events_sweep(older_than_seconds=60) == 0  # too recent: its task may still come
    assert transit_events_sweep(now=_later()) == 1
    assert transit_events_sweep(now=_later()) == 0  # nothing left to do
    transit_event_apply(event_id=ev.pk)  # the lost message turns up after all: a no-op

    ev.refresh_from_db()
    transit.refresh_from_db()
    world.guarantee.refresh_from_db()
    assert (ev.status, ev.attempts) == (EventStatus.APPLIED, 1)
    assert transit.status == TransitStatus.DISCHARGED and world.guarantee.held == 0
    assert ledger_verify() == []


def test_a_waiting_event_whose_declaration_came_meanwhile_is_attached_and_applied(world):
    ev, _ = transit_event_receive(sender=world.burkina, data=event("LATE-DECL", "M-LATE"))
    assert ev.status == EventStatus.WAITING
    declare(world, "LATE-DECL")
    # As if the declaration had committed while the event was being stored (neither saw the other).
    TransitEvent.objects.filter(pk=ev.pk).update(status=EventStatus.WAITING, transit=None)

    assert transit_events_sweep(now=_later()) == 1
    ev.refresh_from_db()
    assert ev.status == EventStatus.APPLIED and ev.transit.status == TransitStatus.DISCHARGED


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_the_sweep_skips_an_event_a_worker_is_applying(monkeypatch):
    from guarantees.tasks import apply_transit_event

    world = transits_world()
    declare(world, "BUSY-1")
    declare(world, "BUSY-2")
    monkeypatch.setattr(apply_transit_event, "apply_async", lambda *args, **kwargs: None)  # messages lost
    events = [transit_event_receive(sender=world.burkina, data=event(ref, f"M-{ref}"))[0]
              for ref in ("BUSY-1", "BUSY-2")]

    locked, release = threading.Event(), threading.Event()

    def worker():
        with transaction.atomic():
            TransitEvent.objects.select_for_update().get(pk=events[0].pk)
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert locked.wait(10)
        applied = transit_events_sweep(now=_later(), budget_seconds=5)
    finally:
        release.set()
        thread.join()
    assert applied == 1
    assert TransitEvent.objects.get(pk=events[0].pk).status == EventStatus.RECEIVED
    assert TransitEvent.objects.get(pk=events[1].pk).status == EventStatus.APPLIED


# --- Overdue transits ------------------------------------------------------------------------------------

def test_overdue_transits_are_marked_once_and_everyone_concerned_is_told(world, django_capture_on_commit_callbacks):
    transit = declare(world, "OVER-1")
    declare(world, "ONTIME-1")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert transits_mark_overdue(now=transit.deadline + datetime.timedelta(minutes=1)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert transits_mark_overdue(now=transit.deadline + datetime.timedelta(days=1)) == 0
    transit.refresh_from_db()
    assert transit.status == TransitStatus.OVERDUE and transit.overdue_at is not None

    told = Notification.objects.filter(event="transit_overdue", transit=transit)
    recipients = {n.recipient for n in told}
    s = world.s
    # The forwarder, its bank, and the customs of both countries on the route (TG and BF).
    assert {s.agent, s.maker, s.checker, s.officer, s.supervisor, world.tg_officer} <= recipients
    assert world.secretariat not in recipients
    assert len({n.recipient_id for n in told}) == told.count()  # once each
    assert len([m for m in mail.outbox if "OVER-1" in m.subject]) == told.count()


def test_a_discharged_transit_is_never_overdue(world):
    transit = declare(world, "DONE-1")
    ev, _ = transit_event_receive(sender=world.burkina, data=event("DONE-1", "M-DONE-1"))
    transit_event_apply(event_id=ev.pk)
    assert transits_mark_overdue(now=transit.deadline + datetime.timedelta(days=1)) == 0


def test_an_overdue_transit_can_still_be_discharged(world):
    transit = declare(world, "OVER-2")
    transits_mark_overdue(now=transit.deadline + datetime.timedelta(minutes=1))
    ev, _ = transit_event_receive(sender=world.burkina, data=event("OVER-2", "M-OVER-2"))
    transit_event_apply(event_id=ev.pk)
    transit.refresh_from_db()
    assert transit.status == TransitStatus.DISCHARGED


# --- Validity -------------------------------------------------------------------------------------------

def test_guarantees_past_validity_expire_keep_their_holds_and_take_no_new_one(world):
    transit = declare(world, "EXP-1")
    g = world.guarantee
    today = g.valid_until + datetime.timedelta(days=1)
    assert guarantees_expire_due(today=today) == 1
    assert guarantees_expire_due(today=today) == 0
    g.refresh_from_db()
    assert g.status == GuaranteeStatus.EXPIRED and g.held == transit.amount_held
    assert Notification.objects.filter(event="guarantee_expired", guarantee=g).exists()


def test_expiry_alerts_come_30_and_7_days_before_once_each(world):
    g = world.guarantee
    end = g.valid_until
    assert expiry_alerts_sweep(today=end - datetime.timedelta(days=31)) == 0
    assert expiry_alerts_sweep(today=end - datetime.timedelta(days=30)) == 1
    assert expiry_alerts_sweep(today=end - datetime.timedelta(days=20)) == 0
    assert expiry_alerts_sweep(today=end - datetime.timedelta(days=7)) == 1
    assert expiry_alerts_sweep(today=end - datetime.timedelta(days=2)) == 0
    kinds = set(GuaranteeAlert.objects.filter(guarantee=g).values_list("kind", flat=True))
    assert kinds == {"expiry_30", "expiry_7"}
    told = Notification.objects.filter(event="guarantee_expiring", guarantee=g)
    assert {n.recipient for n in told} == {world.s.agent, world.s.maker, world.s.checker}
    assert told.count() == 2 * 3


def test_a_late_sweep_gives_only_the_nearest_expiry_alert(world):
    g = world.guarantee
    assert expiry_alerts_sweep(today=g.valid_until - datetime.timedelta(days=5)) == 1
    assert expiry_alerts_sweep(today=g.valid_until - datetime.timedelta(days=4)) == 0
    assert Notification.objects.filter(event="guarantee_expiring", recipient=world.s.agent).count() == 1


# --- Low balance ---------------------------------------------------------------------------------------------

def test_low_balance_is_told_once_while_low_and_again_after_it_recovered(world):
    g = world.guarantee  # 100,000,000; threshold 10 %: alert at or below 10,000,000 available
    declare(world, "LOW-1", amount=89_000_000)
    assert low_balance_alerts_sweep() == (0, 0)
    declare(world, "LOW-2", amount=1_000_000)  # available 10,000,000: at the threshold
    assert low_balance_alerts_sweep() == (1, 0)
    assert low_balance_alerts_sweep() == (0, 0)  # still low: not told again
    told = Notification.objects.filter(event="low_balance", guarantee=g)
    assert {n.recipient for n in told} == {world.s.agent, world.s.maker, world.s.checker}
    assert "10%" in told.filter(recipient=world.s.agent).get().body.replace("\u00a0", "").replace(" ", "")

    ev, _ = transit_event_receive(sender=world.burkina, data=event("LOW-2", "M-LOW-2"))
    transit_event_apply(event_id=ev.pk)
    assert low_balance_alerts_sweep() == (0, 1)  # recovered: cleared
    declare(world, "LOW-3", amount=2_000_000)
    assert low_balance_alerts_sweep() == (1, 0)  # low again: told again
    assert GuaranteeAlert.objects.filter(guarantee=g, kind=AlertKind.LOW_BALANCE).count() == 2


def test_the_threshold_is_the_guarantees_own(world):
    g = world.guarantee
    g.low_balance_pct = 50
    g.save(update_fields=["low_balance_pct"])
    declare(world, "HALF-1", amount=50_000_000)
    assert low_balance_alerts_sweep() == (1, 0)


# --- Digest of releases, e-mails, files ---------------------------------------------------------------------

def test_the_forwarder_gets_one_digest_of_the_releases_per_window(world):
    for n in (1, 2):
        declare(world, f"DIG-{n}")
        ev, _ = transit_event_receive(sender=world.burkina, data=event(f"DIG-{n}", f"M-DIG-{n}"))
        transit_event_apply(event_id=ev.pk)
    now = _later(300)
    assert release_digest_sweep(now=now, first_window=datetime.timedelta(hours=1)) == 1
    assert release_digest_sweep(now=now) == 0
    digest = Notification.objects.get(event="holds_released", recipient=world.s.agent)
    assert "9\u202f000\u202f000\u00a0FCFA" in digest.body and "2" in digest.body


def test_unsent_emails_are_sent_by_the_sweep_and_only_once(world, django_capture_on_commit_callbacks):
    from guarantees.services.notifications import notice_send
    from guarantees.operations.sweeps import notification_emails_sweep

    Notification.objects.update(emailed_at=timezone.now())  # the world's own notices, sent
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False):  # the e-mail task is lost
        notice_send(event="guarantee_expiring", organisation=world.s.forwarder, guarantee=world.guarantee)
    assert mail.outbox == []
    Notification.objects.filter(emailed_at__isnull=True).update(
        created_at=timezone.now() - datetime.timedelta(minutes=10))
    with override_settings(REGISTRY_NOTIFICATION_EMAIL_AFTER_SECONDS=60):
        assert notification_emails_sweep() == 1
        assert notification_emails_sweep() == 0
    assert [m.to for m in mail.outbox] == [[world.s.agent.email]]


def test_a_stalled_discharge_file_is_queued_again_once_per_period(world, django_capture_on_commit_callbacks):
    job = DischargeFile.objects.create(sender=world.burkina, filename="x.csv", format="csv",
                                       content=b"message_id,declaration_ref,office,occurred_at\n")
    DischargeFile.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert discharge_files_sweep() == [job.pk]
    assert discharge_files_sweep() == []
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.total == 0
