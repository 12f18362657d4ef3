"""The life of a guarantee: request, bank review by a maker and a different checker (who decides on exactly the
preparation she was shown), customs acceptance, suspension, cancellation, expiry and closure.

Every transition has one shape: lock the row, re-check the status, return quietly when the transition is
already done (a replay changes nothing), change the row, append an audit event, and queue notifications for
after the commit. Who may act is checked here too, against the acting user's organisation and role.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import OrganisationKind
from guarantees.errors import (
    CeilingExceeded,
    InvalidAmount,
    InvalidTransition,
    NotAllowed,
    ReasonRequired,
    SameMakerAndChecker,
)
from guarantees.models import (
    AT_THE_BANK_STATUSES,
    Bank,
    EntryKind,
    Guarantee,
    GuaranteeAction,
    GuaranteeEvent,
    GuaranteeStatus,
    GuaranteeVersion,
)
from guarantees.limits import amount_check, validity_check
from guarantees.services.grn import guarantee_number_assign
from guarantees.queue import queue_after_commit
from guarantees.services.ledger import ledger_append
from guarantees.services.notifications import notify
from guarantees.services.status_list import status_list_changed
from guarantees.terms import PreparedTerms, guarantee_terms, terms_check

S = GuaranteeStatus


class InvalidTerms(InvalidAmount):
    code = "invalid_terms"
    default_message = _("The amount must be positive and the validity must end after it starts.")


def guarantee_event(*, guarantee: Guarantee, action: str, by=None, comment: str = "", internal: bool = False,
                    from_status: str = "", to_status: str = "") -> GuaranteeEvent:
    """Append to the trail. ``internal``: the comment is the bank's own (see ``GuaranteeEvent``)."""
    return GuaranteeEvent.objects.create(
        guarantee=guarantee, action=action, by=by, comment=comment, internal=internal, from_status=from_status,
        to_status=to_status,
    )


def _lock(guarantee: Guarantee | int) -> Guarantee:
    pk = guarantee if isinstance(guarantee, int) else guarantee.pk
    return Guarantee.objects.select_for_update().get(pk=pk)


def _require(by, permission: str, organisation) -> None:
    """``by`` holds ``permission`` and acts for ``organisation``."""
    if not by.can(permission) or by.organisation is None or by.organisation.pk != organisation.pk:
        raise NotAllowed()


def _require_customs_of(by, permission: str, guarantee: Guarantee) -> None:
    org = by.organisation
    if (
        not by.can(permission)
        or org is None
        or org.kind != OrganisationKind.CUSTOMS
        or org.country != guarantee.country_id
    ):
        raise NotAllowed()


def _check_terms(amount, valid_from: datetime.date, valid_until: datetime.date, *, today: datetime.date | None = None,
                 amount_field: str = "requested_amount") -> None:
    """The registry's bounds (``guarantees.limits``): an amount within them, a validity that ends after it starts
    and is not too long, and, given ``today`` (a request), that does not start in the past."""
    amount_check(amount, field=amount_field)
    validity_check(valid_from=valid_from, valid_until=valid_until, today=today)


def _move(guarantee: Guarantee, *, to: str, action: str, by, comment: str = "", internal: bool = False,
          fields: tuple = ()) -> None:
    previous = guarantee.status
    guarantee.status = to
    guarantee.save(update_fields=["status", "updated_at", *fields])
    guarantee_event(guarantee=guarantee, action=action, by=by, comment=comment, internal=internal,
                    from_status=previous, to_status=to)
    if to in _LISTED or previous in _LISTED:
        status_list_changed()  # a border post's list must say so within minutes, not at the next hourly refresh


# Statuses the offline status list shows (an activation adds a valid entry: zeros, nothing to publish).
_LISTED = (S.SUSPENDED, S.EXPIRED, S.CANCELLED, S.CLOSED)


# --- The forwarder's request -------------------------------------------------------------------------

def guarantee_request(*, principal, bank: Bank, requested_amount: int, valid_from: datetime.date,
                      valid_until: datetime.date, purpose: str = "", by, submit: bool = False) -> Guarantee:
    _require(by, "guarantee.request", principal)
    _check_terms(requested_amount, valid_from, valid_until, today=timezone.localdate())
    if not bank.is_approved:
        raise NotAllowed(_("This bank is not an approved guarantor."))
    with transaction.atomic():
        guarantee = Guarantee.objects.create(
            principal=principal, bank=bank, country_id=principal.country, requested_amount=requested_amount,
            valid_from=valid_from, valid_until=valid_until, purpose=purpose, requested_by=by,
            low_balance_pct=settings.REGISTRY_LOW_BALANCE_PCT,
        )
        guarantee_event(guarantee=guarantee, action=GuaranteeAction.CREATED, by=by, to_status=S.DRAFT)
    if submit:
        guarantee = guarantee_submit(guarantee=guarantee, by=by)
    return guarantee


def guarantee_update_draft(*, guarantee: Guarantee, by, bank: Bank, requested_amount: int,
                           valid_from: datetime.date, valid_until: datetime.date, purpose: str = "") -> Guarantee:
    _require(by, "guarantee.request", guarantee.principal)
    _check_terms(requested_amount, valid_from, valid_until, today=timezone.localdate())
    with transaction.atomic():
        locked = _lock(guarantee)
        if locked.status != S.DRAFT:
            raise InvalidTransition(status=locked.status)
        if not bank.is_approved:
            raise NotAllowed(_("This bank is not an approved guarantor."))
        locked.bank = bank
        locked.requested_amount = requested_amount
        locked.valid_from = valid_from
        locked.valid_until = valid_until
        locked.purpose = purpose
        locked.save()
    return locked


def guarantee_submit(*, guarantee: Guarantee, by) -> Guarantee:
    _require(by, "guarantee.request", guarantee.principal)
    with transaction.atomic():
        locked = _lock(guarantee)
        if locked.status in AT_THE_BANK_STATUSES:
            return locked
        if locked.status != S.DRAFT:
            raise InvalidTransition(status=locked.status)
        locked.submitted_at = timezone.now()
        _move(locked, to=S.SUBMITTED, action=GuaranteeAction.SUBMITTED, by=by, fields=("submitted_at",))
        notify(event="guarantee_submitted", guarantee=locked, organisation=locked.bank.organisation,
               permission="guarantee.prepare")
    return locked


def guarantee_withdraw(*, guarantee: Guarantee, by, reason: str = "") -> Guarantee:
    """The principal withdraws its request, until the bank's checker has confirmed it: a preparation is the
    bank's work in progress, not a commitment, so a prepared request may still be withdrawn."""
    _require(by, "guarantee.request", guarantee.principal)
    with transaction.atomic():
        locked = _lock(guarantee)
        if locked.status == S.WITHDRAWN:
            return locked
        if locked.status not in (S.DRAFT, *AT_THE_BANK_STATUSES):
            raise InvalidTransition(status=locked.status)
        was_submitted = locked.status in AT_THE_BANK_STATUSES
        locked.status_reason = reason
        _move(locked, to=S.WITHDRAWN, action=GuaranteeAction.WITHDRAWN, by=by, comment=reason,
              fields=("status_reason",))
        if was_submitted:
            notify(event="guarantee_withdrawn", guarantee=locked, organisation=locked.bank.organisation,
                   permission="guarantee.prepare")
    return locked


# --- The bank: a maker prepares, a different checker confirms, declines or sends back ---------------------
#
# Each preparation is numbered; the checker decides on the one her page showed (``expected``, compared under
# the row lock by ``terms_check``), never on one prepared after she opened the page.

def _preparation_note(amount: int, new_amount: int, until: datetime.date, new_until: datetime.date,
                      comment: str) -> str:
    """The bank-internal note of a preparation (of a request or of an amendment): what the maker changed from
    what was asked, then her comment."""
    changes = []
    if new_amount != amount:
        changes.append(f"{amount} → {new_amount} FCFA")
    if new_until != until:
        changes.append(f"{until.isoformat()} → {new_until.isoformat()}")
    return "; ".join([*changes, comment] if comment else changes)


def _mark_prepared(row, *, by, comment: str) -> None:
    """A new preparation on a locked request or amendment: numbered, so a checker's page bound to an earlier one
    no longer decides it."""
    row.prepared_by = by
    row.prepared_at = timezone.now()
    row.maker_comment = comment
    row.preparation += 1


def guarantee_prepare(*, guarantee: Guarantee, by, amount: int | None = None,
                      valid_until: datetime.date | None = None, comment: str = "",
                      expected: PreparedTerms | None = None) -> Guarantee:
    """A maker prepares the request, or revises a preparation not yet decided (a new preparation, which the
    checker must see before she can confirm it). ``expected``: the preparation the maker's page showed."""
    _require(by, "guarantee.prepare", guarantee.bank.organisation)
    with transaction.atomic():
        locked = _lock(guarantee)
        if locked.status not in AT_THE_BANK_STATUSES:
            raise InvalidTransition(status=locked.status)
        if expected is not None:
            _check_shown(locked, expected)
        new_amount = locked.requested_amount if amount is None else amount
        new_until = locked.valid_until if valid_until is None else valid_until
        _check_terms(new_amount, locked.valid_from, new_until, amount_field="amount")
        note = _preparation_note(locked.requested_amount, new_amount, locked.valid_until, new_until, comment)
        previous = locked.status
        locked.requested_amount = new_amount
        locked.valid_until = new_until
        _mark_prepared(locked, by=by, comment=comment)
        locked.status = S.PREPARED
        locked.save()
        guarantee_event(guarantee=locked, action=GuaranteeAction.PREPARED, by=by, comment=note, internal=True,
                        from_status=previous, to_status=S.PREPARED)
        notify(event="guarantee_prepared", guarantee=locked, organisation=locked.bank.organisation,
               permission="guarantee.confirm", exclude=by)
    return locked


def _check_shown(locked: Guarantee, expected: PreparedTerms) -> None:
    terms_check(shown=expected, current=guarantee_terms(locked), maker=locked.prepared_by, country=locked.country)


def guarantee_confirm(*, guarantee: Guarantee, by, expected: PreparedTerms) -> Guarantee:
    """The checker confirms the preparation her page showed (``expected``); the bank's ceiling must hold.
    Locks the bank row so two checkers racing for the last room under the ceiling cannot both succeed."""
    from guarantees.selectors.guarantees import bank_exposure

    _require(by, "guarantee.confirm", guarantee.bank.organisation)
    with transaction.atomic():
        bank = Bank.objects.select_for_update().get(pk=guarantee.bank_id)
        locked = _lock(guarantee)
        if (locked.status == S.BANK_CONFIRMED and locked.confirmed_by_id == by.pk
                and guarantee_terms(locked) == expected):
            return locked
        if locked.status != S.PREPARED:
            raise InvalidTransition(status=locked.status)
        _check_shown(locked, expected)
        if locked.prepared_by_id == by.pk:
            raise SameMakerAndChecker()
        if not bank.is_approved:
            raise NotAllowed(_("This bank is not an approved guarantor."))
        exposure = bank_exposure(bank=bank)
        if exposure + locked.requested_amount > bank.exposure_ceiling:
            raise CeilingExceeded(
                ceiling=bank.exposure_ceiling, exposure=exposure, amount=locked.requested_amount,
                room=max(bank.exposure_ceiling - exposure, 0),
            )
        locked.confirmed_by = by
        locked.confirmed_at = timezone.now()
        _move(locked, to=S.BANK_CONFIRMED, action=GuaranteeAction.CONFIRMED, by=by,
              fields=("confirmed_by", "confirmed_at"))
        notify(event="guarantee_confirmed", guarantee=locked, organisation=locked.principal)
        if locked.country_id in settings.REGISTRY_AUTO_ACCEPT_COUNTRIES:
            return _activate(locked, by=None, comment=str(_("Accepted automatically")))
        from accounts.models import Organisation

        customs = Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country=locked.country_id).first()
        if customs is not None:
            notify(event="guarantee_to_accept", guarantee=locked, organisation=customs, permission="guarantee.accept")
    return locked


def guarantee_decline(*, guarantee: Guarantee, by, reason: str, expected: PreparedTerms) -> Guarantee:
    """The checker declines the request as her page showed it (prepared or not yet); the principal is told
    why."""
    _require(by, "guarantee.decline", guarantee.bank.organisation)
    if not (reason or "").strip():
        raise ReasonRequired()
    with transaction.atomic():
        locked = _lock(guarantee)
        if locked.status == S.DECLINED:
            return locked
        if locked.status not in AT_THE_BANK_STATUSES:
            raise InvalidTransition(status=locked.status)
        _check_shown(locked, expected)
        if locked.prepared_by_id == by.pk:
            raise SameMakerAndChecker()
        locked.decline_reason = reason
        _move(locked, to=S.DECLINED, action=GuaranteeAction.DECLINED, by=by, comment=reason,
              fields=("decline_reason",))
        notify(event="guarantee_declined", guarantee=locked, organisation=locked.principal, reason=reason)
    return locked


def guarantee_send_back(*, guarantee: Guarantee, by, reason: str, expected: PreparedTerms) -> Guarantee:
    """The checker sends the preparation her page showed back to the makers, saying why (inside the bank): the
    request waits for a new preparation, and no page opened on the old one can confirm anything."""
    _require(by, "guarantee.confirm", guarantee.bank.organisation)
    if not (reason or "").strip():
        raise ReasonRequired()
    with transaction.atomic():
        locked = _lock(guarantee)
        if locked.status == S.SUBMITTED and locked.preparation == expected.preparation:
            return locked  # sent back already, and not prepared again since
        if locked.status != S.PREPARED:
            raise InvalidTransition(status=locked.status)
        _check_shown(locked, expected)
        if locked.prepared_by_id == by.pk:
            raise SameMakerAndChecker()
        locked.prepared_by = None
        locked.prepared_at = None
        locked.maker_comment = ""
        _move(locked, to=S.SUBMITTED, action=GuaranteeAction.SENT_BACK, by=by, comment=reason, internal=True,
              fields=("prepared_by", "prepared_at", "maker_comment"))
        notify(event="guarantee_sent_back", guarantee=locked, organisation=locked.bank.organisation,
               permission="guarantee.prepare", exclude=by, reason=reason)
    return locked


# --- Customs ---------------------------------------------------------------------------------------

def guarantee_accept(*, guarantee: Guarantee, by) -> Guarantee:
    """Customs of the principal's country accept: the guarantee becomes active, gets its GRN, its first
    version and its opening ledger entry. No access code is issued here: the customs officer must never see
    one, so the principal generates its first code itself (``access_code_issue``), shown to it once."""
    _require_customs_of(by, "guarantee.accept", guarantee)
    with transaction.atomic():
        locked = _lock(guarantee)
        if locked.status == S.ACTIVE and locked.accepted_by_id == by.pk:
            return locked
        if locked.status != S.BANK_CONFIRMED:
            raise InvalidTransition(status=locked.status)
        return _activate(locked, by=by)


def _activate(locked: Guarantee, *, by, comment: str = "") -> Guarantee:
    now = timezone.now()
    # A random serial, never the primary key: the public verification page shows whoever has the number.
    guarantee_number_assign(guarantee=locked, year=now.year)
    locked.accepted_by = by
    locked.activated_at = now
    locked.version = 1
    _move(locked, to=S.ACTIVE, action=GuaranteeAction.ACCEPTED, by=by, comment=comment,
          fields=("grn", "accepted_by", "activated_at", "version"))
    ledger_append(guarantee=locked, kind=EntryKind.OPENING, d_amount=locked.requested_amount,
                  reference=locked.grn, by=by)
    GuaranteeVersion.objects.create(
        guarantee=locked, number=1, amount=locked.amount, valid_from=locked.valid_from, valid_until=locked.valid_until
    )
    notify(event="guarantee_active", guarantee=locked, organisation=locked.principal)
    notify(event="guarantee_active", guarantee=locked, organisation=locked.bank.organisation)
    _after_commit_version(locked)
    return locked


def _after_commit_version(guarantee: Guarantee) -> None:
    """A new version exists (activation, amendment): its certificates are rendered once this commits. In-process
    (the embedded default) a failure is logged, never turned into an error after the decision has committed; the
    download renders a missing certificate again."""
    queue_after_commit("guarantees.tasks.render_certificates", guarantee_id=guarantee.pk, number=guarantee.version)


def _customs_decision(*, guarantee: Guarantee, by, permission: str, reason: str, to: str, frm: tuple,
                      done: tuple, action: str, event: str, check=None) -> Guarantee:
    """A decision of the customs of the guarantee's country, with its reason: under the guarantee's lock, from
    one of ``frm`` to ``to``; already in one of ``done``, it changes nothing (a repeated click). ``check`` may
    refuse on the locked row. The principal and the bank are told."""
    _require_customs_of(by, permission, guarantee)
    if not (reason or "").strip():
        raise ReasonRequired()
    with transaction.atomic():
        locked = _lock(guarantee)
        if locked.status in done:
            return locked
        if locked.status not in frm:
            raise InvalidTransition(status=locked.status)
        if check is not None:
            check(locked)
        locked.status_reason = reason
        _move(locked, to=to, action=action, by=by, comment=reason, fields=("status_reason",))
        notify(event=event, guarantee=locked, organisation=locked.principal)
        notify(event=event, guarantee=locked, organisation=locked.bank.organisation)
        if to == S.CANCELLED:
            guarantee_close_if_settled_locked(locked, by=by)
    return locked


def guarantee_suspend(*, guarantee: Guarantee, by, reason: str) -> Guarantee:
    """Suspend (customs supervisor of the country): no new hold until reactivated; holds in place stay."""
    return _customs_decision(
        guarantee=guarantee, by=by, permission="guarantee.suspend", reason=reason, to=S.SUSPENDED,
        frm=(S.ACTIVE,), done=(S.SUSPENDED,), action=GuaranteeAction.SUSPENDED, event="guarantee_suspended",
    )


def _still_valid(locked: Guarantee) -> None:
    if locked.valid_until < timezone.now().date():
        raise InvalidTransition(_("The validity has ended: the guarantee expires instead."))


def guarantee_reactivate(*, guarantee: Guarantee, by, reason: str) -> Guarantee:
    return _customs_decision(
        guarantee=guarantee, by=by, permission="guarantee.reactivate", reason=reason, to=S.ACTIVE,
        frm=(S.SUSPENDED,), done=(S.ACTIVE,), action=GuaranteeAction.REACTIVATED, event="guarantee_reactivated",
        check=_still_valid,
    )


def guarantee_cancel(*, guarantee: Guarantee, by, reason: str) -> Guarantee:
    """Cancel (customs supervisor of the country): no new hold; existing holds stay until released or
    claimed; closed when nothing is held or claimed any more."""
    return _customs_decision(
        guarantee=guarantee, by=by, permission="guarantee.cancel", reason=reason, to=S.CANCELLED,
        frm=(S.BANK_CONFIRMED, S.ACTIVE, S.SUSPENDED), done=(S.CANCELLED, S.CLOSED),
        action=GuaranteeAction.CANCELLED, event="guarantee_cancelled",
    )


def guarantee_expire(*, guarantee: Guarantee | int, today: datetime.date | None = None) -> Guarantee:
    """End of validity (the daily sweep): no new hold; closed at once when nothing is held or claimed."""
    today = today or timezone.now().date()
    with transaction.atomic():
        locked = _lock(guarantee)
        if locked.status not in (S.ACTIVE, S.SUSPENDED) or locked.valid_until >= today:
            return locked
        _move(locked, to=S.EXPIRED, action=GuaranteeAction.EXPIRED, by=None)
        notify(event="guarantee_expired", guarantee=locked, organisation=locked.principal)
        notify(event="guarantee_expired", guarantee=locked, organisation=locked.bank.organisation)
        guarantee_close_if_settled_locked(locked, by=None)
    return locked


def guarantee_close_if_settled_locked(guarantee: Guarantee, *, by=None) -> bool:
    """Close an expired or cancelled guarantee whose holds and claims are all settled. Row must be locked."""
    if guarantee.status in (S.EXPIRED, S.CANCELLED) and guarantee.held == 0 and guarantee.claimed == 0:
        _move(guarantee, to=S.CLOSED, action=GuaranteeAction.CLOSED, by=by)
        return True
    return False
