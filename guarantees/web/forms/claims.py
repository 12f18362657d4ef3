"""Forms of enquiries, manual releases and claims."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from guarantees.web.forms.fields import DateField, FrancsField
from guarantees.models import AnswerKind, ClaimDecision, EnquiryGround, ReleaseGround
from guarantees.web.forms.fields import MultipleFileField, text_field


class EnquiryOpenForm(forms.Form):
    ground = forms.ChoiceField(label=_("Ground"), choices=EnquiryGround.choices, widget=forms.RadioSelect)
    reason = text_field(_("Facts"), rows=4, help_text=_("What was found, and what the principal must send."))


class EnquiryAnswerForm(forms.Form):
    kind = forms.ChoiceField(label=_("Answer"), choices=AnswerKind.choices, widget=forms.RadioSelect)
    text = text_field(_("Explanation"), rows=4)
    files = MultipleFileField(
        label=_("Documents"), required=False,
        help_text=_("PDF, JPEG or PNG; up to %(count)d files of %(size)s each.") % {
            "count": settings.REGISTRY_ENQUIRY_MAX_FILES,
            "size": filesizeformat(settings.REGISTRY_ENQUIRY_FILE_MAX_BYTES),
        },
    )
    payment_reference = forms.CharField(label=_("Payment receipt number"), required=False, max_length=100)
    paid_on = DateField(label=_("Paid on"), required=False)
    amount_paid = FrancsField(label=_("Amount paid (FCFA)"), required=False)

    def clean_files(self):
        files = self.cleaned_data.get("files") or []
        if len(files) > settings.REGISTRY_ENQUIRY_MAX_FILES:
            raise forms.ValidationError(_("Too many files."))
        for upload in files:
            if upload.size > settings.REGISTRY_ENQUIRY_FILE_MAX_BYTES:
                raise forms.ValidationError(
                    _("%(name)s is larger than %(size)s.") % {
                        "name": upload.name, "size": filesizeformat(settings.REGISTRY_ENQUIRY_FILE_MAX_BYTES)
                    }
                )
        return files

    def clean(self):
        data = super().clean()
        if data.get("kind") == AnswerKind.DUTIES_PAID:
            if not data.get("payment_reference"):
                self.add_error("payment_reference", _("Give the receipt number of the payment."))
            if not data.get("paid_on"):
                self.add_error("paid_on", _("Give the date of the payment."))
        if data.get("kind") == AnswerKind.PROOF and not data.get("files") and "files" not in self.errors:
            self.add_error("files", _("Attach at least one proof of discharge."))
        return data


class ReleaseProposeForm(forms.Form):
    ground = forms.ChoiceField(label=_("Ground"), choices=ReleaseGround.choices, widget=forms.RadioSelect)
    # Not "Reason": in French both would read "Motif" on one form.
    reason = text_field(_("Explanation"), rows=4, help_text=_("What you received or checked, with its references."))


class DecisionCommentForm(forms.Form):
    comment = text_field(_("Comment"), required=False)


class RequiredCommentForm(forms.Form):
    comment = text_field(_("Reason"))


class ClaimIssueForm(forms.Form):
    amount = FrancsField(label=_("Amount claimed (FCFA)"))
    grounds = text_field(_("Grounds of the claim"), rows=4,
                    help_text=_("The facts, the duties and taxes at stake and the enquiry's outcome."))

    def __init__(self, *args, held: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.held = held
        if held is not None:
            self.fields["amount"].help_text = _("No more than what is held for this transit.")

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if self.held is not None and amount > self.held:
            from guarantees.formats import format_fcfa

            raise forms.ValidationError(
                _("No more than %(held)s is held for this transit.") % {"held": format_fcfa(self.held)}
            )
        return amount


class ClaimPrepareForm(forms.Form):
    decision = forms.ChoiceField(label=_("Proposed answer"), choices=ClaimDecision.choices, widget=forms.RadioSelect)
    amount = FrancsField(label=_("Amount to pay (FCFA)"), required=False)
    discrepancies = text_field(_("Discrepancies, one per line"), required=False, rows=5)
    comment = text_field(_("Comment for the checker"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("decision") == ClaimDecision.PAY and not data.get("amount"):
            self.add_error("amount", _("Give the amount to pay."))
        if data.get("decision") == ClaimDecision.REJECT and not (data.get("discrepancies") or "").strip():
            self.add_error("discrepancies", _("List every discrepancy, one per line."))
        return data


class ClaimPayForm(forms.Form):
    amount = FrancsField(label=_("Amount paid (FCFA)"),
                         help_text=_("The whole claim, or a part of it: the rest is released."))
    payment_reference = forms.CharField(label=_("Payment reference"), max_length=100)
    payment_date = DateField(label=_("Payment date"))


class ClaimRejectForm(forms.Form):
    discrepancies = text_field(
        _("Discrepancies, one per line"), rows=6,
        help_text=_("One notice must list every discrepancy: none can be added later."),
    )


class ClaimReissueForm(ClaimIssueForm):
    grounds = text_field(_("Grounds of the claim, corrected"), rows=4,
                    help_text=_("Answer each discrepancy the bank listed."))
