"""Claims the bank left unanswered past their deadline are flagged once, to the claiming customs and the
secretariat; the Celery task runs the same sweep and is safe to run twice."""

import datetime

import pytest

from guarantees.links import notification_path
from django.utils import timezone

from guarantees.models import CaseAction, CaseEvent
from guarantees.selectors.claims import claims_overdue
from guarantees.services.claims import claim_issue, claim_pay, claims_flag_overdue
from guarantees.tasks import flag_overdue_claims

pytestmark = pytest.mark.django_db


def test_an_unanswered_claim_past_its_deadline_is_flagged_once(world, mailoutbox, django_capture_on_commit_callbacks):
    late_transit, _ = world.noticed("TG-LATE")
    paid_transit, _ = world.noticed("TG-PAID")
    fresh_transit, _ = world.noticed("TG-FRESH")
    long_ago = timezone.now() - datetime.timedelta(days=14)
    late = claim_issue(transit=late_transit, by=world.s.supervisor, grounds="x", now=long_ago)
    paid = claim_issue(transit=paid_transit, by=world.s.supervisor, grounds="x", now=long_ago)
    claim_pay(claim=paid, by=world.s.checker, amount=1, payment_reference="V", payment_date=timezone.localdate())
    fresh = claim_issue(transit=fresh_transit, by=world.s.supervisor, grounds="x")

    assert list(claims_overdue()) == [late]
    assert late.is_overdue and not fresh.is_overdue
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert claims_flag_overdue() == 1
    late.refresh_from_db()
    assert late.overdue_flagged_at is not None
    assert CaseEvent.objects.filter(claim=late, action=CaseAction.CLAIM_OVERDUE).count() == 1
    recipients = {m.to[0] for m in mailoutbox}
    assert world.s.supervisor.email in recipients and world.secretariat.email in recipients
    assert world.s.checker.email not in recipients

    with django_capture_on_commit_callbacks(execute=True):
        assert flag_overdue_claims() == 0  # the task: nothing new the second time
    assert CaseEvent.objects.filter(action=CaseAction.CLAIM_OVERDUE).count() == 1


def test_the_bank_may_still_pay_a_flagged_claim(world):
    transit, _ = world.noticed()
    claim = claim_issue(transit=transit, by=world.s.supervisor, grounds="x",
                        now=timezone.now() - datetime.timedelta(days=14))
    claims_flag_overdue()
    paid = claim_pay(claim=claim, by=world.s.checker, amount=claim.amount, payment_reference="V",
                     payment_date=timezone.localdate())
    assert paid.status == "paid"
    assert list(claims_overdue()) == []


def test_notifications_point_each_party_to_the_case_page(world, mailoutbox, django_capture_on_commit_callbacks):
    from django.urls import reverse

    from guarantees.models import Notification

    transit, enquiry = world.noticed("TG-NOTICE")
    enquiry_url = reverse("guarantees:enquiry_detail", args=[enquiry.pk])
    assert {(n.recipient.email, notification_path(n)) for n in Notification.objects.filter(event="enquiry_opened")} >= {
        (world.s.agent.email, enquiry_url), (world.s.checker.email, enquiry_url), (world.s.maker.email, enquiry_url),
    }
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_issue(transit=transit, by=world.tg_supervisor, grounds="x")
    claim_url = reverse("guarantees:claim_detail", args=[claim.pk])
    issued = Notification.objects.filter(event="claim_issued")
    assert {notification_path(n) for n in issued} == {claim_url}
    assert {n.recipient for n in issued} >= {world.s.checker, world.s.maker, world.s.agent}
    mail = next(m for m in mailoutbox if m.to == [world.s.checker.email] and claim.number in m.body)
    assert claim_url in mail.body
