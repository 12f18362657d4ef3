"""Certificates: the signed PDF of each version of a guarantee, one per language, stored once and never changed.

A row holds the exact bytes handed out (``pdf``), their SHA-256 (how an uploaded file is recognised), the
content fields that were printed (``content``) and their short ``fingerprint``, printed on the document
itself (a PDF cannot carry its own hash). ``(version, language)`` is unique: rendering twice stores nothing
the second time. The PDF bytes are deferred by default, so listing certificates never loads them.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CertificateQuerySet(models.QuerySet):
    def with_pdf(self) -> "CertificateQuerySet":
        return self.defer(None)


class CertificateManager(models.Manager.from_queryset(CertificateQuerySet)):
    # Also the manager of ``version.certificates`` and ``guarantee.certificates``.
    def get_queryset(self):
        return super().get_queryset().defer("pdf")


class Certificate(models.Model):
    guarantee = models.ForeignKey(
        "guarantees.Guarantee", verbose_name=_("guarantee"), on_delete=models.PROTECT, related_name="certificates"
    )
    version = models.ForeignKey(
        "guarantees.GuaranteeVersion", verbose_name=_("version"), on_delete=models.PROTECT,
        related_name="certificates",
    )
    number = models.PositiveIntegerField(_("version number"))
    language = models.CharField(_("language"), max_length=8)
    filename = models.CharField(_("file name"), max_length=120)
    content = models.JSONField(_("printed content"))
    fingerprint = models.CharField(_("fingerprint"), max_length=16)
    sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, unique=True)
    size = models.PositiveIntegerField(_("size (bytes)"))
    pdf = models.BinaryField(_("signed PDF"))
    signer = models.CharField(_("signed by"), max_length=300)
    timestamped = models.BooleanField(_("timestamped by a timestamp authority"), default=False)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    objects = CertificateManager()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["guarantee_id", "number", "language"]
        constraints = [
            models.UniqueConstraint(fields=["version", "language"], name="certificate_one_per_version_language"),
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="certificate_sha256_hex"),
            models.CheckConstraint(condition=Q(size__gt=0), name="certificate_not_empty"),
        ]
        indexes = [models.Index(fields=["guarantee", "number"])]

    def __str__(self) -> str:
        return f"{self.filename}"

    def save(self, *args, **kwargs):
        # Certificates are legal documents already handed out: a correction is a new version, never an edit.
        if not self._state.adding:
            raise ValueError("A certificate is never changed once stored.")
        super().save(*args, **kwargs)

    @property
    def fingerprint_display(self) -> str:
        """``"3F2A 9C01 77B4 E0D2"``: easier to read aloud and compare with the printed one."""
        f = self.fingerprint.upper()
        return " ".join(f[i:i + 4] for i in range(0, len(f), 4))
