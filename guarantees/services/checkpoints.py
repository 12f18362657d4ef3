"""Signed checkpoints of the ledger, and the audit that reads the ledger against them.

The MAC seal of every entry stops a database writer who does not hold ``LEDGER_MAC_KEY``. Someone who does (an
operator, a stolen backup of the environment) could still rewrite a chain from some entry onwards and reseal it
consistently. A checkpoint closes that door for the past: every ``LEDGER_CHECKPOINT_EVERY_SECONDS`` the head of
every chain (last entry number and seal) is written into a canonical JSON document, **signed with the registry's
signing key** (the PKCS#12 key that signs attestations, kept outside the database too), and chained to the
previous checkpoint by its digest. Since each seal covers the previous one, a signed head commits to the whole
chain before it: rewriting any entry up to a checkpoint changes the head the checkpoint signed.

Before signing, the new heads are checked against the previous checkpoint: each chain must extend the signed
head entry by entry, every seal valid. So a checkpoint never signs a chain that was rewritten in between.

The secretariat downloads checkpoints and keeps copies outside the registry; ``verify_ledger --checkpoint FILE``
checks the ledger against such a copy, which also catches checkpoints deleted from the database.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from guarantees.documents.signing import detached_sign, detached_verify
from guarantees.models import Guarantee, LedgerCheckpoint, LedgerEntry
from guarantees.services.ledger import LedgerProblem, entry_mac, ledger_verify, mac_keys

DOCUMENT_VERSION = 1


class LedgerTampered(Exception):
    """The chains no longer extend the last signed checkpoint: no new checkpoint is signed over them."""

    def __init__(self, problems: list[LedgerProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


def _canonical(document: dict) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def checkpoint_heads(checkpoint: LedgerCheckpoint | dict) -> dict[int, tuple[int, str]]:
    """``{guarantee_id: (seq, seal)}`` as signed in a checkpoint (a row, or a downloaded file)."""
    text = checkpoint.document if isinstance(checkpoint, LedgerCheckpoint) else checkpoint["document"]
    return {int(gid): (int(seq), seal) for gid, _grn, seq, seal in json.loads(text)["heads"]}


def _extends(guarantee_id: int, grn: str, start: tuple[int, str], head: tuple[int, str],
             keys: dict[str, bytes]) -> list[LedgerProblem]:
    """Whether the chain goes from the signed ``start`` (seq, seal) to ``head`` with every seal valid."""
    start_seq, start_seal = start
    head_seq, head_seal = head
    if head_seq < start_seq:
        return [LedgerProblem(guarantee_id, grn, head_seq, f"the chain is shorter than the checkpoint's #{start_seq}")]
    if head_seq == start_seq:
        if head_seal != start_seal:
            return [LedgerProblem(guarantee_id, grn, head_seq, "the head differs from the checkpoint's")]
        return []
    problems = []
    prev, expected = start_seal, start_seq + 1
    rows = (LedgerEntry.objects.filter(guarantee_id=guarantee_id, seq__gt=start_seq, seq__lte=head_seq)
            .order_by("seq").values_list("seq", "kind", "d_amount", "d_held", "d_claimed", "d_paid", "hold_id",
                                         "reference", "created_at", "prev_hash", "hash", "key_id"))
    for seq, kind, d_amount, d_held, d_claimed, d_paid, hold_id, reference, created_at, entry_prev, seal, key_id \
            in rows.iterator(chunk_size=2000):
        key = keys.get(key_id)
        if seq != expected or entry_prev != prev or key is None or not hmac.compare_digest(seal, entry_mac(
                key=key, key_id=key_id, prev_hash=entry_prev, guarantee_id=guarantee_id, seq=seq, kind=kind,
                d_amount=d_amount, d_held=d_held, d_claimed=d_claimed, d_paid=d_paid, hold_id=hold_id,
                reference=reference, created_at=created_at)):
            problems.append(LedgerProblem(guarantee_id, grn, seq, "the chain does not extend the last checkpoint"))
            return problems
        prev, expected = seal, expected + 1
    if expected != head_seq + 1 or prev != head_seal:
        problems.append(LedgerProblem(guarantee_id, grn, head_seq, "the chain does not reach its head"))
    return problems


def ledger_checkpoint_create(*, now: datetime.datetime | None = None) -> LedgerCheckpoint | None:
    """Sign the chain heads of every guarantee, chained to the previous checkpoint. Returns the new checkpoint, or
    ``None`` when another run signed one from the same previous checkpoint at the same time. Raises
    :class:`LedgerTampered` when a chain does not extend the previous checkpoint (nothing is signed then)."""
    now = now or timezone.now()
    previous = LedgerCheckpoint.objects.order_by("-created_at", "-id").first()
    signed = checkpoint_heads(previous) if previous else {}
    keys = mac_keys()
    # One statement, one snapshot: the head of a guarantee moves in the transaction that commits its entry, so every
    # entry up to a head read here is committed and readable by the later statements.
    current = list(Guarantee.objects.filter(ledger_seq__gt=0).order_by("pk")
                   .values_list("pk", "grn", "ledger_seq", "ledger_hash"))
    problems: list[LedgerProblem] = []
    seen = set()
    for pk, grn, seq, seal in current:
        seen.add(pk)
        problems += _extends(pk, grn or "", signed.get(pk, (0, "")), (seq, seal), keys)
    for pk in signed.keys() - seen:
        problems.append(LedgerProblem(pk, "", signed[pk][0], "the chain signed by the last checkpoint is gone"))
    if problems:
        raise LedgerTampered(problems)
    document = {
        "version": DOCUMENT_VERSION,
        "registry": settings.REGISTRY_PUBLIC_URL,
        "created_at": now.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds"),
        "previous": previous.digest if previous else "",
        "heads": [[pk, grn or "", seq, seal] for pk, grn, seq, seal in current],
    }
    text = _canonical(document)
    signature = detached_sign(text.encode("ascii"))
    try:
        with transaction.atomic():
            return LedgerCheckpoint.objects.create(
                created_at=now, document=text, digest=hashlib.sha256(text.encode("ascii")).hexdigest(),
                previous_digest=document["previous"], guarantees=len(current),
                entries=sum(seq for _pk, _grn, seq, _seal in current), algorithm=signature.algorithm,
                signature=base64.b64encode(signature.signature).decode("ascii"),
                certificate=signature.certificate_pem,
            )
    except IntegrityError:
        return None  # another run chained a checkpoint on the same previous one first


def checkpoint_export(checkpoint: LedgerCheckpoint) -> dict:
    """The downloadable form: the signed document exactly as signed, the signature and the certificate."""
    return {
        "format": "caution-unique-ledger-checkpoint/1",
        "document": checkpoint.document,
        "digest": checkpoint.digest,
        "algorithm": checkpoint.algorithm,
        "signature": checkpoint.signature,
        "certificate": checkpoint.certificate,
    }


def checkpoint_signature_problem(data: dict) -> str:
    """Why a checkpoint (row export or downloaded file) is not a genuine one ("" when it is)."""
    try:
        text = data["document"]
        raw = text.encode("ascii")
        signature = base64.b64decode(data["signature"], validate=True)
    except (KeyError, TypeError, ValueError, UnicodeEncodeError):
        return "the checkpoint cannot be read"
    if data.get("digest") and data["digest"] != hashlib.sha256(raw).hexdigest():
        return "the document does not match its digest"
    return detached_verify(data=raw, algorithm=data.get("algorithm", ""), signature=signature,
                           certificate_pem=data.get("certificate", ""))


@dataclass
class LedgerAudit:
    """What ``verify_ledger`` found: problems (something changed), and what it could not prove."""

    guarantees: int = 0
    problems: list = field(default_factory=list)
    unproven: list[str] = field(default_factory=list)
    checkpoint: LedgerCheckpoint | None = None

    @property
    def intact(self) -> bool:
        return not self.problems


def _against_heads(heads: dict[int, tuple[int, str]], label: str) -> list:
    """Each signed head must still be in the ledger: the entry with that number, with that seal."""
    problems = []
    found = {}
    ids = list(heads)
    for start in range(0, len(ids), 1000):
        part = ids[start:start + 1000]
        wanted = {(gid, heads[gid][0]) for gid in part}
        for gid, seq, seal in LedgerEntry.objects.filter(guarantee_id__in=part, seq__in={heads[g][0] for g in part}) \
                .values_list("guarantee_id", "seq", "hash"):
            if (gid, seq) in wanted:
                found[gid] = seal
    grns = dict(Guarantee.objects.filter(pk__in=ids).values_list("pk", "grn")) if ids else {}
    for gid, (seq, seal) in heads.items():
        if found.get(gid) != seal:
            problems.append(LedgerProblem(gid, grns.get(gid) or "", seq,
                                          f"does not match the head signed by {label}"))
    return problems


def ledger_audit(*, guarantees=None, external: list[dict] = ()) -> LedgerAudit:
    """Entries, chains and balances (``ledger_verify``), the chain of signed checkpoints, the ledger against the
    latest one and against any ``external`` copies; and, in words, what none of this proves."""
    queryset = guarantees if guarantees is not None else Guarantee.objects.all()
    audit = LedgerAudit(guarantees=queryset.count(), problems=ledger_verify(guarantees=queryset))
    selected = set(queryset.values_list("pk", flat=True)) if guarantees is not None else None

    def only_selected(heads):
        return heads if selected is None else {k: v for k, v in heads.items() if k in selected}

    previous_digest = ""
    latest = None
    for checkpoint in LedgerCheckpoint.objects.order_by("created_at", "id").iterator():
        why = checkpoint_signature_problem(checkpoint_export(checkpoint))
        if why:
            audit.problems.append(f"checkpoint of {checkpoint.created_at:%Y-%m-%d %H:%M:%S} UTC: {why}")
        if checkpoint.previous_digest != previous_digest:
            audit.problems.append(f"checkpoint of {checkpoint.created_at:%Y-%m-%d %H:%M:%S} UTC: the checkpoint "
                                  "before it is missing or was replaced")
        previous_digest = checkpoint.digest
        latest = checkpoint
    audit.checkpoint = latest
    if latest is not None:
        audit.problems += _against_heads(only_selected(checkpoint_heads(latest)), "the latest checkpoint")
    for number, data in enumerate(external, start=1):
        why = checkpoint_signature_problem(data)
        if why:
            audit.problems.append(f"outside copy #{number}: {why}")
            continue
        audit.problems += _against_heads(only_selected(checkpoint_heads(data)), f"outside copy #{number}")
        digest = hashlib.sha256(data["document"].encode("ascii")).hexdigest()
        if not LedgerCheckpoint.objects.filter(digest=digest).exists():
            audit.problems.append(f"outside copy #{number}: this checkpoint is no longer in the registry (deleted?)")

    # What stays unproven, said plainly.
    if not settings.LEDGER_MAC_KEY:
        audit.unproven.append("No LEDGER_MAC_KEY is set: the seals use a key derived from SECRET_KEY, so anyone "
                              "who reads the settings could reseal a rewritten chain.")
    if latest is None:
        audit.unproven.append("No checkpoint yet: every entry is proven by the MAC key alone.")
    else:
        signed = checkpoint_heads(latest)
        newer = sum(seq - signed.get(pk, (0, ""))[0]
                    for pk, seq in queryset.filter(ledger_seq__gt=0).values_list("pk", "ledger_seq"))
        if newer > 0:
            audit.unproven.append(
                f"{newer} entr{'y' if newer == 1 else 'ies'} written after the latest checkpoint "
                f"({latest.created_at:%Y-%m-%d %H:%M:%S} UTC) are proven by the MAC key alone."
            )
        if not external:
            audit.unproven.append("The newest checkpoints could have been deleted from the database with the "
                                  "entries after them: compare with the copies kept outside the registry "
                                  "(--checkpoint FILE).")
    return audit
