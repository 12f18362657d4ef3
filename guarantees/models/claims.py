"""Invoking a guarantee: the enquiry on an undischarged transit, the manual release by customs, and the claim.

One idea holds these together: the case of one transit. Customs of a country on its route open an
*enquiry* (which is also the notice of non-discharge to the guarantor); the principal answers with proof or
with the duties paid; customs then either *release* the hold manually (an officer proposes, a supervisor of
the same administration approves) or *claim* the amount at stake from the guarantor bank. Money moves only
in the services, through the guarantee's ledger; these rows record who decided what, when and why, and
``CaseEvent`` keeps the trail of every step.

Claim: ``issued → under_examination → paid (in full or in part) | rejected → (reissued | withdrawn)``. A
reissue is a new ``Claim`` row pointing at the rejected one (``previous``); the amount stays claimed on the
hold in between.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


# --- Enquiry ---------------------------------------------------------------------------------------

class EnquiryGround(models.TextChoices):
    OVERDUE = "overdue", pgettext_lazy("enquiry ground", "Not discharged within the time limit")
    IRREGULAR = "irregular", pgettext_lazy("enquiry ground", "Irregularity found")


class EnquiryStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("enquiry status", "Awaiting answer")
    ANSWERED = "answered", pgettext_lazy("enquiry status", "Answered")
    CLOSED = "closed", pgettext_lazy("enquiry status", "Closed")


class EnquiryOutcome(models.TextChoices):
    RELEASED = "released", pgettext_lazy("enquiry outcome", "Released by customs")
    CLAIMED = "claimed", pgettext_lazy("enquiry outcome", "Guarantee claimed")
    DISCHARGED = "discharged", pgettext_lazy("enquiry outcome", "Transit discharged")


OPEN_ENQUIRY_STATUSES = (EnquiryStatus.OPEN, EnquiryStatus.ANSWERED)


class Enquiry(models.Model):
    """A customs enquiry on an overdue or irregular transit. Opening it notifies the principal and the
    guarantor bank (the notice of non-discharge): the claim waiting period runs from ``opened_at``."""

    transit = models.ForeignKey(
        "guarantees.Transit", verbose_name=_("transit"), on_delete=models.PROTECT, related_name="enquiries"
    )
    customs = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("customs administration"), on_delete=models.PROTECT,
        related_name="+",
    )
    ground = models.CharField(_("ground"), max_length=10, choices=EnquiryGround.choices)
    reason = models.TextField(_("facts"))
    status = models.CharField(
        _("status"), max_length=10, choices=EnquiryStatus.choices, default=EnquiryStatus.OPEN, db_index=True
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=EnquiryOutcome.choices, blank=True)
    answer_due = models.DateField(_("answer due by"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("opened by"))
    opened_at = models.DateTimeField(_("opened (guarantor notified) at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("enquiry")
        verbose_name_plural = _("enquiries")
        ordering = ["-opened_at", "-pk"]
        # The list is newest first: its page reads the first rows of this index (without it, a scan of the
        # table: 0.4 s at a million transits, issue #13).
        indexes = [models.Index(fields=["-opened_at", "-id"], name="enquiry_newest_first")]
        constraints = [
            models.UniqueConstraint(
                fields=["transit"], condition=Q(status__in=["open", "answered"]), name="enquiry_one_open_per_transit"
            ),
        ]

    def __str__(self) -> str:
        return _("Enquiry on %(ref)s") % {"ref": self.transit.declaration_ref}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ENQUIRY_STATUSES


class AnswerKind(models.TextChoices):
    PROOF = "proof", pgettext_lazy("enquiry answer", "Proof of discharge")
    DUTIES_PAID = "duties_paid", pgettext_lazy("enquiry answer", "Duties and taxes paid")


class EnquiryAnswer(models.Model):
    """The principal's answer: proof that the goods reached their destination, or the duties paid."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="answers")
    kind = models.CharField(_("answer"), max_length=12, choices=AnswerKind.choices)
    text = models.TextField(_("explanation"))
    payment_reference = models.CharField(_("payment receipt number"), max_length=100, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    amount_paid = models.BigIntegerField(_("amount paid (FCFA)"), null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("answered by"))
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now)

    class Meta:
        verbose_name = _("answer to an enquiry")
        verbose_name_plural = _("answers to enquiries")
        ordering = ["answered_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_paid__isnull=True) | Q(amount_paid__gt=0), name="enquiry_answer_amount_positive"
            ),
        ]


def enquiry_document_path(instance: "EnquiryDocument", filename: str) -> str:
    """Stored under a random name: the uploader's file name is kept in the row, never used on disk."""
    import uuid

    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(instance.content_type, "bin")
    return f"enquiries/{instance.answer.enquiry_id}/{uuid.uuid4().hex}.{extension}"


class EnquiryDocument(models.Model):
    """A file sent with an answer (PDF, JPEG or PNG), stored under MEDIA_ROOT and served only through the
    registry's pages, to the people who may see the enquiry."""

    answer = models.ForeignKey(EnquiryAnswer, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(_("file"), upload_to=enquiry_document_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64, editable=False)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("enquiry document")
        verbose_name_plural = _("enquiry documents")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.original_name


# --- Manual release --------------------------------------------------------------------------------

class ReleaseGround(models.TextChoices):
    PROOF_ACCEPTED = "proof_accepted", pgettext_lazy("release ground", "Proof of discharge accepted")
    DUTIES_PAID = "duties_paid", pgettext_lazy("release ground", "Duties paid elsewhere")
    PAPER_DISCHARGE = "paper_discharge", pgettext_lazy("release ground", "Discharged on paper")


class ReleaseStatus(models.TextChoices):
    PROPOSED = "proposed", pgettext_lazy("release status", "Awaiting approval")
    APPROVED = "approved", pgettext_lazy("release status", "Approved")
    REFUSED = "refused", pgettext_lazy("release status", "Refused")


class ManualRelease(models.Model):
    """A release of a transit's hold decided by customs: an officer proposes, a different person of the same
    administration (a supervisor) approves."""

    transit = models.ForeignKey(
        "guarantees.Transit", verbose_name=_("transit"), on_delete=models.PROTECT, related_name="manual_releases"
    )
    enquiry = models.ForeignKey(Enquiry, on_delete=models.PROTECT, null=True, blank=True, related_name="releases")
    customs = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("customs administration"), on_delete=models.PROTECT,
        related_name="+",
    )
    ground = models.CharField(_("ground"), max_length=16, choices=ReleaseGround.choices)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=ReleaseStatus.choices, default=ReleaseStatus.PROPOSED, db_index=True
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("proposed by"))
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.TextField(_("comment on the decision"), blank=True)

    class Meta:
        verbose_name = _("manual release")
        verbose_name_plural = _("manual releases")
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["transit"], condition=Q(status="proposed"), name="manual_release_one_proposal_per_transit"
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("proposed_by")),
                name="manual_release_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return _("Manual release of %(ref)s") % {"ref": self.transit.declaration_ref}


# --- Claim -----------------------------------------------------------------------------------------

class ClaimStatus(models.TextChoices):
    ISSUED = "issued", pgettext_lazy("claim status", "Issued")
    UNDER_EXAMINATION = "under_examination", pgettext_lazy("claim status", "Under examination")
    PAID = "paid", pgettext_lazy("claim status", "Paid")
    REJECTED = "rejected", pgettext_lazy("claim status", "Rejected")
    REISSUED = "reissued", pgettext_lazy("claim status", "Reissued")
    WITHDRAWN = "withdrawn", pgettext_lazy("claim status", "Withdrawn")


# The bank must answer these; a claim in one of them past its deadline is overdue.
AWAITING_BANK_STATUSES = (ClaimStatus.ISSUED, ClaimStatus.UNDER_EXAMINATION)
# Claims still open on their transit (at most one per transit).
OPEN_CLAIM_STATUSES = (ClaimStatus.ISSUED, ClaimStatus.UNDER_EXAMINATION, ClaimStatus.REJECTED)


class ClaimDecision(models.TextChoices):
    PAY = "pay", pgettext_lazy("claim decision", "Pay")
    REJECT = "reject", pgettext_lazy("claim decision", "Reject")


class Claim(models.Model):
    """A demand for payment under the guarantee, for one transit, by a customs administration of its route."""

    number = models.CharField(_("claim number"), max_length=40, unique=True)
    transit = models.ForeignKey(
        "guarantees.Transit", verbose_name=_("transit"), on_delete=models.PROTECT, related_name="claims"
    )
    guarantee = models.ForeignKey(
        "guarantees.Guarantee", verbose_name=_("guarantee"), on_delete=models.PROTECT, related_name="claims"
    )
    hold = models.ForeignKey("guarantees.Hold", on_delete=models.PROTECT, related_name="claims")
    enquiry = models.ForeignKey(Enquiry, on_delete=models.PROTECT, null=True, blank=True, related_name="claims")
    previous = models.OneToOneField(
        "self", verbose_name=_("reissue of"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="reissue",
    )
    round = models.PositiveSmallIntegerField(_("presentation"), default=1)
    customs = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("claiming administration"), on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.BigIntegerField(_("amount claimed (FCFA)"))
    grounds = models.TextField(_("grounds of the claim"))
    status = models.CharField(
        _("status"), max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.ISSUED, db_index=True
    )
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("issued by"))
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    examination_due = models.DateField(_("answer due by"))
    examination_deadline = models.DateTimeField(_("end of the examination period"), db_index=True)
    examination_started_at = models.DateTimeField(_("examination started at"), null=True, blank=True)

    # The bank's maker may prepare the answer; the checker decides.
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("prepared by (maker)"))
    prepared_at = models.DateTimeField(_("prepared at"), null=True, blank=True)
    proposed_decision = models.CharField(_("proposed answer"), max_length=8, choices=ClaimDecision.choices,
                                         blank=True)
    proposed_amount = models.BigIntegerField(_("proposed payment (FCFA)"), null=True, blank=True)
    proposed_discrepancies = models.JSONField(_("proposed discrepancies"), default=list, blank=True)
    maker_comment = models.TextField(_("maker's comment"), blank=True)

    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("answered by (checker)"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    paid_amount = models.BigIntegerField(_("amount paid (FCFA)"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    payment_date = models.DateField(_("payment date"), null=True, blank=True)
    discrepancies = models.JSONField(_("discrepancies"), default=list, blank=True)

    overdue_flagged_at = models.DateTimeField(_("flagged unanswered at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("withdrawn by"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-issued_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "examination_deadline"]),
            models.Index(fields=["-issued_at", "-id"], name="claim_newest_first"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="claim_amount_positive"),
            models.CheckConstraint(
                condition=Q(paid_amount__isnull=True) | (Q(paid_amount__gt=0) & Q(paid_amount__lte=F("amount"))),
                name="claim_paid_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(prepared_by__isnull=True) | Q(answered_by__isnull=True) | ~Q(prepared_by=F("answered_by")),
                name="claim_maker_is_not_checker",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | (Q(paid_amount__isnull=False) & Q(payment_date__isnull=False)),
                name="claim_paid_has_payment",
            ),
            models.UniqueConstraint(
                fields=["transit"], condition=Q(status__in=["issued", "under_examination", "rejected"]),
                name="claim_one_open_per_transit",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def awaits_bank(self) -> bool:
        return self.status in AWAITING_BANK_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.awaits_bank and timezone.now() >= self.examination_deadline

    @property
    def paid_in_part(self) -> bool:
        return self.status == ClaimStatus.PAID and (self.paid_amount or 0) < self.amount


# --- The trail -------------------------------------------------------------------------------------

class CaseAction(models.TextChoices):
    ENQUIRY_OPENED = "enquiry_opened", pgettext_lazy("case action", "Enquiry opened, guarantor notified")
    ENQUIRY_ANSWERED = "enquiry_answered", pgettext_lazy("case action", "Enquiry answered")
    ENQUIRY_CLOSED = "enquiry_closed", pgettext_lazy("case action", "Enquiry closed")
    RELEASE_PROPOSED = "release_proposed", pgettext_lazy("case action", "Manual release proposed")
    RELEASE_APPROVED = "release_approved", pgettext_lazy("case action", "Manual release approved")
    RELEASE_REFUSED = "release_refused", pgettext_lazy("case action", "Manual release refused")
    CLAIM_ISSUED = "claim_issued", pgettext_lazy("case action", "Claim issued")
    CLAIM_EXAMINED = "claim_examined", pgettext_lazy("case action", "Examination started")
    CLAIM_PREPARED = "claim_prepared", pgettext_lazy("case action", "Answer prepared (maker)")
    CLAIM_PAID = "claim_paid", pgettext_lazy("case action", "Claim paid")
    CLAIM_REJECTED = "claim_rejected", pgettext_lazy("case action", "Claim rejected")
    CLAIM_REISSUED = "claim_reissued", pgettext_lazy("case action", "Claim reissued")
    CLAIM_WITHDRAWN = "claim_withdrawn", pgettext_lazy("case action", "Claim withdrawn")
    CLAIM_OVERDUE = "claim_overdue", pgettext_lazy("case action", "Claim unanswered by its deadline")


class CaseEvent(models.Model):
    """Who did what on a transit's enquiry, release or claim, when and why. Append-only."""

    transit = models.ForeignKey("guarantees.Transit", on_delete=models.PROTECT, related_name="case_events")
    enquiry = models.ForeignKey(Enquiry, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    release = models.ForeignKey(ManualRelease, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="events")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    action = models.CharField(_("action"), max_length=20, choices=CaseAction.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                           related_name="+", verbose_name=_("by"))
    comment = models.TextField(_("comment"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "pk"]
