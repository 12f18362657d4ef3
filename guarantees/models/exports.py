"""Exports of the lists too large to stream in one request, and the monthly statements of each guarantee.

An ``ExportJob`` is one person's request for one list (its name and the filters of the page, as they were in the
URL) written in the background into a file kept in the default storage; only its owner downloads it, and the file
is removed when it expires (the row stays: who exported what, and when). A ``Statement`` is the signed PDF of one
guarantee's month: one per guarantee and month (the database says so), its figures kept beside the bytes so that
they can be compared with the ledger at any time.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .transits import JobStatus


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", pgettext_lazy("export format", "Excel (XLSX)")


class ExportJob(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.CASCADE,
                              related_name="+")
    table = models.CharField(_("list"), max_length=40)
    format = models.CharField(_("format"), max_length=4, choices=ExportFormat.choices)
    params = models.JSONField(_("filters"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=8)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED,
                              db_index=True)
    total = models.PositiveIntegerField(_("rows to write"), default=0)
    done = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), upload_to="exports/", max_length=200, blank=True)
    filename = models.CharField(_("file name"), max_length=120, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    failure_reason = models.TextField(_("reason of the failure"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("file kept until"), null=True, blank=True, db_index=True)
    expired_at = models.DateTimeField(_("file removed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["owner", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(done__lte=F("total")), name="export_done_within_total"),
            models.CheckConstraint(condition=Q(format__in=["csv", "xlsx"]), name="export_format_known"),
            models.CheckConstraint(condition=~Q(status="failed") | ~Q(failure_reason=""),
                                   name="export_failed_says_why"),
        ]

    def __str__(self) -> str:
        return f"{self.table}.{self.format} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return min(100, (100 * self.done) // self.total) if self.total else 0

    @property
    def in_progress(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def downloadable(self) -> bool:
        return self.status == "done" and bool(self.file) and self.expired_at is None


class StatementQuerySet(models.QuerySet):
    def with_pdf(self) -> "StatementQuerySet":
        return self.defer(None)


class StatementManager(models.Manager.from_queryset(StatementQuerySet)):
    def get_queryset(self):
        return super().get_queryset().defer("pdf")


class Statement(models.Model):
    """A guarantee's month: balances at its first and last instant (UTC) and every movement between, signed. One
    PDF per configured language (its principal and its bank may read French or English), every language printing
    the same content: the first one issued sets it."""

    guarantee = models.ForeignKey("guarantees.Guarantee", verbose_name=_("guarantee"), on_delete=models.PROTECT,
                                  related_name="statements")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    language = models.CharField(_("language"), max_length=8)
    # The printed content: parties, terms and the month's figures (guarantees.selectors.statements).
    content = models.JSONField(_("printed content"))
    opening_available = models.BigIntegerField(_("available at the opening"))
    closing_available = models.BigIntegerField(_("available at the closing"))
    entries = models.PositiveIntegerField(_("movements"))
    last_seq = models.PositiveIntegerField(_("last ledger entry of the month"), default=0)
    filename = models.CharField(_("file name"), max_length=120)
    sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    pdf = models.BinaryField(_("signed PDF"))
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    objects = StatementManager()

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["guarantee_id", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["guarantee", "month", "language"],
                                    name="statement_one_per_guarantee_month_language"),
            models.CheckConstraint(condition=Q(month__day=1), name="statement_month_first_day"),
            models.CheckConstraint(condition=Q(size__gt=0), name="statement_not_empty"),
        ]

    def __str__(self) -> str:
        return self.filename
