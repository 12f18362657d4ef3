"""Forms of a guarantee's life: the request, the bank's decisions bound to a preparation, the customs'
decisions with their reason, the check of a guarantee with its access code, the access codes."""

from django import forms
from django.utils.translation import gettext_lazy as _
from guarantees.grn import grn_normalise
from guarantees.models import Bank
from guarantees.web.forms.fields import DateField, FrancsField, comment_field, reason_field, terms_field


class GuaranteeRequestForm(forms.Form):
    bank = forms.ModelChoiceField(
        label=_("Guarantor bank"), queryset=Bank.objects.none(), empty_label=_("Choose a bank"),
    )
    requested_amount = FrancsField(
        label=_("Reference amount (FCFA)"),
        help_text=_("Whole francs CFA. It must cover the highest amount at stake of your transits in progress."),
    )
    valid_from = DateField(label=_("Valid from"))
    valid_until = DateField(label=_("Valid until"))
    purpose = forms.CharField(
        label=_("Purpose"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example the corridors and goods you usually carry."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = Bank.objects.filter(is_approved=True).select_related("organisation")

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The validity must end after it starts."))
        return data


class ReasonForm(forms.Form):
    reason = reason_field()


class OptionalReasonForm(forms.Form):
    reason = reason_field(required=False)


class ConfirmationForm(forms.Form):
    """No field: the button of a confirmation page (the CSRF token is the only input)."""


class CheckerConfirmForm(forms.Form):
    """The checker's confirmation: the button, and the preparation her page showed."""

    terms = terms_field()


class CheckerReasonForm(forms.Form):
    """The checker declines or sends back the preparation her page showed, saying why."""

    terms = terms_field()
    reason = reason_field()


class PrepareForm(forms.Form):
    terms = terms_field()
    amount = FrancsField(label=_("Reference amount (FCFA)"))
    valid_until = DateField(label=_("Valid until"))
    comment = comment_field()


class AccessCodeIssueForm(forms.Form):
    label = forms.CharField(
        label=_("Label"), required=False, max_length=80,
        help_text=_("To tell your codes apart, e.g. the name of the driver or the transit agent who receives it."),
    )


class LookupForm(forms.Form):
    grn = forms.CharField(label=_("Guarantee reference number (GRN)"), max_length=40)

    def clean_grn(self):
        return grn_normalise(self.cleaned_data["grn"])


class AccessCodeCheckForm(LookupForm):
    access_code = forms.CharField(
        label=_("Access code"), max_length=8, widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
