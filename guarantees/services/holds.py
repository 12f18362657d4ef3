"""Holds: the part of a guarantee that a transit draws while it travels (TigerBeetle's pending transfer).

``hold_reserve`` takes a hold on an active guarantee under a row lock: the guarantee row is the single point
of serialisation, so any number of concurrent callers can never take more than is available, and the
database CHECK ``amount >= held + claimed + paid`` backs this up. On PostgreSQL it goes through
``ledger_hold_postgresql`` (the same lock, entry and chain in two SQL statements); elsewhere (SQLite for
``make run``) through the ORM and ``ledger_append``. ``hold_release`` posts the release, in full or in part;
releasing what is already released is a no-op.
"""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from guarantees.errors import (
    Conflict,
    GuaranteeNotActive,
    InsufficientBalance,
    InvalidAmount,
    InvalidTransition,
    OutsideValidity,
)
from guarantees.limits import amount_check
from guarantees.models import EntryKind, Guarantee, GuaranteeStatus, Hold, HoldStatus
from guarantees.services.ledger import ledger_append, ledger_hold_postgresql
from guarantees.sql import hand_written_sql

REFERENCE_CONSTRAINT = "hold_unique_reference"


def _whole_francs(amount) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount()
    return amount_check(amount)


def hold_reserve(
    *, guarantee: Guarantee | int, amount: int, reference: str, by=None, on=None, savepoint: bool = True
) -> Hold:
    """Take ``amount`` on the guarantee for the transit ``reference``. The same reference and amount again
    returns the existing hold and takes nothing more; the same reference with another amount is a conflict.

    A hold taken by this call carries ``available_after``: the guarantee's available balance right after it.

    May run inside the caller's atomic block: its own block is then a savepoint, rolled back on any error. With
    ``savepoint=False`` (the caller's block must be open) there is no savepoint, which saves two round trips,
    and an ``IntegrityError`` (a concurrent hold under the same reference) is the caller's to resolve once its
    block is rolled back."""
    amount = _whole_francs(amount)
    guarantee_id = guarantee if isinstance(guarantee, int) else guarantee.pk
    take = _reserve_postgresql if hand_written_sql(connection) else _reserve_orm
    if not savepoint:
        if not connection.in_atomic_block:
            raise RuntimeError("hold_reserve(savepoint=False) must run inside the caller's transaction.atomic().")
        return take(guarantee_id, amount, reference, by, on)
    try:
        with transaction.atomic():
            return take(guarantee_id, amount, reference, by, on)
    except IntegrityError as exc:
        if not _reference_taken(exc):
            raise
        # A concurrent transaction committed a hold under this reference after we looked: it is a replay if
        # it is the same hold, a conflict otherwise. (Our block is rolled back, so this read sees the winner.)
        winner = Hold.objects.filter(reference=reference).first()
        if winner is not None and winner.guarantee_id == guarantee_id and winner.initial_amount == amount:
            return winner
        raise Conflict() from exc


def _admit(locked, amount: int, on) -> None:
    """The rule, on the locked guarantee (a Guarantee, or the LockedBalances of the PostgreSQL path)."""
    if locked.status != GuaranteeStatus.ACTIVE:
        raise GuaranteeNotActive(status=locked.status)
    day = on or timezone.now().date()
    if not (locked.valid_from <= day <= locked.valid_until):
        raise OutsideValidity(valid_until=locked.valid_until.isoformat())
    if locked.available < amount:
        raise InsufficientBalance(available=locked.available)


def _reserve_postgresql(guarantee_id: int, amount: int, reference: str, by, on) -> Hold:
    admitted = []

    def admit(locked):
        _admit(locked, amount, on)
        admitted.append(locked.available - amount)

    hold = ledger_hold_postgresql(guarantee_id=guarantee_id, amount=amount, reference=reference, by=by, admit=admit)
    if admitted:
        hold.available_after = admitted[0]
    return hold


def _reserve_orm(guarantee_id: int, amount: int, reference: str, by, on) -> Hold:
    """The portable path (any database); also what the PostgreSQL path is tested against."""
    locked = Guarantee.objects.select_for_update().get(pk=guarantee_id)
    existing = Hold.objects.filter(reference=reference).first()
    if existing is not None:
        if existing.guarantee_id == locked.pk and existing.initial_amount == amount:
            return existing
        raise Conflict()
    _admit(locked, amount, on)
    hold = Hold.objects.create(
        guarantee=locked, reference=reference, initial_amount=amount, amount=amount, created_by=by
    )
    ledger_append(guarantee=locked, kind=EntryKind.HOLD, d_held=amount, hold=hold, reference=reference, by=by)
    hold.available_after = locked.available
    return hold


def _reference_taken(exc: IntegrityError) -> bool:
    """Whether ``exc`` is the unique reference of holds, and no other constraint."""
    name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)  # psycopg
    if name is not None:
        return name == REFERENCE_CONSTRAINT
    return f"UNIQUE constraint failed: {Hold._meta.db_table}.reference" in str(exc)  # SQLite


def hold_release(*, hold: Hold | int, amount: int | None = None, by=None, reference: str = "") -> Hold:
    """Release the hold, or ``amount`` of it (partial discharge). Already released: returns quietly."""
    hold_id = hold if isinstance(hold, int) else hold.pk
    if amount is not None:
        amount = _whole_francs(amount)
    guarantee_id = Hold.objects.values_list("guarantee_id", flat=True).get(pk=hold_id)
    with transaction.atomic():
        # Lock order everywhere: guarantee, then hold.
        locked = Guarantee.objects.select_for_update().get(pk=guarantee_id)
        current = Hold.objects.select_for_update().get(pk=hold_id)
        if current.status == HoldStatus.RELEASED:
            return current
        if current.status != HoldStatus.HELD:
            raise InvalidTransition(status=current.status)
        release = current.amount if amount is None else min(amount, current.amount)
        partial = release < current.amount
        current.amount -= release
        if current.amount == 0:
            current.status = HoldStatus.RELEASED
            current.closed_at = timezone.now()
        current.save(update_fields=["amount", "status", "closed_at"])
        ledger_append(
            guarantee=locked, kind=EntryKind.PARTIAL_RELEASE if partial else EntryKind.RELEASE, d_held=-release,
            hold=current, reference=reference or current.reference, by=by,
        )
        _close_if_settled(locked, by=by)
        return current


def _close_if_settled(guarantee: Guarantee, *, by=None) -> None:
    from guarantees.services.guarantees import guarantee_close_if_settled_locked

    guarantee_close_if_settled_locked(guarantee, by=by)
