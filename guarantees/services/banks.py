"""Approving guarantor banks and keeping their exposure ceilings (the secretariat's work)."""

from django.db import transaction
from django.utils import timezone

from accounts.roles import OrganisationKind
from guarantees.errors import InvalidAmount, NotAllowed
from guarantees.limits import DB_AMOUNT_MAX
from guarantees.models import Bank, BankCeilingChange


def _require_secretariat(by) -> None:
    if not (by.can("bank.approve") or by.is_superuser):
        raise NotAllowed()


def bank_approve(*, organisation, exposure_ceiling: int, by, approval_reference: str = "") -> Bank:
    _require_secretariat(by)
    if organisation.kind != OrganisationKind.BANK:
        raise NotAllowed()
    if isinstance(exposure_ceiling, bool) or not isinstance(exposure_ceiling, int) or not 0 <= exposure_ceiling <= DB_AMOUNT_MAX:
        raise InvalidAmount()
    with transaction.atomic():
        bank, _ = Bank.objects.select_for_update().get_or_create(
            organisation=organisation, defaults={"exposure_ceiling": exposure_ceiling}
        )
        previous = bank.exposure_ceiling if bank.is_approved else None
        bank.exposure_ceiling = exposure_ceiling
        bank.is_approved = True
        bank.approved_at = timezone.now()
        bank.approved_by = by
        bank.approval_reference = approval_reference
        bank.save()
        BankCeilingChange.objects.create(
            bank=bank, previous_ceiling=previous, new_ceiling=exposure_ceiling, reason=approval_reference, changed_by=by
        )
    return bank


def bank_set_ceiling(*, bank: Bank, exposure_ceiling: int, by, reason: str = "") -> Bank:
    """Raise or lower the ceiling. A ceiling below the current exposure is allowed: it only stops new
    confirmations and increases until the exposure is back under it."""
    _require_secretariat(by)
    if isinstance(exposure_ceiling, bool) or not isinstance(exposure_ceiling, int) or not 0 <= exposure_ceiling <= DB_AMOUNT_MAX:
        raise InvalidAmount()
    with transaction.atomic():
        locked = Bank.objects.select_for_update().get(pk=bank.pk)
        previous = locked.exposure_ceiling
        if previous == exposure_ceiling:
            return locked
        locked.exposure_ceiling = exposure_ceiling
        locked.save(update_fields=["exposure_ceiling", "updated_at"])
        BankCeilingChange.objects.create(
            bank=locked, previous_ceiling=previous, new_ceiling=exposure_ceiling, reason=reason, changed_by=by
        )
    return locked


def bank_revoke(*, bank: Bank, by, reason: str = "") -> Bank:
    """Withdraw the approval: existing guarantees stay, no new confirmation."""
    _require_secretariat(by)
    with transaction.atomic():
        locked = Bank.objects.select_for_update().get(pk=bank.pk)
        locked.is_approved = False
        locked.save(update_fields=["is_approved", "updated_at"])
        BankCeilingChange.objects.create(
            bank=locked, previous_ceiling=locked.exposure_ceiling, new_ceiling=locked.exposure_ceiling,
            reason=reason or "approval withdrawn", changed_by=by,
        )
    return locked
