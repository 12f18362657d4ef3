"""Claims under the guarantee: issue by customs, examination and answer by the guarantor bank, reissue and
withdrawal, and the sweep that flags claims the bank left unanswered.

Money, through the ledger only (``ledger_append`` on the locked guarantee, then hold, then transit):

- issue: ``held → claimed`` for the amount claimed (``d_held=-x, d_claimed=+x``); the rest of the hold stays held;
- payment, in full or in part: ``d_claimed=-paid, d_paid=+paid``; the unpaid remainder of the claim, and what was
  still held, are released (``RELEASE``); the hold closes as ``paid`` and the transit is ``settled``;
- rejection: nothing moves: the amount stays claimed until customs reissue or withdraw;
- reissue with another amount: the difference moves between held and claimed;
- withdrawal: ``d_claimed=-x`` (``CLAIM_WITHDRAWN``) and what was still held is released; the hold closes as
  ``withdrawn`` and the transit is ``settled``.

A paid amount keeps consuming the guarantee (``paid``) until the bank reinstates it by an amendment (a later
issue: the ``REINSTATEMENT`` ledger kind exists for it); nothing here gives it back.

Time limits are settings: no claim before ``REGISTRY_CLAIM_WAITING_DAYS`` after the notice to the guarantor
(the enquiry), none after ``REGISTRY_CLAIM_FINAL_LIMIT_DAYS`` from the transit's time limit. The bank answers
within ``REGISTRY_EXAMINATION_WORKING_DAYS`` working days on its country's calendar; as in URDG 758 art. 24,
it must reject by then, listing every discrepancy in one notice, or lose the right to reject (it may still
pay). An unanswered claim past its deadline is flagged to the claiming customs and the secretariat.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import OrganisationKind
from guarantees.formats import format_fcfa
from guarantees.errors import (
    ClaimAboveHeld,
    ClaimTooEarly,
    ClaimTooLate,
    ExaminationPeriodOver,
    NoticeRequired,
    PaymentAboveClaim,
    InvalidAmount,
    InvalidTransition,
    NotAllowed,
    ReasonRequired,
    SameMakerAndChecker,
)
from guarantees.limits import amount_check
from guarantees.models import (
    AWAITING_BANK_STATUSES,
    NoticeAbout,
    OPEN_CLAIM_STATUSES,
    OPEN_ENQUIRY_STATUSES,
    OPEN_TRANSIT_STATUSES,
    CaseAction,
    Claim,
    ClaimDecision,
    ClaimStatus,
    EnquiryOutcome,
    EntryKind,
    Guarantee,
    Hold,
    HoldStatus,
    Transit,
    TransitStatus,
)
from guarantees.models.claims import Enquiry
from guarantees.services.calendar import local_date, working_deadline
from guarantees.services.enquiries import (
    case_event,
    close_open_enquiries,
    require_customs_on_route,
    tell,
)
from guarantees.services.ledger import ledger_append

logger = logging.getLogger(__name__)








# --- Helpers ------------------------------------------------------------------------------------------

def _whole(amount) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount()
    return amount_check(amount)


def _require_bank(by, permission: str, claim: Claim) -> None:
    """``by`` holds ``permission`` in the guarantor bank of the claim's guarantee."""
    bank_org_id = claim.guarantee.bank.organisation_id
    if not by.can(permission) or by.organisation is None or by.organisation.pk != bank_org_id:
        raise NotAllowed()


def _require_claiming_customs(by, claim: Claim) -> None:
    if not by.can("claim.issue") or by.organisation is None or by.organisation.pk != claim.customs_id:
        raise NotAllowed()


def _lock_case(claim: Claim) -> tuple[Guarantee, Hold, Transit, Claim]:
    """Lock the rows of a claim in the one order used everywhere: guarantee, hold, transit, claim."""
    guarantee = Guarantee.objects.select_for_update().get(pk=claim.guarantee_id)
    hold = Hold.objects.select_for_update().get(pk=claim.hold_id)
    transit = Transit.objects.select_for_update().get(pk=claim.transit_id)
    locked = Claim.objects.select_for_update().get(pk=claim.pk)
    return guarantee, hold, transit, locked


def _final_limit(transit: Transit) -> datetime.datetime:
    return transit.deadline + datetime.timedelta(days=settings.REGISTRY_CLAIM_FINAL_LIMIT_DAYS)


def _examination(guarantee: Guarantee, at: datetime.datetime) -> tuple[datetime.date, datetime.datetime]:
    return working_deadline(country=guarantee.bank.organisation.country, at=at,
                            days=settings.REGISTRY_EXAMINATION_WORKING_DAYS)


def _number(*, customs, at: datetime.datetime, transit: Transit, round_: int) -> str:
    return f"CL-{customs.country}-{at.year}-{transit.pk:06d}-{round_}"


def _detail(claim: Claim, *extra: str) -> str:
    return " — ".join(p for p in (claim.number, claim.transit.declaration_ref, *extra) if p)


def _notify(*, event: str, claim: Claim, detail: str, bank: bool = False, customs: bool = False,
            principal: bool = False, secretariat: bool = False, exclude=None, bank_permission: str | None = None):
    """Tell the parties of a claim, each pointing at the claim's page."""
    guarantee, transit = claim.guarantee, claim.transit
    about = (NoticeAbout.CLAIM, claim.pk)
    recipients = []
    if bank:
        recipients.append((guarantee.bank.organisation, bank_permission))
    if customs:
        recipients.append((claim.customs, "claim.view"))
    if principal:
        recipients.append((guarantee.principal, None))
    if secretariat:
        from accounts.models import Organisation

        secretariats = Organisation.objects.filter(kind=OrganisationKind.SECRETARIAT, is_active=True)
        recipients.extend((org, "claim.view") for org in secretariats)
    for organisation, permission in recipients:
        tell(event=event, transit=transit, organisation=organisation, about=about, detail=detail,
             permission=permission, exclude=exclude)


def claim_window(*, transit: Transit) -> dict:
    """When customs may claim for ``transit``: ``notice`` (the open enquiry, if any), ``earliest`` and
    ``latest`` instants. For pages; ``claim_issue`` enforces the same rule."""
    notice = Enquiry.objects.filter(transit=transit, status__in=OPEN_ENQUIRY_STATUSES).order_by("opened_at").first()
    earliest = notice.opened_at + datetime.timedelta(days=settings.REGISTRY_CLAIM_WAITING_DAYS) if notice else None
    return {"notice": notice, "earliest": earliest, "latest": _final_limit(transit)}


# --- Issue --------------------------------------------------------------------------------------------

def claim_issue(*, transit: Transit, by, grounds: str, amount: int | None = None, now=None) -> Claim:
    """A customs supervisor of a country on the route claims (by default everything held for the transit).
    The amount moves from held to claimed; the bank's examination period starts."""
    require_customs_on_route(by, "claim.issue", transit)
    grounds = (grounds or "").strip()
    if not grounds:
        raise ReasonRequired(_("State the grounds of the claim."))
    if amount is not None:
        amount = _whole(amount)
    now = now or timezone.now()
    if transit.hold_id is None:
        raise InvalidTransition(_("Nothing is held for this transit."))
    with transaction.atomic():
        guarantee = Guarantee.objects.select_for_update(of=("self",)).select_related("bank__organisation").get(
            pk=transit.guarantee_id
        )
        hold = Hold.objects.select_for_update().get(pk=transit.hold_id)
        locked = Transit.objects.select_for_update().get(pk=transit.pk)
        if locked.status not in OPEN_TRANSIT_STATUSES:
            raise InvalidTransition(status=locked.status)
        if hold.status != HoldStatus.HELD or hold.amount <= 0:
            raise InvalidTransition(status=hold.status)
        window = claim_window(transit=locked)
        if window["notice"] is None:
            raise NoticeRequired()
        if now < window["earliest"]:
            raise ClaimTooEarly(earliest=window["earliest"].date().isoformat())
        if now > window["latest"]:
            raise ClaimTooLate(latest=window["latest"].date().isoformat())
        amount = hold.amount if amount is None else amount
        if amount > hold.amount:
            raise ClaimAboveHeld(held=hold.amount, amount=amount)
        due, deadline = _examination(guarantee, now)
        customs = by.organisation
        claim = Claim.objects.create(
            number=_number(customs=customs, at=now, transit=locked, round_=1), transit=locked, guarantee=guarantee,
            hold=hold, enquiry=window["notice"], customs=customs, amount=amount, grounds=grounds, issued_by=by,
            issued_at=now, examination_due=due, examination_deadline=deadline,
        )
        ledger_append(guarantee=guarantee, kind=EntryKind.CLAIM, d_held=-amount, d_claimed=amount, hold=hold,
                      reference=claim.number, by=by)
        hold.amount -= amount
        hold.claimed_amount += amount
        hold.status = HoldStatus.CLAIMED
        hold.save(update_fields=["amount", "claimed_amount", "status"])
        locked.status = TransitStatus.CLAIMED
        locked.save(update_fields=["status"])
        close_open_enquiries(transit=locked, outcome=EnquiryOutcome.CLAIMED, by=by)
        case_event(transit=locked, action=CaseAction.CLAIM_ISSUED, by=by, claim=claim, comment=grounds, at=now)
        detail = _detail(claim, due.strftime("%d/%m/%Y"))
        _notify(event="claim_issued", claim=claim, detail=detail, bank=True, principal=True)
    return claim


# --- The bank ------------------------------------------------------------------------------------------

def claim_examine(*, claim: Claim, by) -> Claim:
    """A maker or checker of the guarantor bank acknowledges the claim: it is under examination."""
    _require_bank(by, "claim.answer" if by.can("claim.answer") else "claim.prepare", claim)
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        if locked.status != ClaimStatus.ISSUED:
            return locked
        _start_examination(locked, by)
    return locked


def _start_examination(claim: Claim, by) -> None:
    if claim.status == ClaimStatus.ISSUED:
        claim.status = ClaimStatus.UNDER_EXAMINATION
        claim.examination_started_at = timezone.now()
        claim.save(update_fields=["status", "examination_started_at"])
        case_event(transit=claim.transit, action=CaseAction.CLAIM_EXAMINED, by=by, claim=claim)


def _clean_discrepancies(discrepancies) -> list[str]:
    if isinstance(discrepancies, str):
        discrepancies = discrepancies.splitlines()
    return [line.strip() for line in discrepancies or [] if line and line.strip()]


def claim_prepare(*, claim: Claim, by, decision: str, amount: int | None = None, discrepancies=(),
                  comment: str = "") -> Claim:
    """The bank's maker prepares the answer (pay an amount, or reject with the discrepancies) for a checker."""
    _require_bank(by, "claim.prepare", claim)
    if decision not in ClaimDecision.values:
        raise InvalidTransition(_("Unknown decision."))
    discrepancies = _clean_discrepancies(discrepancies)
    if decision == ClaimDecision.PAY:
        amount = _whole(amount if amount is not None else claim.amount)
        if amount > claim.amount:
            raise PaymentAboveClaim()
        discrepancies = []
    else:
        amount = None
        if not discrepancies:
            raise ReasonRequired(_("List every discrepancy, one per line."))
    with transaction.atomic():
        locked = Claim.objects.select_for_update(of=("self",)).select_related("transit").get(pk=claim.pk)
        if locked.status not in AWAITING_BANK_STATUSES:
            raise InvalidTransition(status=locked.status)
        _start_examination(locked, by)
        locked.prepared_by = by
        locked.prepared_at = timezone.now()
        locked.proposed_decision = decision
        locked.proposed_amount = amount
        locked.proposed_discrepancies = discrepancies
        locked.maker_comment = (comment or "").strip()
        locked.save(update_fields=["prepared_by", "prepared_at", "proposed_decision", "proposed_amount",
                                   "proposed_discrepancies", "maker_comment"])
        case_event(transit=locked.transit, action=CaseAction.CLAIM_PREPARED, by=by, claim=locked,
                   comment=f"{ClaimDecision(decision).label} {format_fcfa(amount) if amount else ''}".strip())
        _notify(event="claim_prepared", claim=locked, detail=_detail(locked), bank=True,
                bank_permission="claim.answer", exclude=by)
    return locked


def claim_pay(*, claim: Claim, by, amount: int, payment_reference: str, payment_date: datetime.date) -> Claim:
    """The guarantor bank's checker records the payment, in full or in part. The paid amount consumes the
    guarantee (until an amendment reinstates it); the rest of the claim and of the hold are released."""
    _require_bank(by, "claim.answer", claim)
    amount = _whole(amount)
    payment_reference = (payment_reference or "").strip()
    if not payment_reference or payment_date is None:
        raise ReasonRequired(_("Give the payment reference and the payment date."))
    with transaction.atomic():
        guarantee, hold, transit, locked = _lock_case(claim)
        if locked.status == ClaimStatus.PAID:
            return locked
        if locked.status not in AWAITING_BANK_STATUSES:
            raise InvalidTransition(status=locked.status)
        if locked.prepared_by_id == by.pk:
            raise SameMakerAndChecker()
        if amount > locked.amount:
            raise PaymentAboveClaim(amount=amount, claimed=locked.amount)
        if payment_date > local_date(country=guarantee.bank.organisation.country, at=timezone.now()):
            raise InvalidTransition(_("The payment date cannot be in the future."))
        if hold.claimed_amount != locked.amount:  # the hold carries exactly the open claim
            raise InvalidTransition(status=hold.status)
        ledger_append(guarantee=guarantee, kind=EntryKind.PAYMENT, d_claimed=-amount, d_paid=amount, hold=hold,
                      reference=f"{locked.number} {payment_reference}"[:100], by=by)
        unpaid, still_held = hold.claimed_amount - amount, hold.amount
        if unpaid or still_held:
            ledger_append(guarantee=guarantee, kind=EntryKind.RELEASE, d_claimed=-unpaid, d_held=-still_held,
                          hold=hold, reference=f"{locked.number} settled"[:100], by=by)
        hold.amount = 0
        hold.claimed_amount = 0
        hold.paid_amount += amount
        hold.status = HoldStatus.PAID
        hold.closed_at = timezone.now()
        hold.save(update_fields=["amount", "claimed_amount", "paid_amount", "status", "closed_at"])
        transit.status = TransitStatus.SETTLED
        transit.save(update_fields=["status"])
        _start_examination(locked, by)
        locked.status = ClaimStatus.PAID
        locked.paid_amount = amount
        locked.payment_reference = payment_reference
        locked.payment_date = payment_date
        locked.answered_by = by
        locked.answered_at = timezone.now()
        locked.save(update_fields=["status", "paid_amount", "payment_reference", "payment_date", "answered_by",
                                   "answered_at"])
        case_event(transit=transit, action=CaseAction.CLAIM_PAID, by=by, claim=locked,
                   comment=f"{format_fcfa(amount)} / {format_fcfa(locked.amount)} — {payment_reference}")
        _close_guarantee_if_settled(guarantee, by=by)
        _notify(event="claim_paid", claim=locked, detail=_detail(locked, payment_reference), customs=True,
                principal=True)
    return locked


def claim_reject(*, claim: Claim, by, discrepancies, now=None) -> Claim:
    """The guarantor bank's checker rejects, once, in one notice listing every discrepancy. Nothing moves: the
    amount stays claimed until customs reissue or withdraw."""
    _require_bank(by, "claim.answer", claim)
    discrepancies = _clean_discrepancies(discrepancies)
    if not discrepancies:
        raise ReasonRequired(_("List every discrepancy, one per line."))
    now = now or timezone.now()
    with transaction.atomic():
        locked = Claim.objects.select_for_update(of=("self",)).select_related("transit").get(pk=claim.pk)
        if locked.status == ClaimStatus.REJECTED:
            return locked
        if locked.status not in AWAITING_BANK_STATUSES:
            raise InvalidTransition(status=locked.status)
        if locked.prepared_by_id == by.pk:
            raise SameMakerAndChecker()
        if now >= locked.examination_deadline:
            raise ExaminationPeriodOver()
        _start_examination(locked, by)
        locked.status = ClaimStatus.REJECTED
        locked.discrepancies = discrepancies
        locked.answered_by = by
        locked.answered_at = now
        locked.save(update_fields=["status", "discrepancies", "answered_by", "answered_at"])
        case_event(transit=locked.transit, action=CaseAction.CLAIM_REJECTED, by=by, claim=locked,
                   comment="\n".join(discrepancies), at=now)
        _notify(event="claim_rejected", claim=locked, detail=_detail(locked), customs=True, principal=True)
    return locked


# --- Customs after a rejection -------------------------------------------------------------------------

def claim_reissue(*, claim: Claim, by, grounds: str = "", amount: int | None = None, now=None) -> Claim:
    """Customs of the claiming administration present the claim again after a rejection (corrected). The
    rejected claim becomes ``reissued``; the new one has a new examination period. Returns the new claim."""
    _require_claiming_customs(by, claim)
    if amount is not None:
        amount = _whole(amount)
    now = now or timezone.now()
    with transaction.atomic():
        guarantee, hold, transit, locked = _lock_case(claim)
        if locked.status == ClaimStatus.REISSUED:
            return locked.reissue
        if locked.status != ClaimStatus.REJECTED:
            raise InvalidTransition(status=locked.status)
        if now > _final_limit(transit):
            raise ClaimTooLate(latest=_final_limit(transit).date().isoformat())
        amount = locked.amount if amount is None else amount
        if amount > hold.claimed_amount + hold.amount:
            raise ClaimAboveHeld(held=hold.claimed_amount + hold.amount, amount=amount)
        difference = amount - hold.claimed_amount
        round_ = locked.round + 1
        number = _number(customs=locked.customs, at=now, transit=transit, round_=round_)
        if difference > 0:
            ledger_append(guarantee=guarantee, kind=EntryKind.CLAIM, d_held=-difference, d_claimed=difference,
                          hold=hold, reference=number, by=by)
        elif difference < 0:
            ledger_append(guarantee=guarantee, kind=EntryKind.CLAIM_WITHDRAWN, d_held=-difference,
                          d_claimed=difference, hold=hold, reference=number, by=by)
        hold.amount -= difference
        hold.claimed_amount += difference
        hold.save(update_fields=["amount", "claimed_amount"])
        locked.status = ClaimStatus.REISSUED
        locked.save(update_fields=["status"])
        due, deadline = _examination(guarantee, now)
        new = Claim.objects.create(
            number=number, transit=transit, guarantee=guarantee, hold=hold, enquiry=locked.enquiry, previous=locked,
            round=round_, customs=locked.customs, amount=amount, grounds=(grounds or "").strip() or locked.grounds,
            issued_by=by, issued_at=now, examination_due=due, examination_deadline=deadline,
        )
        case_event(transit=transit, action=CaseAction.CLAIM_REISSUED, by=by, claim=new, at=now,
                   comment=(grounds or "").strip())
        _notify(event="claim_issued", claim=new, detail=_detail(new, due.strftime("%d/%m/%Y")), bank=True,
                principal=True)
    return new


def claim_withdraw(*, claim: Claim, by, reason: str) -> Claim:
    """Customs of the claiming administration withdraw the claim: what was claimed and what was still held are
    released, the hold closes as ``withdrawn`` and the transit is settled."""
    _require_claiming_customs(by, claim)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    with transaction.atomic():
        guarantee, hold, transit, locked = _lock_case(claim)
        if locked.status == ClaimStatus.WITHDRAWN:
            return locked
        if locked.status not in OPEN_CLAIM_STATUSES:
            raise InvalidTransition(status=locked.status)
        claimed, still_held = hold.claimed_amount, hold.amount
        if claimed:
            ledger_append(guarantee=guarantee, kind=EntryKind.CLAIM_WITHDRAWN, d_claimed=-claimed, hold=hold,
                          reference=locked.number, by=by)
        if still_held:
            ledger_append(guarantee=guarantee, kind=EntryKind.RELEASE, d_held=-still_held, hold=hold,
                          reference=f"{locked.number} withdrawn"[:100], by=by)
        hold.amount = 0
        hold.claimed_amount = 0
        hold.status = HoldStatus.WITHDRAWN
        hold.closed_at = timezone.now()
        hold.save(update_fields=["amount", "claimed_amount", "status", "closed_at"])
        transit.status = TransitStatus.SETTLED
        transit.save(update_fields=["status"])
        locked.status = ClaimStatus.WITHDRAWN
        locked.withdrawn_by = by
        locked.withdrawn_at = timezone.now()
        locked.withdrawal_reason = reason
        locked.save(update_fields=["status", "withdrawn_by", "withdrawn_at", "withdrawal_reason"])
        case_event(transit=transit, action=CaseAction.CLAIM_WITHDRAWN, by=by, claim=locked, comment=reason)
        _close_guarantee_if_settled(guarantee, by=by)
        _notify(event="claim_withdrawn", claim=locked, detail=_detail(locked), bank=True, principal=True)
    return locked


def _close_guarantee_if_settled(guarantee: Guarantee, *, by=None) -> None:
    from guarantees.services.guarantees import guarantee_close_if_settled_locked

    guarantee_close_if_settled_locked(guarantee, by=by)


# --- Sweep ---------------------------------------------------------------------------------------------

def claims_flag_overdue(*, now=None, batch: int = 200) -> int:
    """Flag the claims left unanswered past their examination deadline, once each, and tell the claiming
    customs and the secretariat. Safe to run twice and side by side (``skip_locked``). Returns how many."""
    from guarantees.selectors.claims import claims_overdue

    now = now or timezone.now()
    flagged = 0
    with transaction.atomic():
        rows = list(
            claims_overdue(now=now).filter(overdue_flagged_at__isnull=True)
            .select_for_update(skip_locked=True, of=("self",)).order_by("examination_deadline", "pk")[:batch]
        )
        for claim in rows:
            claim.overdue_flagged_at = now
            claim.save(update_fields=["overdue_flagged_at"])
            case_event(transit=claim.transit, action=CaseAction.CLAIM_OVERDUE, claim=claim, at=now,
                       comment=claim.examination_due.isoformat())
            _notify(event="claim_overdue", claim=claim, detail=_detail(claim, claim.examination_due.isoformat()),
                    customs=True, secretariat=True)
            flagged += 1
    return flagged
