"""Holds and the append-only, chained ledger of every movement of money on a guarantee.

Each entry carries the change it makes to each balance of its guarantee (``d_amount``, ``d_held``,
``d_claimed``, ``d_paid``); a guarantee's balances are the sums of its entries. Entries are chained per
guarantee and sealed: ``hash = HMAC-SHA256(key[key_id], key_id | prev_hash | fields)`` with a key kept outside
the database, so a changed, inserted, deleted or resealed row breaks the chain and ``manage.py verify_ledger``
names it. Entries are never edited (PostgreSQL refuses UPDATE and DELETE on them: migration 0007); a correction
is a reversing entry. The chain heads are sealed periodically into a signed ``LedgerCheckpoint``.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class HoldStatus(models.TextChoices):
    HELD = "held", pgettext_lazy("hold status", "Held")
    RELEASED = "released", pgettext_lazy("hold status", "Released")
    CLAIMED = "claimed", pgettext_lazy("hold status", "Claimed")
    PAID = "paid", pgettext_lazy("hold status", "Paid")
    WITHDRAWN = "withdrawn", pgettext_lazy("hold status", "Claim withdrawn")


class Hold(models.Model):
    """The amount a transit draws on a guarantee, from departure until discharge (or claim)."""

    guarantee = models.ForeignKey("guarantees.Guarantee", on_delete=models.PROTECT, related_name="holds")
    reference = models.CharField(_("transit reference"), max_length=64)
    status = models.CharField(
        _("status"), max_length=10, choices=HoldStatus.choices, default=HoldStatus.HELD, db_index=True
    )
    initial_amount = models.BigIntegerField(_("amount taken"))
    amount = models.BigIntegerField(_("amount held"))
    claimed_amount = models.BigIntegerField(_("amount claimed"), default=0)
    paid_amount = models.BigIntegerField(_("amount paid"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("taken at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["guarantee", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["reference"], name="hold_unique_reference"),
            models.CheckConstraint(condition=Q(initial_amount__gt=0), name="hold_initial_amount_positive"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="hold_amount_not_negative"),
            models.CheckConstraint(condition=Q(claimed_amount__gte=0), name="hold_claimed_not_negative"),
            models.CheckConstraint(condition=Q(paid_amount__gte=0), name="hold_paid_not_negative"),
            models.CheckConstraint(
                condition=Q(initial_amount__gte=F("amount") + F("claimed_amount") + F("paid_amount")),
                name="hold_never_above_amount_taken",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.amount})"


class EntryKind(models.TextChoices):
    OPENING = "opening", pgettext_lazy("ledger entry", "Guarantee activated")
    HOLD = "hold", pgettext_lazy("ledger entry", "Hold")
    RELEASE = "release", pgettext_lazy("ledger entry", "Release")
    PARTIAL_RELEASE = "partial_release", pgettext_lazy("ledger entry", "Partial release")
    CLAIM = "claim", pgettext_lazy("ledger entry", "Claim")
    CLAIM_WITHDRAWN = "claim_withdrawn", pgettext_lazy("ledger entry", "Claim withdrawn")
    PAYMENT = "payment", pgettext_lazy("ledger entry", "Payment on claim")
    INCREASE = "increase", pgettext_lazy("ledger entry", "Amendment: increase")
    DECREASE = "decrease", pgettext_lazy("ledger entry", "Amendment: decrease")
    REINSTATEMENT = "reinstatement", pgettext_lazy("ledger entry", "Reinstatement after payment")


class LedgerEntry(models.Model):
    guarantee = models.ForeignKey("guarantees.Guarantee", on_delete=models.PROTECT, related_name="entries")
    seq = models.PositiveIntegerField(_("sequence"))
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    d_amount = models.BigIntegerField(_("change of reference amount"), default=0)
    d_held = models.BigIntegerField(_("change of held"), default=0)
    d_claimed = models.BigIntegerField(_("change of claimed"), default=0)
    d_paid = models.BigIntegerField(_("change of paid"), default=0)
    hold = models.ForeignKey(Hold, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("at"))
    prev_hash = models.CharField(max_length=64, blank=True)
    # The HMAC-SHA256 seal of this entry (named ``hash`` since it chains like one), and the id of its key.
    hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16, default="")

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["guarantee_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["guarantee", "seq"], name="ledger_entry_unique_seq"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="ledger_entry_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.guarantee_id}#{self.seq} {self.kind}"

    @property
    def amount(self) -> int:
        """The size of the movement, for display."""
        return max(abs(self.d_amount), abs(self.d_held), abs(self.d_claimed), abs(self.d_paid))

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_allow_insert_with_pk", False):
            raise RuntimeError("Ledger entries are immutable; append a reversing entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Ledger entries are never deleted.")


class LedgerCheckpoint(models.Model):
    """The chain heads of every guarantee at one moment, signed with the registry's signing key.

    ``document`` is canonical JSON (``guarantees.services.checkpoints``): when, the digest of the previous
    checkpoint (so checkpoints chain too), and each guarantee's last entry number and seal. ``signature`` is
    the registry key's signature over those exact bytes, ``certificate`` the signer's certificate (PEM). The
    secretariat downloads them and keeps copies elsewhere: a chain rewritten even by someone holding the MAC key
    no longer reaches a signed head.
    """

    created_at = models.DateTimeField(_("sealed at"), db_index=True)
    document = models.TextField(_("heads (canonical JSON)"))
    digest = models.CharField(_("SHA-256 of the document"), max_length=64, unique=True)
    # Unique: two checkpoints can never follow the same one (a fork), whatever runs side by side.
    previous_digest = models.CharField(_("previous checkpoint"), max_length=64, blank=True, unique=True)
    guarantees = models.PositiveIntegerField(_("guarantees"))
    entries = models.BigIntegerField(_("entries"))
    algorithm = models.CharField(_("signature algorithm"), max_length=40)
    signature = models.TextField(_("signature (base64)"))
    certificate = models.TextField(_("signer's certificate (PEM)"))

    class Meta:
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.digest[:12]}"
