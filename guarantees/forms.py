"""Forms of the guarantee pages. They only parse and check input; the services decide.

Amounts are whole francs CFA typed as people write them ("12 500 000", with ordinary, no-break or narrow
no-break spaces between the thousands); dates are typed in a date picker or as dd/mm/yyyy.
"""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from accounts.roles import OrganisationKind
from guarantees.grn import grn_normalise
from guarantees.models import Bank
from guarantees.terms import PreparedTerms

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]")
_DOT_GROUPS = re.compile(r"^\d{1,3}(\.\d{3})+$")
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"]


class FrancsField(forms.IntegerField):
    """A whole number of francs CFA; thousands may be separated by spaces (or by dots, "12.500.000")."""

    default_error_messages = {"invalid": _("Enter a whole number of francs CFA, e.g. 12 500 000.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"(?i)(f\s*cfa|xof)\s*$", "", value.strip())
            value = _SPACES.sub("", value)
            if _DOT_GROUPS.match(value):
                value = value.replace(".", "")
        return super().to_python(value)


class DateField(forms.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", DATE_INPUT_FORMATS)
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        super().__init__(**kwargs)


class PreparedTermsField(forms.Field):
    """The preparation a bank page showed (``guarantees.terms``), carried in a hidden input.

    Rendered, it always holds the ``initial`` terms — those of the row this request loaded and the page
    displays — even on a form re-shown after a refusal; cleaned, it is what the browser sent back. So a page
    refused because the terms changed shows the new terms and binds its next click to them, never to the
    ones the user no longer sees."""

    widget = forms.HiddenInput
    default_error_messages = {
        "invalid": _("This page is out of date or incomplete. Open it again from the bank queue."),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, PreparedTerms):
            return value
        try:
            return PreparedTerms.decode(value)
        except (ValueError, TypeError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def prepare_value(self, value):
        return value.encode() if isinstance(value, PreparedTerms) else value

    def bound_data(self, data, initial):
        return initial

    def has_changed(self, initial, data):
        return False


def _terms_field(**kwargs) -> PreparedTermsField:
    return PreparedTermsField(error_messages={"required": PreparedTermsField.default_error_messages["invalid"]},
                              **kwargs)


def _reason_field(*, required: bool = True, label=None) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"), required=required, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


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
    reason = _reason_field()


class OptionalReasonForm(forms.Form):
    reason = _reason_field(required=False)


class ConfirmationForm(forms.Form):
    """No field: the button of a confirmation page (the CSRF token is the only input)."""


class CheckerConfirmForm(forms.Form):
    """The checker's confirmation: the button, and the preparation her page showed."""

    terms = _terms_field()


class CheckerReasonForm(forms.Form):
    """The checker declines or sends back the preparation her page showed, saying why."""

    terms = _terms_field()
    reason = _reason_field()


def _comment_field() -> forms.CharField:
    return forms.CharField(
        label=_("Comment for the checker"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Internal to the bank: neither the principal nor customs see it."),
    )


class PrepareForm(forms.Form):
    terms = _terms_field()
    amount = FrancsField(label=_("Reference amount (FCFA)"))
    valid_until = DateField(label=_("Valid until"))
    comment = _comment_field()


class AmendmentRequestForm(forms.Form):
    new_amount = FrancsField(label=_("New reference amount (FCFA)"))
    new_valid_until = DateField(label=_("New end of validity"))
    reason = _reason_field(required=False)


class AmendmentPrepareForm(forms.Form):
    terms = _terms_field()
    new_amount = FrancsField(label=_("New reference amount (FCFA)"))
    new_valid_until = DateField(label=_("New end of validity"))
    comment = _comment_field()


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


class BankApproveForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Bank"), queryset=Organisation.objects.none())
    exposure_ceiling = FrancsField(label=_("Exposure ceiling (FCFA)"), min_value=0)
    approval_reference = forms.CharField(label=_("Approval decision"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = (
            Organisation.objects.filter(kind=OrganisationKind.BANK, is_active=True)
            .exclude(bank__is_approved=True)
            .order_by("name")
        )


class CeilingForm(forms.Form):
    exposure_ceiling = FrancsField(label=_("New exposure ceiling (FCFA)"), min_value=0)
    reason = _reason_field()
