"""What the background work leaves behind: in-app notifications, the alerts already given, reconciliation
reports, the tasks that failed, and the watermarks of the periodic sweeps.

The one idea: every row here makes a background job safe to run twice. A notification is unique per recipient
and notice, an alert per guarantee, kind and validity date, a reconciliation line belongs to one run written
in one transaction, a sweep's watermark moves under a row lock. A job that crashes and runs again finds its
own work already done and does it no second time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class NoticeAbout(models.TextChoices):
    """What a notification points at; the page builds the link (``guarantees.links``)."""

    GUARANTEE = "guarantee", pgettext_lazy("notice about", "Guarantee")
    TRANSIT = "transit", pgettext_lazy("notice about", "Transit")
    ENQUIRY = "enquiry", pgettext_lazy("notice about", "Enquiry")
    RELEASE = "release", pgettext_lazy("notice about", "Manual release")
    CLAIM = "claim", pgettext_lazy("notice about", "Claim")
    RECONCILIATION = "reconciliation", pgettext_lazy("notice about", "Reconciliation")
    TASK_FAILURE = "task_failure", pgettext_lazy("notice about", "Failed task")


class Notification(models.Model):
    """One notice to one person, shown in the site and (once) sent by e-mail.

    It stores what happened (``event``), its language-neutral values (``params``) and what it is about
    (``about``, ``about_ref``): the sentence is worded when it is read, in the reader's language
    (``guarantees.messages``), and the link is built by the page. Notifications written before that kept their
    sentence and link as text (``params`` is null): they show as they were written.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    # The same notice delivered twice (a task run again) finds its row and sends nothing more.
    notice = models.UUIDField(editable=False)
    event = models.CharField(_("event"), max_length=40)
    guarantee = models.ForeignKey(
        "guarantees.Guarantee", verbose_name=_("guarantee"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="+",
    )
    transit = models.ForeignKey(
        "guarantees.Transit", verbose_name=_("transit"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="+",
    )
    params = models.JSONField(_("values"), null=True, blank=True)
    about = models.CharField(_("about"), max_length=20, choices=NoticeAbout.choices, blank=True)
    about_ref = models.CharField(_("reference of what it is about"), max_length=100, blank=True)
    # Notices written before their wording moved to the reading: the sentence and link as they were written.
    stored_subject = models.CharField(_("subject as written"), max_length=255, blank=True)
    stored_body = models.TextField(_("message as written"), blank=True)
    stored_url = models.CharField(_("link as written"), max_length=500, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "notice"], name="notification_once_per_notice"),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.subject

    def _text(self) -> tuple[str, str]:
        from guarantees.messages import MESSAGES, message_text

        if self.params is None or self.event not in MESSAGES:
            return self.stored_subject, self.stored_body
        return message_text(self.event, self.params)

    @property
    def subject(self) -> str:
        """The notice's title in the active language (the reader's, on a page; the recipient's, in an e-mail)."""
        return self._text()[0]

    @property
    def body(self) -> str:
        return self._text()[1]

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class AlertKind(models.TextChoices):
    LOW_BALANCE = "low_balance", pgettext_lazy("alert", "Low balance")
    EXPIRY_30 = "expiry_30", pgettext_lazy("alert", "Expires within 30 days")
    EXPIRY_7 = "expiry_7", pgettext_lazy("alert", "Expires within 7 days")
    WRONG_ACCESS_CODES = "wrong_codes", pgettext_lazy("alert", "Repeated wrong access codes")
    HEADROOM = "headroom", pgettext_lazy("alert", "Balance forecast to run out soon")


class GuaranteeAlert(models.Model):
    """An alert already given about a guarantee, so the sweeps never give it twice.

    A low-balance alert stays open while the balance stays low and is cleared when it recovers; only then may a
    new one be raised. An expiry alert is given once per kind and end of validity (an extension starts over).
    An alert of repeated wrong access codes is given once per window of the access-code counters
    (``window_start``). A headroom alert (the forecast says the available balance runs out within
    ``REGISTRY_HEADROOM_ALERT_DAYS``) stays open while the forecast stays that near, like a low-balance alert;
    ``valid_until`` holds the forecast day when it was raised.
    """

    guarantee = models.ForeignKey("guarantees.Guarantee", on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=16, choices=AlertKind.choices)
    valid_until = models.DateField(_("end of validity"), null=True, blank=True)
    available = models.BigIntegerField(_("available when raised"), null=True, blank=True)
    window_start = models.DateTimeField(_("window start"), null=True, blank=True)
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    class Meta:
        verbose_name = _("guarantee alert")
        verbose_name_plural = _("guarantee alerts")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["guarantee"], condition=Q(kind="low_balance", cleared_at__isnull=True),
                name="alert_one_open_low_balance",
            ),
            models.UniqueConstraint(
                fields=["guarantee", "kind", "valid_until"], condition=~Q(kind__in=["low_balance", "headroom"]),
                name="alert_expiry_once",
            ),
            models.UniqueConstraint(
                fields=["guarantee"], condition=Q(kind="headroom", cleared_at__isnull=True),
                name="alert_one_open_headroom",
            ),
            models.UniqueConstraint(
                fields=["guarantee", "kind", "window_start"], condition=Q(kind="wrong_codes"),
                name="alert_wrong_codes_once_per_window",
            ),
        ]


class ReconciliationStatus(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("reconciliation status", "Received, to compare")
    DONE = "done", pgettext_lazy("reconciliation status", "Compared")
    FAILED = "failed", pgettext_lazy("reconciliation status", "Failed")


class ReconciliationRun(models.Model):
    """A customs administration's list of its open transits, and the comparison with the holds open here."""

    customs = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("customs administration"), on_delete=models.PROTECT,
        related_name="+", limit_choices_to={"kind": "customs"},
    )
    country = models.ForeignKey("guarantees.Country", verbose_name=_("country"), on_delete=models.PROTECT,
                                related_name="+")
    as_of = models.DateTimeField(_("list as of"))
    source = models.CharField(_("received through"), max_length=8, choices=[("api", "API"), ("page", _("page"))])
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    submitted = models.JSONField(_("open transits as sent"), default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=ReconciliationStatus.choices, default=ReconciliationStatus.RECEIVED,
        db_index=True,
    )
    api_key = models.ForeignKey("accounts.ApiKey", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sent by"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("compared at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    listed = models.PositiveIntegerField(_("transits listed there"), default=0)
    open_here = models.PositiveIntegerField(_("holds open here"), default=0)
    matched = models.PositiveIntegerField(_("matching"), default=0)
    closed_there = models.PositiveIntegerField(_("held here, closed there"), default=0)
    unknown_here = models.PositiveIntegerField(_("open there, unknown here"), default=0)
    closed_here = models.PositiveIntegerField(_("open there, closed here"), default=0)
    amount_differs = models.PositiveIntegerField(_("amounts that differ"), default=0)

    class Meta:
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.country_id} {self.as_of:%Y-%m-%d}"

    @property
    def differences(self) -> int:
        return self.closed_there + self.unknown_here + self.closed_here + self.amount_differs


class DifferenceKind(models.TextChoices):
    CLOSED_THERE = "closed_there", pgettext_lazy("reconciliation", "Held here, closed there")
    UNKNOWN_HERE = "unknown_here", pgettext_lazy("reconciliation", "Open there, unknown here")
    CLOSED_HERE = "closed_here", pgettext_lazy("reconciliation", "Open there, closed here")
    AMOUNT_DIFFERS = "amount_differs", pgettext_lazy("reconciliation", "Amounts differ")


class ReconciliationLine(models.Model):
    """One difference found by a run. Matching transits are counted on the run, not listed."""

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(_("difference"), max_length=16, choices=DifferenceKind.choices)
    declaration_ref = models.CharField(_("declaration reference"), max_length=64)
    transit = models.ForeignKey("guarantees.Transit", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    status_here = models.CharField(_("status here"), max_length=12, blank=True)
    amount_here = models.BigIntegerField(_("amount here"), null=True, blank=True)
    amount_there = models.BigIntegerField(_("amount there"), null=True, blank=True)

    class Meta:
        verbose_name = _("reconciliation difference")
        verbose_name_plural = _("reconciliation differences")
        ordering = ["run_id", "kind", "declaration_ref"]
        indexes = [models.Index(fields=["run", "kind"])]


class TaskFailure(models.Model):
    """A background task that failed for good (its retries spent), kept for the secretariat to see and retry."""

    task_id = models.CharField(_("task id"), max_length=64, db_index=True)
    task_name = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list)
    kwargs = models.JSONField(_("keyword arguments"), default=dict)
    exception = models.CharField(_("error"), max_length=200)
    error = models.TextField(_("message"), blank=True)
    traceback = models.TextField(_("traceback"), blank=True)
    created_at = models.DateTimeField(_("failed at"), auto_now_add=True, db_index=True)
    retried_at = models.DateTimeField(_("retried at"), null=True, blank=True)
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("retried by"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    retries = models.PositiveSmallIntegerField(_("retries"), default=0)
    retry_task_id = models.CharField(_("task id of the retry"), max_length=64, blank=True, db_index=True)
    resolved = models.BooleanField(_("resolved"), default=False, db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("failed task")
        verbose_name_plural = _("failed tasks")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.exception})"


class SweepMark(models.Model):
    """Where a periodic sweep that works on a time window stopped last (e.g. the digest of releases)."""

    name = models.CharField(max_length=60, unique=True)
    until = models.DateTimeField()

    class Meta:
        verbose_name = _("sweep watermark")
        verbose_name_plural = _("sweep watermarks")
