"""The guarantee (caution unique), its versions, amendments, access codes and the trail of its decisions.

Balances live on the guarantee row: ``amount`` (reference amount), ``held``, ``claimed`` (claimed, not yet paid)
and ``paid``. They change only in the transaction that appends the matching ledger entry, and database
constraints keep ``held + claimed + paid <= amount``: no bug in Python can overdraw a guarantee.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class GuaranteeStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("guarantee status", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("guarantee status", "Submitted to the bank")
    PREPARED = "prepared", pgettext_lazy("guarantee status", "Prepared — awaiting the checker")
    BANK_CONFIRMED = "bank_confirmed", pgettext_lazy("guarantee status", "Confirmed by the bank")
    ACTIVE = "active", pgettext_lazy("guarantee status", "Active")
    SUSPENDED = "suspended", pgettext_lazy("guarantee status", "Suspended")
    EXPIRED = "expired", pgettext_lazy("guarantee status", "Expired")
    CANCELLED = "cancelled", pgettext_lazy("guarantee status", "Cancelled")
    CLOSED = "closed", pgettext_lazy("guarantee status", "Closed")
    DECLINED = "declined", pgettext_lazy("guarantee status", "Declined by the bank")
    WITHDRAWN = "withdrawn", pgettext_lazy("guarantee status", "Withdrawn")


# Statuses in which the bank is committed for the whole reference amount.
COMMITTED_STATUSES = (GuaranteeStatus.BANK_CONFIRMED, GuaranteeStatus.ACTIVE, GuaranteeStatus.SUSPENDED)
# Statuses that still carry holds or claims but take no new hold.
WINDING_DOWN_STATUSES = (GuaranteeStatus.EXPIRED, GuaranteeStatus.CANCELLED)
# Statuses in which the request is at the bank's desk, not yet decided: the principal may still withdraw it.
AT_THE_BANK_STATUSES = (GuaranteeStatus.SUBMITTED, GuaranteeStatus.PREPARED)


class Guarantee(models.Model):
    principal = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("principal"), on_delete=models.PROTECT,
        related_name="guarantees", limit_choices_to={"kind": "forwarder"},
    )
    bank = models.ForeignKey(
        "guarantees.Bank", verbose_name=_("guarantor bank"), on_delete=models.PROTECT, related_name="guarantees"
    )
    country = models.ForeignKey(
        "guarantees.Country", verbose_name=_("country of issue"), on_delete=models.PROTECT, related_name="+"
    )
    grn = models.CharField(_("guarantee reference number"), max_length=24, unique=True, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=GuaranteeStatus.choices, default=GuaranteeStatus.DRAFT, db_index=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="XOF", editable=False)
    requested_amount = models.BigIntegerField(_("requested amount (FCFA)"))
    amount = models.BigIntegerField(_("reference amount (FCFA)"), default=0)
    held = models.BigIntegerField(_("held"), default=0)
    claimed = models.BigIntegerField(_("claimed, unpaid"), default=0)
    paid = models.BigIntegerField(_("paid on claims"), default=0)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    purpose = models.TextField(_("purpose"), blank=True)
    low_balance_pct = models.PositiveSmallIntegerField(_("low-balance alert (%)"), default=10)
    version = models.PositiveIntegerField(_("version"), default=0)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("prepared by (maker)"),
    )
    prepared_at = models.DateTimeField(_("prepared at"), null=True, blank=True)
    # Bank-internal: never shown to the principal or customs (see guarantees.selectors.guarantees).
    maker_comment = models.TextField(_("maker's comment"), blank=True)
    # Bumped by every preparation: the checker's page carries the number it showed (guarantees.terms).
    preparation = models.PositiveIntegerField(_("preparation number"), default=0, editable=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("confirmed by (checker)"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("accepted by (customs)"),
    )
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    status_reason = models.TextField(_("reason for the current status"), blank=True)

    # Head of this guarantee's hash-chained ledger, moved in the same transaction as the balances.
    ledger_seq = models.PositiveIntegerField(default=0, editable=False)
    ledger_hash = models.CharField(max_length=64, blank=True, editable=False)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("guarantee")
        verbose_name_plural = _("guarantees")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["bank", "status"]), models.Index(fields=["principal", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(requested_amount__gt=0), name="guarantee_requested_amount_positive"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="guarantee_amount_not_negative"),
            models.CheckConstraint(condition=Q(held__gte=0), name="guarantee_held_not_negative"),
            models.CheckConstraint(condition=Q(claimed__gte=0), name="guarantee_claimed_not_negative"),
            models.CheckConstraint(condition=Q(paid__gte=0), name="guarantee_paid_not_negative"),
            models.CheckConstraint(
                condition=Q(amount__gte=F("held") + F("claimed") + F("paid")), name="guarantee_never_overdrawn"
            ),
            models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")), name="guarantee_validity_ordered"),
            models.CheckConstraint(
                condition=Q(prepared_by__isnull=True) | Q(confirmed_by__isnull=True) | ~Q(prepared_by=F("confirmed_by")),
                name="guarantee_maker_is_not_checker",
            ),
            models.CheckConstraint(condition=Q(currency="XOF"), name="guarantee_currency_xof"),
            # A prepared request always names its maker and its preparation; a request waiting for a maker
            # names none (a request sent back by the checker is cleared).
            models.CheckConstraint(
                condition=~Q(status="prepared")
                | Q(prepared_by__isnull=False, prepared_at__isnull=False, preparation__gt=0),
                name="guarantee_prepared_has_maker",
            ),
            models.CheckConstraint(
                condition=~Q(status="submitted") | Q(prepared_by__isnull=True), name="guarantee_submitted_not_prepared"
            ),
        ]

    def __str__(self) -> str:
        return self.grn or _("Request #%(id)s") % {"id": self.pk}

    @property
    def available(self) -> int:
        return self.amount - self.held - self.claimed - self.paid

    @property
    def is_committed(self) -> bool:
        return self.status in COMMITTED_STATUSES

    def standing(self, today=None) -> tuple[str, str]:
        """``(status code, label)`` as a reader must see it today: an active guarantee whose validity has not
        started says "Active from <day>" (it covers nothing yet), and one whose validity has ended says expired
        even before the nightly sweep marks it so."""
        from django.utils import formats, timezone

        today = today or timezone.localdate()
        if self.status == GuaranteeStatus.ACTIVE and self.valid_from and today < self.valid_from:
            return "pending", _("Active from %(day)s") % {"day": formats.date_format(self.valid_from, "d/m/Y")}
        if self.status == GuaranteeStatus.ACTIVE and self.valid_until and today > self.valid_until:
            return GuaranteeStatus.EXPIRED.value, str(GuaranteeStatus.EXPIRED.label)
        return self.status, str(self.get_status_display())

    @property
    def standing_status(self) -> str:
        return self.standing()[0]

    @property
    def standing_label(self) -> str:
        return self.standing()[1]


class GuaranteeVersion(models.Model):
    """The terms of a guarantee as they stood from one activation or amendment to the next. Never changed."""

    guarantee = models.ForeignKey(Guarantee, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    amount = models.BigIntegerField(_("reference amount (FCFA)"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    amendment = models.OneToOneField(
        "guarantees.Amendment", on_delete=models.PROTECT, null=True, blank=True, related_name="resulting_version"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("guarantee version")
        verbose_name_plural = _("guarantee versions")
        ordering = ["guarantee_id", "number"]
        constraints = [models.UniqueConstraint(fields=["guarantee", "number"], name="guarantee_version_unique")]

    def __str__(self) -> str:
        return f"{self.guarantee} v{self.number}"


class AmendmentStatus(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("amendment status", "Submitted to the bank")
    PREPARED = "prepared", pgettext_lazy("amendment status", "Prepared by the maker")
    CONFIRMED = "confirmed", pgettext_lazy("amendment status", "Confirmed")
    DECLINED = "declined", pgettext_lazy("amendment status", "Declined")
    WITHDRAWN = "withdrawn", pgettext_lazy("amendment status", "Withdrawn")


class Amendment(models.Model):
    """A change of reference amount and/or validity, prepared by a bank maker and confirmed by a checker."""

    guarantee = models.ForeignKey(Guarantee, on_delete=models.CASCADE, related_name="amendments")
    status = models.CharField(
        _("status"), max_length=12, choices=AmendmentStatus.choices, default=AmendmentStatus.SUBMITTED, db_index=True
    )
    new_amount = models.BigIntegerField(_("new reference amount (FCFA)"))
    new_valid_until = models.DateField(_("new end of validity"))
    reason = models.TextField(_("reason"), blank=True)
    # Who started it: the principal (its request), or the bank (its maker) — on its own for an extension, or at the
    # principal's request by letter (``letter_reference``) for any change of the amount.
    initiated_by_bank = models.BooleanField(_("started by the bank"), default=False)
    letter_reference = models.CharField(_("principal's letter"), max_length=100, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    prepared_at = models.DateTimeField(_("prepared at"), null=True, blank=True)
    # Bank-internal: never shown to the principal or customs.
    maker_comment = models.TextField(_("maker's comment"), blank=True)
    # Bumped by every preparation: the checker's page carries the number it showed (guarantees.terms).
    preparation = models.PositiveIntegerField(_("preparation number"), default=0, editable=False)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=Q(new_amount__gt=0), name="amendment_amount_positive"),
            models.CheckConstraint(
                condition=Q(prepared_by__isnull=True) | Q(checked_by__isnull=True) | ~Q(prepared_by=F("checked_by")),
                name="amendment_maker_is_not_checker",
            ),
            models.UniqueConstraint(
                fields=["guarantee"],
                condition=Q(status__in=["submitted", "prepared"]),
                name="amendment_one_open_per_guarantee",
            ),
            models.CheckConstraint(
                condition=~Q(status="prepared")
                | Q(prepared_by__isnull=False, prepared_at__isnull=False, preparation__gt=0),
                name="amendment_prepared_has_maker",
            ),
        ]

    def __str__(self) -> str:
        return _("Amendment of %(guarantee)s") % {"guarantee": self.guarantee}


class AccessCode(models.Model):
    """A 4-character code letting a customs system or a border officer check a guarantee without an account.

    Only a keyed hash is stored; the code itself is shown once to the principal.
    """

    guarantee = models.ForeignKey(Guarantee, on_delete=models.CASCADE, related_name="access_codes")
    code_hash = models.CharField(max_length=64, editable=False)
    label = models.CharField(_("label"), max_length=80, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("access code")
        verbose_name_plural = _("access codes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["guarantee", "code_hash"])]


class GuaranteeAction(models.TextChoices):
    CREATED = "created", pgettext_lazy("guarantee action", "Request created")
    SUBMITTED = "submitted", pgettext_lazy("guarantee action", "Submitted to the bank")
    WITHDRAWN = "withdrawn", pgettext_lazy("guarantee action", "Withdrawn")
    PREPARED = "prepared", pgettext_lazy("guarantee action", "Prepared by the maker")
    SENT_BACK = "sent_back", pgettext_lazy("guarantee action", "Sent back to the maker")
    CONFIRMED = "confirmed", pgettext_lazy("guarantee action", "Confirmed by the checker")
    DECLINED = "declined", pgettext_lazy("guarantee action", "Declined by the bank")
    ACCEPTED = "accepted", pgettext_lazy("guarantee action", "Accepted by customs")
    SUSPENDED = "suspended", pgettext_lazy("guarantee action", "Suspended")
    REACTIVATED = "reactivated", pgettext_lazy("guarantee action", "Reactivated")
    CANCELLED = "cancelled", pgettext_lazy("guarantee action", "Cancelled")
    EXPIRED = "expired", pgettext_lazy("guarantee action", "Expired")
    CLOSED = "closed", pgettext_lazy("guarantee action", "Closed")
    AMENDMENT_REQUESTED = "amendment_requested", pgettext_lazy("guarantee action", "Amendment requested")
    AMENDMENT_PREPARED = "amendment_prepared", pgettext_lazy("guarantee action", "Amendment prepared")
    AMENDMENT_SENT_BACK = "amendment_sent_back", pgettext_lazy("guarantee action", "Amendment sent back to the maker")
    AMENDMENT_CONFIRMED = "amendment_confirmed", pgettext_lazy("guarantee action", "Amendment confirmed")
    AMENDMENT_DECLINED = "amendment_declined", pgettext_lazy("guarantee action", "Amendment declined")
    AMENDMENT_WITHDRAWN = "amendment_withdrawn", pgettext_lazy("guarantee action", "Amendment withdrawn")
    ACCESS_CODE_ISSUED = "access_code_issued", pgettext_lazy("guarantee action", "Access code issued")
    ACCESS_CODE_REVOKED = "access_code_revoked", pgettext_lazy("guarantee action", "Access code revoked")
    RENUMBERED = "renumbered", pgettext_lazy("guarantee action", "Reference number changed")


class GuaranteeEvent(models.Model):
    """The audit trail: who decided what on a guarantee, when and why. Append-only.

    An ``internal`` event's comment belongs to the bank (the maker's notes to the checker, the checker's
    reason for sending a preparation back): only the bank and the secretariat read it
    (``guarantee_trail``); everyone else sees that the event happened, not what it says.
    """

    guarantee = models.ForeignKey(Guarantee, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=32, choices=GuaranteeAction.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    comment = models.TextField(_("comment"), blank=True)
    internal = models.BooleanField(_("comment internal to the bank"), default=False)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("guarantee event")
        verbose_name_plural = _("guarantee events")
        ordering = ["at", "id"]
