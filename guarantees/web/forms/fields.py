"""Form fields the registry's pages share: whole francs CFA, dates, the prepared terms a checker saw, reasons
and comments."""

import re
from django import forms
from django.utils.translation import gettext_lazy as _
from guarantees.formats import format_fcfa
from guarantees.limits import amount_max
from guarantees.terms import PreparedTerms


_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]")


_DOT_GROUPS = re.compile(r"^\d{1,3}(\.\d{3})+$")


DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"]


class FrancsField(forms.IntegerField):
    """A whole number of francs CFA; thousands may be separated by spaces (or by dots, "12.500.000")."""

    default_error_messages = {"invalid": _("Enter a whole number of francs CFA, e.g. 12 500 000.")}

    def __init__(self, *, ceiling: int | None = None, **kwargs):
        self.ceiling = ceiling  # None: the largest amount of a guarantee (guarantees.limits.amount_max)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value in self.empty_values:
            return
        # The registry's bound (guarantees.limits), said with the limit: above it the database cannot hold the
        # amount (an OverflowError, a 500) or no guarantee may be that large.
        maximum = amount_max() if self.ceiling is None else self.ceiling
        if value > maximum:
            raise forms.ValidationError(
                _("Enter a whole number of francs CFA no larger than %(max)s.") % {"max": format_fcfa(maximum)},
                code="max_value",
            )

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


def terms_field(**kwargs) -> PreparedTermsField:
    return PreparedTermsField(error_messages={"required": PreparedTermsField.default_error_messages["invalid"]},
                              **kwargs)


def reason_field(*, required: bool = True, label=None) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"), required=required, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def comment_field() -> forms.CharField:
    return forms.CharField(
        label=_("Comment for the checker"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Internal to the bank: neither the principal nor customs see it."),
    )


def text_field(label, *, required: bool = True, rows: int = 3, help_text: str = "") -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=4000, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); an empty list when none is sent."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []
