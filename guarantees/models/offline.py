"""Signed status lists for offline verification: each refresh stores one, the newest is published.

A row is the exact signed bytes handed out at ``/verify/status-list`` (a COSE_Sign1, see
``guarantees.documents.offline``), when it was signed, by which key, how many entries it holds. Older rows are
kept for a while (what a border post held yesterday can be checked against them), then trimmed by the refresh.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class StatusList(models.Model):
    issued_at = models.DateTimeField(_("signed at"), db_index=True)
    expires_at = models.DateTimeField(_("expires at"))
    kid = models.CharField(_("key id (base64)"), max_length=24)
    length = models.PositiveIntegerField(_("number of entries"))
    flagged = models.PositiveIntegerField(_("entries not valid"))
    size = models.PositiveIntegerField(_("size (bytes)"))
    signed = models.BinaryField(_("signed list (COSE_Sign1)"))

    class Meta:
        verbose_name = _("status list")
        verbose_name_plural = _("status lists")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("issued_at")), name="status_list_expires_after"),
            models.CheckConstraint(condition=Q(size__gt=0), name="status_list_not_empty"),
        ]

    def __str__(self) -> str:
        return f"status list {self.issued_at:%Y-%m-%d %H:%M:%S}"
