"""Appending to a guarantee's hash-chained ledger, and proving that the balances are the sum of the entries.

``ledger_append`` is the only code that moves a guarantee's balances. It must be called inside an atomic block
on a guarantee row locked with ``select_for_update``; it applies the deltas to the row, saves it (the database
CHECK constraints refuse an overdraw) and appends the entry chained to the previous one.
"""

import datetime
import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from guarantees.models import Guarantee, Hold, LedgerEntry

BALANCE_FIELDS = ("amount", "held", "claimed", "paid")


def entry_hash(*, prev_hash: str, guarantee_id: int, seq: int, kind: str, d_amount: int, d_held: int,
               d_claimed: int, d_paid: int, hold_id: int | None, reference: str, created_at) -> str:
    payload = "|".join(
        str(part)
        for part in (
            prev_hash, guarantee_id, seq, kind, d_amount, d_held, d_claimed, d_paid,
            hold_id or "", reference, created_at.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds"),
        )
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def ledger_append(
    *,
    guarantee: Guarantee,
    kind: str,
    d_amount: int = 0,
    d_held: int = 0,
    d_claimed: int = 0,
    d_paid: int = 0,
    hold: Hold | None = None,
    reference: str = "",
    by=None,
) -> LedgerEntry:
    """Apply the deltas to the locked ``guarantee`` and append one chained entry. Caller holds the row lock."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_append must run inside transaction.atomic() on a locked guarantee.")
    guarantee.amount += d_amount
    guarantee.held += d_held
    guarantee.claimed += d_claimed
    guarantee.paid += d_paid
    seq = guarantee.ledger_seq + 1
    created_at = timezone.now()
    digest = entry_hash(
        prev_hash=guarantee.ledger_hash, guarantee_id=guarantee.pk, seq=seq, kind=kind, d_amount=d_amount,
        d_held=d_held, d_claimed=d_claimed, d_paid=d_paid, hold_id=hold.pk if hold else None,
        reference=reference, created_at=created_at,
    )
    entry = LedgerEntry(
        guarantee=guarantee, seq=seq, kind=kind, d_amount=d_amount, d_held=d_held, d_claimed=d_claimed,
        d_paid=d_paid, hold=hold, reference=reference, created_by=by, created_at=created_at,
        prev_hash=guarantee.ledger_hash, hash=digest,
    )
    guarantee.ledger_seq = seq
    guarantee.ledger_hash = digest
    guarantee.save(update_fields=[*BALANCE_FIELDS, "ledger_seq", "ledger_hash", "updated_at"])
    entry.save(force_insert=True)
    return entry


@dataclass(frozen=True)
class LedgerProblem:
    guarantee_id: int
    grn: str
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"entry #{self.seq}" if self.seq is not None else "balances"
        return f"guarantee {self.grn or self.guarantee_id} (id {self.guarantee_id}), {where}: {self.message}"


def ledger_verify(*, guarantees=None) -> list[LedgerProblem]:
    """Recompute every balance from the entries and walk every hash chain. Returns the problems found."""
    problems: list[LedgerProblem] = []
    queryset = guarantees if guarantees is not None else Guarantee.objects.all()
    for guarantee in queryset.order_by("pk").iterator(chunk_size=500):
        problems.extend(_verify_one(guarantee))
    return problems


def _verify_one(guarantee: Guarantee) -> list[LedgerProblem]:
    problems = []
    grn = guarantee.grn or ""
    prev_hash = ""
    expected_seq = 1
    entries = LedgerEntry.objects.filter(guarantee=guarantee).order_by("seq")
    for entry in entries.iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            problems.append(LedgerProblem(guarantee.pk, grn, expected_seq, "entry missing (deleted?)"))
            expected_seq = entry.seq
        if entry.prev_hash != prev_hash:
            problems.append(LedgerProblem(guarantee.pk, grn, entry.seq, "chain broken: previous hash does not match"))
        recomputed = entry_hash(
            prev_hash=entry.prev_hash, guarantee_id=entry.guarantee_id, seq=entry.seq, kind=entry.kind,
            d_amount=entry.d_amount, d_held=entry.d_held, d_claimed=entry.d_claimed, d_paid=entry.d_paid,
            hold_id=entry.hold_id, reference=entry.reference, created_at=entry.created_at,
        )
        if recomputed != entry.hash:
            problems.append(LedgerProblem(guarantee.pk, grn, entry.seq, "entry changed: its hash does not match"))
        prev_hash = entry.hash
        expected_seq += 1
    if guarantee.ledger_seq != expected_seq - 1:
        problems.append(
            LedgerProblem(guarantee.pk, grn, guarantee.ledger_seq,
                          f"last entry is #{expected_seq - 1} but the guarantee expects #{guarantee.ledger_seq}")
        )
    elif guarantee.ledger_hash != prev_hash:
        problems.append(LedgerProblem(guarantee.pk, grn, guarantee.ledger_seq, "chain head does not match"))

    sums = entries.aggregate(
        amount=Sum("d_amount", default=0), held=Sum("d_held", default=0),
        claimed=Sum("d_claimed", default=0), paid=Sum("d_paid", default=0),
    )
    for field in BALANCE_FIELDS:
        if sums[field] != getattr(guarantee, field):
            problems.append(
                LedgerProblem(guarantee.pk, grn, None,
                              f"{field} is {getattr(guarantee, field)} but the entries add up to {sums[field]}")
            )
    held_by_holds = Hold.objects.filter(guarantee=guarantee).aggregate(
        held=Sum("amount", default=0), claimed=Sum("claimed_amount", default=0)
    )
    if held_by_holds["held"] != guarantee.held:
        problems.append(LedgerProblem(guarantee.pk, grn, None,
                                      f"held is {guarantee.held} but open holds add up to {held_by_holds['held']}"))
    if held_by_holds["claimed"] != guarantee.claimed:
        problems.append(LedgerProblem(guarantee.pk, grn, None,
                                      f"claimed is {guarantee.claimed} but holds add up to {held_by_holds['claimed']}"))
    return problems
