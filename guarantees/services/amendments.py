"""Amendments: increase, decrease or extend a live guarantee, through the bank's maker and checker again.

As for a request, each preparation is numbered and the checker decides on the one her page showed
(``guarantees.terms``): the maker may revise a preparation, the checker may send it back, and neither makes a
confirmation apply to terms the checker did not see.

A confirmed amendment moves the reference amount through the ledger (an ``increase`` or ``decrease`` entry)
and creates a new version. A decrease never goes below what is held, claimed and paid: checked here with the
figures, and enforced by the guarantee's CHECK constraint.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guarantees.errors import BelowCommitted, CeilingExceeded, InvalidTransition, ReasonRequired, SameMakerAndChecker
from guarantees.models import (
    Amendment,
    AmendmentStatus,
    Bank,
    EntryKind,
    Guarantee,
    GuaranteeAction,
    GuaranteeStatus,
    GuaranteeVersion,
)
from guarantees.services.guarantees import (
    _after_commit_version,
    _check_terms,
    _mark_prepared,
    _preparation_note,
    _require,
    guarantee_event,
)
from guarantees.services.ledger import ledger_append
from guarantees.services.notifications import notify
from guarantees.services.status_list import status_list_changed
from guarantees.terms import PreparedTerms, amendment_terms, terms_check

AMENDABLE = (GuaranteeStatus.ACTIVE, GuaranteeStatus.SUSPENDED)
A = AmendmentStatus
OPEN = (A.SUBMITTED, A.PREPARED)


def _committed(guarantee: Guarantee) -> int:
    return guarantee.held + guarantee.claimed + guarantee.paid


def _check_not_below(guarantee: Guarantee, new_amount: int) -> None:
    committed = _committed(guarantee)
    if new_amount < committed:
        raise BelowCommitted(committed=committed, held=guarantee.held, claimed=guarantee.claimed,
                             paid=guarantee.paid)


def amendment_request(*, guarantee: Guarantee, by, new_amount: int, new_valid_until: datetime.date,
                      reason: str = "") -> Amendment:
    _require(by, "guarantee.amend_request", guarantee.principal)
    _check_terms(new_amount, guarantee.valid_from, new_valid_until, amount_field="new_amount")
    with transaction.atomic():
        locked = Guarantee.objects.select_for_update().get(pk=guarantee.pk)
        if locked.status not in AMENDABLE:
            raise InvalidTransition(status=locked.status)
        if locked.amendments.filter(status__in=OPEN).exists():
            raise InvalidTransition(_("An amendment of this guarantee is already under review."))
        if new_amount == locked.amount and new_valid_until == locked.valid_until:
            raise InvalidTransition(_("The amendment changes nothing."))
        _check_not_below(locked, new_amount)
        amendment = Amendment.objects.create(
            guarantee=locked, new_amount=new_amount, new_valid_until=new_valid_until, reason=reason, requested_by=by
        )
        guarantee_event(guarantee=locked, action=GuaranteeAction.AMENDMENT_REQUESTED, by=by, comment=reason)
        notify(event="amendment_requested", guarantee=locked, organisation=locked.bank.organisation,
               permission="amendment.prepare")
    return amendment


def amendment_start_by_bank(*, guarantee: Guarantee, by, new_amount: int, new_valid_until: datetime.date,
                            letter_reference: str = "", comment: str = "") -> Amendment:
    """The bank's maker starts an amendment and prepares it at once: an extension on the bank's own decision, or
    any change of the amount (an increase, a reduction) at the principal's request by letter, whose reference is
    then required. A different checker confirms it on the same desk as any amendment (``amendment_confirm``), which
    creates the new version; the principal is told now that its bank started it, and when it is confirmed."""
    _require(by, "amendment.prepare", guarantee.bank.organisation)
    _check_terms(new_amount, guarantee.valid_from, new_valid_until, amount_field="new_amount")
    letter_reference = (letter_reference or "").strip()[:100]
    with transaction.atomic():
        locked = Guarantee.objects.select_for_update().get(pk=guarantee.pk)
        if locked.status not in AMENDABLE:
            raise InvalidTransition(status=locked.status)
        if locked.amendments.filter(status__in=OPEN).exists():
            raise InvalidTransition(_("An amendment of this guarantee is already under review."))
        if new_amount == locked.amount and new_valid_until == locked.valid_until:
            raise InvalidTransition(_("The amendment changes nothing."))
        if new_amount != locked.amount and not letter_reference:
            raise ReasonRequired(_("A change of the amount needs the principal's written request: give the "
                                   "reference of its letter."))
        if new_valid_until < locked.valid_until and not letter_reference:
            raise ReasonRequired(_("Shortening the validity needs the principal's written request: give the "
                                   "reference of its letter."))
        _check_not_below(locked, new_amount)
        amendment = Amendment(
            guarantee=locked, new_amount=new_amount, new_valid_until=new_valid_until, requested_by=by,
            initiated_by_bank=True, letter_reference=letter_reference,
            reason=str(_("At the principal's request, letter %(reference)s.") % {"reference": letter_reference}
                       if letter_reference else _("On the bank's decision.")),
        )
        _mark_prepared(amendment, by=by, comment=comment)
        amendment.status = A.PREPARED
        amendment.save()
        guarantee_event(guarantee=locked, action=GuaranteeAction.AMENDMENT_REQUESTED, by=by, comment=amendment.reason)
        note = _preparation_note(locked.amount, new_amount, locked.valid_until, new_valid_until, comment)
        guarantee_event(guarantee=locked, action=GuaranteeAction.AMENDMENT_PREPARED, by=by, comment=note,
                        internal=True)
        notify(event="amendment_prepared", guarantee=locked, organisation=locked.bank.organisation,
               permission="amendment.confirm", exclude=by)
        notify(event="amendment_started_by_bank", guarantee=locked, organisation=locked.principal,
               reason=amendment.reason)
    return amendment


def _lock_amendment(amendment: Amendment) -> tuple[Guarantee, Amendment]:
    guarantee = Guarantee.objects.select_for_update().get(pk=amendment.guarantee_id)
    return guarantee, Amendment.objects.select_for_update().get(pk=amendment.pk)


def amendment_prepare(*, amendment: Amendment, by, new_amount: int | None = None,
                      new_valid_until: datetime.date | None = None, comment: str = "",
                      expected: PreparedTerms | None = None) -> Amendment:
    """A maker prepares the amendment, or revises a preparation not yet decided (a new preparation).
    ``expected``: the preparation the maker's page showed."""
    _require(by, "amendment.prepare", amendment.guarantee.bank.organisation)
    with transaction.atomic():
        guarantee, locked = _lock_amendment(amendment)
        if locked.status not in OPEN:
            raise InvalidTransition(status=locked.status)
        if expected is not None:
            _check_shown(guarantee, locked, expected)
        amount = locked.new_amount if new_amount is None else new_amount
        until = locked.new_valid_until if new_valid_until is None else new_valid_until
        _check_terms(amount, guarantee.valid_from, until, amount_field="new_amount")
        _check_not_below(guarantee, amount)
        note = _preparation_note(locked.new_amount, amount, locked.new_valid_until, until, comment)
        locked.new_amount = amount
        locked.new_valid_until = until
        _mark_prepared(locked, by=by, comment=comment)
        locked.status = A.PREPARED
        locked.save()
        guarantee_event(guarantee=guarantee, action=GuaranteeAction.AMENDMENT_PREPARED, by=by, comment=note,
                        internal=True)
        notify(event="amendment_prepared", guarantee=guarantee, organisation=guarantee.bank.organisation,
               permission="amendment.confirm", exclude=by)
    return locked


def _check_shown(guarantee: Guarantee, locked: Amendment, expected: PreparedTerms) -> None:
    terms_check(shown=expected, current=amendment_terms(locked, guarantee), maker=locked.prepared_by,
                country=guarantee.country)


def amendment_confirm(*, amendment: Amendment, by, expected: PreparedTerms) -> Amendment:
    """The checker confirms the preparation her page showed (``expected``): the new terms take effect, through
    the ledger, as a new version."""
    from guarantees.selectors.guarantees import bank_exposure

    _require(by, "amendment.confirm", amendment.guarantee.bank.organisation)
    with transaction.atomic():
        bank = Bank.objects.select_for_update().get(pk=amendment.guarantee.bank_id)
        guarantee, locked = _lock_amendment(amendment)
        if (locked.status == A.CONFIRMED and locked.checked_by_id == by.pk
                and amendment_terms(locked, guarantee) == expected):
            return locked
        if locked.status != A.PREPARED:
            raise InvalidTransition(status=locked.status)
        _check_shown(guarantee, locked, expected)
        if locked.prepared_by_id == by.pk:
            raise SameMakerAndChecker()
        if guarantee.status not in AMENDABLE:
            raise InvalidTransition(status=guarantee.status)
        _check_not_below(guarantee, locked.new_amount)
        delta = locked.new_amount - guarantee.amount
        if delta > 0:
            exposure = bank_exposure(bank=bank)
            if exposure + delta > bank.exposure_ceiling:
                raise CeilingExceeded(ceiling=bank.exposure_ceiling, exposure=exposure, amount=delta,
                                      room=max(bank.exposure_ceiling - exposure, 0))
        locked.status = A.CONFIRMED
        locked.checked_by = by
        locked.checked_at = timezone.now()
        locked.save(update_fields=["status", "checked_by", "checked_at"])
        if delta:
            ledger_append(guarantee=guarantee, kind=EntryKind.INCREASE if delta > 0 else EntryKind.DECREASE,
                          d_amount=delta, reference=f"amendment:{locked.pk}", by=by)
        guarantee.requested_amount = locked.new_amount
        guarantee.valid_until = locked.new_valid_until
        guarantee.version += 1
        guarantee.save(update_fields=["requested_amount", "valid_until", "version", "updated_at"])
        GuaranteeVersion.objects.create(
            guarantee=guarantee, number=guarantee.version, amount=guarantee.amount,
            valid_from=guarantee.valid_from, valid_until=guarantee.valid_until, amendment=locked,
        )
        guarantee_event(guarantee=guarantee, action=GuaranteeAction.AMENDMENT_CONFIRMED, by=by)
        notify(event="amendment_confirmed", guarantee=guarantee, organisation=guarantee.principal)
        _after_commit_version(guarantee)
        status_list_changed()  # the previous version is superseded
    return locked


def amendment_decline(*, amendment: Amendment, by, reason: str, expected: PreparedTerms) -> Amendment:
    """The checker declines the amendment as her page showed it (prepared or not yet); the principal is told
    why."""
    _require(by, "amendment.confirm", amendment.guarantee.bank.organisation)
    if not (reason or "").strip():
        raise ReasonRequired()
    with transaction.atomic():
        guarantee, locked = _lock_amendment(amendment)
        if locked.status == A.DECLINED:
            return locked
        if locked.status not in OPEN:
            raise InvalidTransition(status=locked.status)
        _check_shown(guarantee, locked, expected)
        if locked.prepared_by_id == by.pk:
            raise SameMakerAndChecker()
        locked.status = A.DECLINED
        locked.checked_by = by
        locked.checked_at = timezone.now()
        locked.decline_reason = reason
        locked.save(update_fields=["status", "checked_by", "checked_at", "decline_reason"])
        guarantee_event(guarantee=guarantee, action=GuaranteeAction.AMENDMENT_DECLINED, by=by, comment=reason)
        notify(event="amendment_declined", guarantee=guarantee, organisation=guarantee.principal, reason=reason)
    return locked


def amendment_send_back(*, amendment: Amendment, by, reason: str, expected: PreparedTerms) -> Amendment:
    """The checker sends the preparation her page showed back to the makers, saying why (inside the bank)."""
    _require(by, "amendment.confirm", amendment.guarantee.bank.organisation)
    if not (reason or "").strip():
        raise ReasonRequired()
    with transaction.atomic():
        guarantee, locked = _lock_amendment(amendment)
        if locked.status == A.SUBMITTED and locked.preparation == expected.preparation:
            return locked  # sent back already, and not prepared again since
        if locked.status != A.PREPARED:
            raise InvalidTransition(status=locked.status)
        _check_shown(guarantee, locked, expected)
        if locked.prepared_by_id == by.pk:
            raise SameMakerAndChecker()
        locked.status = A.SUBMITTED
        locked.prepared_by = None
        locked.prepared_at = None
        locked.maker_comment = ""
        locked.save(update_fields=["status", "prepared_by", "prepared_at", "maker_comment"])
        guarantee_event(guarantee=guarantee, action=GuaranteeAction.AMENDMENT_SENT_BACK, by=by, comment=reason,
                        internal=True)
        notify(event="amendment_sent_back", guarantee=guarantee, organisation=guarantee.bank.organisation,
               permission="amendment.prepare", exclude=by, reason=reason)
    return locked


def amendment_withdraw(*, amendment: Amendment, by) -> Amendment:
    _require(by, "guarantee.amend_request", amendment.guarantee.principal)
    with transaction.atomic():
        guarantee, locked = _lock_amendment(amendment)
        if locked.status == A.WITHDRAWN:
            return locked
        if locked.status not in OPEN:
            raise InvalidTransition(status=locked.status)
        locked.status = A.WITHDRAWN
        locked.save(update_fields=["status"])
        guarantee_event(guarantee=guarantee, action=GuaranteeAction.AMENDMENT_WITHDRAWN, by=by)
    return locked
