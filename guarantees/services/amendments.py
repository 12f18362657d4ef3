"""Amendments: increase, decrease or extend a live guarantee, through the bank's maker and checker again.

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
    _check_terms,
    _require,
    _after_commit_version,
    guarantee_event,
)
from guarantees.services.ledger import ledger_append
from guarantees.services.notifications import notify

AMENDABLE = (GuaranteeStatus.ACTIVE, GuaranteeStatus.SUSPENDED)
A = AmendmentStatus


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
    _check_terms(new_amount, guarantee.valid_from, new_valid_until)
    with transaction.atomic():
        locked = Guarantee.objects.select_for_update().get(pk=guarantee.pk)
        if locked.status not in AMENDABLE:
            raise InvalidTransition(status=locked.status)
        if locked.amendments.filter(status__in=[A.SUBMITTED, A.PREPARED]).exists():
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


def _lock_amendment(amendment: Amendment) -> tuple[Guarantee, Amendment]:
    guarantee = Guarantee.objects.select_for_update().get(pk=amendment.guarantee_id)
    return guarantee, Amendment.objects.select_for_update().get(pk=amendment.pk)


def amendment_prepare(*, amendment: Amendment, by, new_amount: int | None = None,
                      new_valid_until: datetime.date | None = None, comment: str = "") -> Amendment:
    _require(by, "amendment.prepare", amendment.guarantee.bank.organisation)
    with transaction.atomic():
        guarantee, locked = _lock_amendment(amendment)
        if locked.status != A.SUBMITTED:
            raise InvalidTransition(status=locked.status)
        amount = locked.new_amount if new_amount is None else new_amount
        until = locked.new_valid_until if new_valid_until is None else new_valid_until
        _check_terms(amount, guarantee.valid_from, until)
        _check_not_below(guarantee, amount)
        locked.new_amount = amount
        locked.new_valid_until = until
        locked.prepared_by = by
        locked.prepared_at = timezone.now()
        locked.maker_comment = comment
        locked.status = A.PREPARED
        locked.save()
        guarantee_event(guarantee=guarantee, action=GuaranteeAction.AMENDMENT_PREPARED, by=by, comment=comment)
        notify(event="amendment_prepared", guarantee=guarantee, organisation=guarantee.bank.organisation,
               permission="amendment.confirm", exclude=by)
    return locked


def amendment_confirm(*, amendment: Amendment, by) -> Amendment:
    from guarantees.selectors.guarantees import bank_exposure

    _require(by, "amendment.confirm", amendment.guarantee.bank.organisation)
    with transaction.atomic():
        bank = Bank.objects.select_for_update().get(pk=amendment.guarantee.bank_id)
        guarantee, locked = _lock_amendment(amendment)
        if locked.status == A.CONFIRMED:
            return locked
        if locked.status != A.PREPARED:
            raise InvalidTransition(status=locked.status)
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
    return locked


def amendment_decline(*, amendment: Amendment, by, reason: str) -> Amendment:
    _require(by, "amendment.confirm", amendment.guarantee.bank.organisation)
    if not (reason or "").strip():
        raise ReasonRequired()
    with transaction.atomic():
        guarantee, locked = _lock_amendment(amendment)
        if locked.status == A.DECLINED:
            return locked
        if locked.status not in (A.SUBMITTED, A.PREPARED):
            raise InvalidTransition(status=locked.status)
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


def amendment_withdraw(*, amendment: Amendment, by) -> Amendment:
    _require(by, "guarantee.amend_request", amendment.guarantee.principal)
    with transaction.atomic():
        guarantee, locked = _lock_amendment(amendment)
        if locked.status == A.WITHDRAWN:
            return locked
        if locked.status not in (A.SUBMITTED, A.PREPARED):
            raise InvalidTransition(status=locked.status)
        locked.status = A.WITHDRAWN
        locked.save(update_fields=["status"])
        guarantee_event(guarantee=guarantee, action=GuaranteeAction.AMENDMENT_WITHDRAWN, by=by)
    return locked
