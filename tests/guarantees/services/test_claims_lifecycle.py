"""The whole lives of a transit's case, with the ledger invariants and the guarantee's balances after each step."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from guarantees.models import (
    CaseAction,
    ClaimStatus,
    EnquiryOutcome,
    EnquiryStatus,
    EntryKind,
    GuaranteeStatus,
    HoldStatus,
    LedgerEntry,
    ReleaseStatus,
    TransitStatus,
)
from guarantees.services.claims import (
    claim_examine,
    claim_issue,
    claim_pay,
    claim_prepare,
    claim_reissue,
    claim_reject,
    claim_withdraw,
)
from guarantees.services.enquiries import enquiry_answer, enquiry_open, release_approve, release_propose
from guarantees.services.ledger import ledger_verify
from tests.builders import balances

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TODAY = timezone.localdate


def proof(name="apurement.pdf", data=PDF):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_enquiry_proof_then_manual_release(world, mailoutbox, django_capture_on_commit_callbacks):
    s, g = world.s, world.g
    transit = world.declare()
    assert balances(g) == (100_000_000, 4_500_000, 0, 0)

    with django_capture_on_commit_callbacks(execute=True):
        enquiry = enquiry_open(transit=transit, by=world.tg_officer, ground="overdue", reason="Délai dépassé.")
    transit.refresh_from_db()
    assert transit.status == TransitStatus.OVERDUE  # past its time limit: marked when the enquiry opens
    assert enquiry.status == EnquiryStatus.OPEN and enquiry.answer_due > timezone.localdate()
    recipients = {m.to[0] for m in mailoutbox}
    assert s.agent.email in recipients and s.checker.email in recipients  # principal and guarantor notified

    answer = enquiry_answer(enquiry=enquiry, by=s.agent, kind="proof", text="Certificat de sortie joint.",
                            files=[proof()])
    enquiry.refresh_from_db()
    assert enquiry.status == EnquiryStatus.ANSWERED
    document = answer.documents.get()
    assert document.content_type == "application/pdf" and document.size == len(PDF)
    assert document.file.name.startswith(f"enquiries/{enquiry.pk}/") and "apurement" not in document.file.name
    with document.file.open("rb") as fh:
        assert fh.read() == PDF

    release = release_propose(transit=transit, by=world.tg_officer, ground="proof_accepted", reason="Preuve reçue.")
    assert balances(g) == (100_000_000, 4_500_000, 0, 0)  # nothing moves before approval
    release = release_approve(release=release, by=world.tg_supervisor, comment="Vu.")
    assert release.status == ReleaseStatus.APPROVED
    transit.refresh_from_db()
    enquiry.refresh_from_db()
    assert transit.status == TransitStatus.DISCHARGED and transit.hold.status == HoldStatus.RELEASED
    assert (enquiry.status, enquiry.outcome) == (EnquiryStatus.CLOSED, EnquiryOutcome.RELEASED)
    assert balances(g) == (100_000_000, 0, 0, 0)
    assert ledger_verify() == []
    # Approving again changes nothing.
    release_approve(release=release, by=world.tg_supervisor)
    assert balances(g) == (100_000_000, 0, 0, 0)
    assert LedgerEntry.objects.filter(guarantee=g, kind=EntryKind.RELEASE).count() == 1


def test_the_proposer_cannot_approve_their_own_release(world):
    from guarantees.errors import NotAllowed, SameMakerAndChecker

    transit = world.declare()
    release = release_propose(transit=transit, by=world.tg_supervisor, ground="paper_discharge", reason="Papier.")
    with pytest.raises(SameMakerAndChecker):
        release_approve(release=release, by=world.tg_supervisor)
    with pytest.raises(NotAllowed):  # a supervisor of another administration
        release_approve(release=release, by=world.s.supervisor)
    with pytest.raises(NotAllowed):  # an officer cannot approve
        release_approve(release=release, by=world.tg_officer)


def test_enquiry_then_claim_then_partial_payment(world):
    s, g = world.s, world.g
    transit, enquiry = world.noticed(amount=4_500_000)

    claim = claim_issue(transit=transit, by=s.supervisor, grounds="Non apuré.", amount=4_000_000)
    transit.refresh_from_db()
    hold = transit.hold
    assert claim.status == ClaimStatus.ISSUED and claim.number.startswith("CL-BF-")
    assert transit.status == TransitStatus.CLAIMED
    assert (hold.status, hold.amount, hold.claimed_amount) == (HoldStatus.CLAIMED, 500_000, 4_000_000)
    assert balances(g) == (100_000_000, 500_000, 4_000_000, 0)
    enquiry.refresh_from_db()
    assert (enquiry.status, enquiry.outcome) == (EnquiryStatus.CLOSED, EnquiryOutcome.CLAIMED)
    assert ledger_verify() == []

    claim = claim_examine(claim=claim, by=s.maker)
    assert claim.status == ClaimStatus.UNDER_EXAMINATION
    claim_prepare(claim=claim, by=s.maker, decision="pay", amount=3_000_000, comment="Montant justifié.")
    claim = claim_pay(claim=claim, by=s.checker, amount=3_000_000, payment_reference="VIR-2026-0042",
                      payment_date=TODAY())
    assert claim.status == ClaimStatus.PAID and claim.paid_in_part
    transit.refresh_from_db()
    hold.refresh_from_db()
    assert transit.status == TransitStatus.SETTLED
    assert (hold.status, hold.amount, hold.claimed_amount, hold.paid_amount) == (HoldStatus.PAID, 0, 0, 3_000_000)
    # The paid part consumes the guarantee; the unpaid 1 000 000 and the 500 000 still held are released.
    assert balances(g) == (100_000_000, 0, 0, 3_000_000)
    assert g.available == 97_000_000
    kinds = list(LedgerEntry.objects.filter(guarantee=g).order_by("seq").values_list("kind", flat=True))
    assert kinds[-3:] == [EntryKind.CLAIM, EntryKind.PAYMENT, EntryKind.RELEASE]
    assert ledger_verify() == []
    # A replay of the payment changes nothing.
    claim_pay(claim=claim, by=s.checker, amount=3_000_000, payment_reference="VIR-2026-0042", payment_date=TODAY())
    assert balances(g) == (100_000_000, 0, 0, 3_000_000)


def test_claim_rejection_reissue_then_payment_in_full(world):
    s, g = world.s, world.g
    transit, _ = world.noticed(amount=6_000_000)
    claim = claim_issue(transit=transit, by=world.tg_supervisor, grounds="Non apuré.", amount=5_000_000)
    assert balances(g) == (100_000_000, 1_000_000, 5_000_000, 0)

    rejected = claim_reject(claim=claim, by=s.checker,
                            discrepancies="Numéro de déclaration erroné\n\nMontant non justifié\n")
    assert rejected.status == ClaimStatus.REJECTED
    assert rejected.discrepancies == ["Numéro de déclaration erroné", "Montant non justifié"]
    assert balances(g) == (100_000_000, 1_000_000, 5_000_000, 0)  # still claimed
    transit.refresh_from_db()
    assert transit.status == TransitStatus.CLAIMED
    assert ledger_verify() == []

    new = claim_reissue(claim=rejected, by=world.tg_supervisor, amount=5_500_000, grounds="Montant corrigé.")
    rejected.refresh_from_db()
    assert rejected.status == ClaimStatus.REISSUED and new.previous == rejected and new.round == 2
    assert new.status == ClaimStatus.ISSUED and new.examination_deadline >= rejected.examination_deadline
    assert balances(g) == (100_000_000, 500_000, 5_500_000, 0)
    assert ledger_verify() == []
    assert claim_reissue(claim=rejected, by=world.tg_supervisor).pk == new.pk  # a replay

    paid = claim_pay(claim=new, by=s.checker, amount=5_500_000, payment_reference="VIR-77", payment_date=TODAY())
    assert paid.status == ClaimStatus.PAID and not paid.paid_in_part
    assert balances(g) == (100_000_000, 0, 0, 5_500_000)
    transit.refresh_from_db()
    assert transit.status == TransitStatus.SETTLED and transit.hold.status == HoldStatus.PAID
    assert ledger_verify() == []


def test_a_lower_reissue_gives_the_difference_back_to_held(world):
    s, g = world.s, world.g
    transit, _ = world.noticed(amount=6_000_000)
    claim = claim_reject(claim=claim_issue(transit=transit, by=s.supervisor, grounds="x"), by=s.checker,
                         discrepancies=["Montant"])
    claim_reissue(claim=claim, by=s.supervisor, amount=2_000_000)
    assert balances(g) == (100_000_000, 4_000_000, 2_000_000, 0)
    assert ledger_verify() == []


def test_claim_withdrawal_releases_everything(world):
    s, g = world.s, world.g
    transit, _ = world.noticed(amount=4_500_000)
    claim = claim_issue(transit=transit, by=s.supervisor, grounds="Non apuré.", amount=4_000_000)
    claim = claim_withdraw(claim=claim, by=s.supervisor, reason="Apurement retrouvé.")
    assert claim.status == ClaimStatus.WITHDRAWN
    transit.refresh_from_db()
    assert transit.status == TransitStatus.SETTLED
    assert (transit.hold.status, transit.hold.amount, transit.hold.claimed_amount) == (HoldStatus.WITHDRAWN, 0, 0)
    assert balances(g) == (100_000_000, 0, 0, 0)
    assert ledger_verify() == []
    claim_withdraw(claim=claim, by=s.supervisor, reason="again")  # a replay
    assert balances(g) == (100_000_000, 0, 0, 0)
    assert set(claim.events.values_list("action", flat=True)) == {CaseAction.CLAIM_ISSUED, CaseAction.CLAIM_WITHDRAWN}


def test_a_rejected_claim_can_be_withdrawn(world):
    s, g = world.s, world.g
    transit, _ = world.noticed()
    claim = claim_reject(claim=claim_issue(transit=transit, by=s.supervisor, grounds="x"), by=s.checker,
                         discrepancies=["Pièces manquantes"])
    claim_withdraw(claim=claim, by=s.supervisor, reason="Abandon.")
    assert balances(g) == (100_000_000, 0, 0, 0)
    assert ledger_verify() == []


def test_a_cancelled_guarantee_closes_when_its_last_claim_is_settled(world):
    from guarantees.services.guarantees import guarantee_cancel

    s, g = world.s, world.g
    transit, _ = world.noticed()
    claim = claim_issue(transit=transit, by=s.supervisor, grounds="x")
    guarantee_cancel(guarantee=g, by=s.supervisor, reason="Retrait d'agrément.")
    g.refresh_from_db()
    assert g.status == GuaranteeStatus.CANCELLED  # a claim is still open
    claim_pay(claim=claim, by=s.checker, amount=1_000_000, payment_reference="V1", payment_date=TODAY())
    g.refresh_from_db()
    assert g.status == GuaranteeStatus.CLOSED
    assert ledger_verify() == []
