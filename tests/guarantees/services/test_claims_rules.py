"""The rules around enquiries and claims: who may act, how much, and when."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from guarantees.errors import InvalidAmount, InvalidTransition, NotAllowed, SameMakerAndChecker
from guarantees.models import Claim, ClaimStatus, Hold, TransitStatus
from guarantees.services.claims import (
    ClaimAboveHeld,
    ClaimTooEarly,
    ClaimTooLate,
    ExaminationPeriodOver,
    NoticeRequired,
    PaymentAboveClaim,
    claim_issue,
    claim_pay,
    claim_prepare,
    claim_reissue,
    claim_reject,
    claim_withdraw,
)
from guarantees.services.enquiries import (
    EnquiryAlreadyOpen,
    InvalidDocument,
    NoticePeriodPassed,
    TransitNotOverdue,
    enquiry_answer,
    enquiry_open,
    release_propose,
    transit_mark_overdue,
)
from guarantees.services.ledger import ledger_verify
from tests.builders import balances

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def test_a_claim_above_the_held_amount_is_refused_and_moves_nothing(world):
    transit, _ = world.noticed(amount=4_500_000)
    with pytest.raises(ClaimAboveHeld) as exc:
        claim_issue(transit=transit, by=world.s.supervisor, grounds="x", amount=4_500_001)
    assert exc.value.extra["held"] == 4_500_000
    assert balances(world.g) == (100_000_000, 4_500_000, 0, 0)
    assert not Claim.objects.exists()


def test_the_database_refuses_a_hold_claimed_above_what_it_took(world):
    transit = world.declare()
    with pytest.raises(IntegrityError), transaction.atomic():
        Hold.objects.filter(pk=transit.hold_id).update(claimed_amount=4_500_001, amount=0)


def test_a_reissue_above_what_is_held_is_refused(world):
    transit, _ = world.noticed(amount=4_500_000)
    claim = claim_issue(transit=transit, by=world.s.supervisor, grounds="x", amount=4_000_000)
    claim_reject(claim=claim, by=world.s.checker, discrepancies=["Montant"])
    with pytest.raises(ClaimAboveHeld):
        claim_reissue(claim=claim, by=world.s.supervisor, amount=4_500_001)
    assert balances(world.g) == (100_000_000, 500_000, 4_000_000, 0)


def test_zero_or_fractional_amounts_are_refused(world):
    transit, _ = world.noticed()
    for bad in (0, -5, 1.5, True):
        with pytest.raises(InvalidAmount):
            claim_issue(transit=transit, by=world.s.supervisor, grounds="x", amount=bad)


def test_only_customs_of_a_country_on_the_route_may_open_an_enquiry(world):
    transit = world.declare()
    for outsider in (world.ne_supervisor, world.s.agent, world.s.checker, world.secretariat):
        with pytest.raises(NotAllowed):
            enquiry_open(transit=transit, by=outsider, ground="overdue", reason="x")
    # Togo (departure) and Burkina Faso (destination) may.
    enquiry = enquiry_open(transit=transit, by=world.tg_officer, ground="overdue", reason="x")
    assert enquiry.customs == world.togo


def test_only_a_customs_supervisor_of_a_country_on_the_route_may_claim(world):
    transit, _ = world.noticed()
    for outsider in (world.ne_supervisor, world.s.officer, world.tg_officer, world.s.agent, world.s.checker,
                     world.secretariat):
        with pytest.raises(NotAllowed):
            claim_issue(transit=transit, by=outsider, grounds="x")
    assert claim_issue(transit=transit, by=world.tg_supervisor, grounds="x").customs == world.togo


def test_only_the_guarantor_bank_may_answer(world):
    transit, _ = world.noticed()
    claim = claim_issue(transit=transit, by=world.s.supervisor, grounds="x")
    for outsider in (world.other_checker, world.s.supervisor, world.s.agent, world.secretariat, world.s.maker):
        with pytest.raises(NotAllowed):
            claim_pay(claim=claim, by=outsider, amount=1, payment_reference="V", payment_date=TODAY())
        with pytest.raises(NotAllowed):
            claim_reject(claim=claim, by=outsider, discrepancies=["x"])
    with pytest.raises(NotAllowed):
        claim_prepare(claim=claim, by=world.other_checker, decision="pay", amount=1)


def test_only_the_claiming_administration_may_reissue_or_withdraw(world):
    transit, _ = world.noticed()
    claim = claim_issue(transit=transit, by=world.tg_supervisor, grounds="x")
    claim_reject(claim=claim, by=world.s.checker, discrepancies=["x"])
    for outsider in (world.s.supervisor, world.tg_officer, world.s.checker):
        with pytest.raises(NotAllowed):
            claim_reissue(claim=claim, by=outsider)
        with pytest.raises(NotAllowed):
            claim_withdraw(claim=claim, by=outsider, reason="x")


def test_the_maker_who_prepared_cannot_decide(world):
    from accounts.roles import Role
    from tests.factories import member

    transit, _ = world.noticed()
    claim = claim_issue(transit=transit, by=world.s.supervisor, grounds="x")
    both = member(world.s.bank.organisation, Role.BANK_MAKER)
    from accounts.models import Membership

    Membership.objects.create(user=both, organisation=world.s.bank.organisation, role=Role.BANK_CHECKER)
    claim_prepare(claim=claim, by=both, decision="pay", amount=1_000_000)
    with pytest.raises(SameMakerAndChecker):
        claim_pay(claim=claim, by=both, amount=1_000_000, payment_reference="V", payment_date=TODAY())
    claim_pay(claim=claim, by=world.s.checker, amount=1_000_000, payment_reference="V", payment_date=TODAY())


def test_no_claim_without_a_notice_nor_before_the_waiting_period(world, settings):
    transit = world.declare()
    with pytest.raises(NoticeRequired):
        claim_issue(transit=transit, by=world.s.supervisor, grounds="x")
    enquiry_open(transit=transit, by=world.s.officer, ground="overdue", reason="x",
                 now=timezone.now() - datetime.timedelta(days=settings.REGISTRY_CLAIM_WAITING_DAYS - 1))
    with pytest.raises(ClaimTooEarly) as exc:
        claim_issue(transit=transit, by=world.s.supervisor, grounds="x")
    assert exc.value.extra["earliest"] == (timezone.now() + datetime.timedelta(days=1)).date().isoformat()
    claim_issue(transit=transit, by=world.s.supervisor, grounds="x",
                now=timezone.now() + datetime.timedelta(days=1, minutes=1))


def test_no_claim_after_the_final_limit(world, settings):
    settings.REGISTRY_CLAIM_FINAL_LIMIT_DAYS = 60
    transit, _ = world.noticed(days_ago=90, notice_days_ago=45)  # time limit passed ~85 days ago
    with pytest.raises(ClaimTooLate):
        claim_issue(transit=transit, by=world.s.supervisor, grounds="x")
    assert balances(world.g) == (100_000_000, 4_500_000, 0, 0)


def test_no_notice_after_the_notice_period(world, settings):
    settings.REGISTRY_NOTICE_PERIOD_DAYS = 30
    transit = world.declare(days_ago=90)
    with pytest.raises(NoticePeriodPassed):
        enquiry_open(transit=transit, by=world.s.officer, ground="overdue", reason="x")


def test_an_overdue_enquiry_needs_an_overdue_transit_but_an_irregularity_does_not(world):
    transit = world.declare(days_ago=1)
    with pytest.raises(TransitNotOverdue):
        enquiry_open(transit=transit, by=world.s.officer, ground="overdue", reason="x")
    enquiry = enquiry_open(transit=transit, by=world.s.officer, ground="irregular", reason="Scellés rompus.")
    transit.refresh_from_db()
    assert transit.status == TransitStatus.DECLARED
    assert enquiry_open(transit=transit, by=world.s.officer, ground="irregular", reason="x").pk == enquiry.pk
    with pytest.raises(EnquiryAlreadyOpen):
        enquiry_open(transit=transit, by=world.tg_officer, ground="irregular", reason="x")


def test_transit_mark_overdue_only_past_the_time_limit(world):
    fresh, late = world.declare("TG-A", days_ago=1), world.declare("TG-B", days_ago=30)
    assert transit_mark_overdue(transit=fresh).status == TransitStatus.DECLARED
    late = transit_mark_overdue(transit=late)
    assert late.status == TransitStatus.OVERDUE and late.overdue_at is not None
    assert transit_mark_overdue(transit=late.pk).overdue_at == late.overdue_at  # no change the second time


def test_the_answer_accepts_pdf_jpeg_png_within_the_size_limit_only(world, settings):
    settings.REGISTRY_ENQUIRY_FILE_MAX_BYTES = 1000
    transit = world.declare()
    enquiry = enquiry_open(transit=transit, by=world.s.officer, ground="overdue", reason="x")

    def answer(*files):
        return enquiry_answer(enquiry=enquiry, by=world.s.agent, kind="proof", text="Voir pièces.", files=files)

    with pytest.raises(InvalidDocument):  # an executable renamed .pdf
        answer(SimpleUploadedFile("proof.pdf", b"MZ\x90\x00" + b"\x00" * 50, content_type="application/pdf"))
    with pytest.raises(InvalidDocument):
        answer(SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * 1000, content_type="application/pdf"))
    with pytest.raises(InvalidDocument):  # proof needs a file
        answer()
    png = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20, content_type="image/png")
    jpg = SimpleUploadedFile("scan.jpeg", b"\xff\xd8\xff\xe0" + b"0" * 20, content_type="image/jpeg")
    docs = answer(png, jpg).documents.order_by("pk")
    assert [(d.original_name, d.content_type) for d in docs] == [
        ("photo.png", "image/png"), ("scan.jpeg", "image/jpeg"),
    ]
    assert all(d.file.name.endswith((".png", ".jpg")) for d in docs)


def test_only_the_principal_answers_and_duties_paid_needs_the_receipt(world):
    transit = world.declare()
    enquiry = enquiry_open(transit=transit, by=world.s.officer, ground="overdue", reason="x")
    for outsider in (world.other_agent, world.s.checker, world.s.officer):
        with pytest.raises(NotAllowed):
            enquiry_answer(enquiry=enquiry, by=outsider, kind="duties_paid", text="x", payment_reference="Q1",
                           paid_on=TODAY())
    from guarantees.errors import ReasonRequired

    with pytest.raises(ReasonRequired):
        enquiry_answer(enquiry=enquiry, by=world.s.agent, kind="duties_paid", text="Payé à Ouaga.")
    answer = enquiry_answer(enquiry=enquiry, by=world.s.agent, kind="duties_paid", text="Payé à Ouaga.",
                            payment_reference="Q-2026-118", paid_on=TODAY(), amount_paid=4_500_000)
    assert answer.amount_paid == 4_500_000


def test_a_claimed_transit_cannot_be_released_manually_and_discharge_events_are_refused(world):
    transit, _ = world.noticed()
    claim_issue(transit=transit, by=world.s.supervisor, grounds="x")
    transit.refresh_from_db()
    with pytest.raises(InvalidTransition):
        release_propose(transit=transit, by=world.s.officer, ground="proof_accepted", reason="x")
    assert transit.status == TransitStatus.CLAIMED


def test_a_second_claim_on_the_same_transit_is_refused(world):
    transit, _ = world.noticed()
    claim_issue(transit=transit, by=world.s.supervisor, grounds="x", amount=1_000_000)
    transit.refresh_from_db()
    with pytest.raises(InvalidTransition):
        claim_issue(transit=transit, by=world.tg_supervisor, grounds="x", amount=1_000_000)


def test_payment_above_the_claim_or_in_the_future_is_refused(world):
    transit, _ = world.noticed()
    claim = claim_issue(transit=transit, by=world.s.supervisor, grounds="x", amount=2_000_000)
    with pytest.raises(PaymentAboveClaim):
        claim_pay(claim=claim, by=world.s.checker, amount=2_000_001, payment_reference="V", payment_date=TODAY())
    with pytest.raises(InvalidTransition):
        claim_pay(claim=claim, by=world.s.checker, amount=1, payment_reference="V",
                  payment_date=TODAY() + datetime.timedelta(days=3))
    assert balances(world.g) == (100_000_000, 2_500_000, 2_000_000, 0)


def test_rejection_lists_discrepancies_once_and_not_after_the_deadline(world):
    transit, _ = world.noticed()
    claim = claim_issue(transit=transit, by=world.s.supervisor, grounds="x")
    from guarantees.errors import ReasonRequired

    with pytest.raises(ReasonRequired):
        claim_reject(claim=claim, by=world.s.checker, discrepancies="\n  \n")
    with pytest.raises(ExaminationPeriodOver):
        claim_reject(claim=claim, by=world.s.checker, discrepancies=["x"],
                     now=claim.examination_deadline + datetime.timedelta(seconds=1))
    rejected = claim_reject(claim=claim, by=world.s.checker, discrepancies=["A", "B"])
    again = claim_reject(claim=claim, by=world.s.checker, discrepancies=["C"])  # a replay: the notice stands
    assert again.discrepancies == ["A", "B"] == rejected.discrepancies
    with pytest.raises(InvalidTransition):
        claim_pay(claim=claim, by=world.s.checker, amount=1, payment_reference="V", payment_date=TODAY())
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.REJECTED
    assert ledger_verify() == []
