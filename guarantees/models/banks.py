"""Guarantor banks approved by the secretariat, each with an exposure ceiling."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Bank(models.Model):
    """The guarantor side of a bank organisation: its approval and the ceiling its guarantees may reach.

    The row is locked while a confirmation checks the ceiling, so two checkers cannot both take the last room.
    """

    organisation = models.OneToOneField(
        "accounts.Organisation", verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="bank",
        limit_choices_to={"kind": "bank"},
    )
    exposure_ceiling = models.BigIntegerField(_("exposure ceiling (FCFA)"))
    is_approved = models.BooleanField(_("approved"), default=False)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    approval_reference = models.CharField(_("approval decision"), max_length=100, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("guarantor bank")
        verbose_name_plural = _("guarantor banks")
        ordering = ["organisation__name"]
        constraints = [models.CheckConstraint(condition=Q(exposure_ceiling__gte=0), name="bank_ceiling_not_negative")]

    def __str__(self) -> str:
        return str(self.organisation)


class BankCeilingChange(models.Model):
    """Every approval and change of ceiling, kept for the record."""

    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="ceiling_changes")
    previous_ceiling = models.BigIntegerField(_("previous ceiling"), null=True, blank=True)
    new_ceiling = models.BigIntegerField(_("new ceiling"))
    reason = models.TextField(_("reason"), blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ceiling change")
        verbose_name_plural = _("ceiling changes")
        ordering = ["-changed_at"]
