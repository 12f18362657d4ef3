"""Forms of an amendment: the forwarder's request and the maker's preparation."""

from django import forms
from django.utils.translation import gettext_lazy as _
from guarantees.web.forms.fields import DateField, FrancsField, comment_field, reason_field, terms_field


class AmendmentRequestForm(forms.Form):
    new_amount = FrancsField(label=_("New reference amount (FCFA)"))
    new_valid_until = DateField(label=_("New end of validity"))
    reason = reason_field(required=False)


class AmendmentPrepareForm(forms.Form):
    terms = terms_field()
    new_amount = FrancsField(label=_("New reference amount (FCFA)"))
    new_valid_until = DateField(label=_("New end of validity"))
    comment = comment_field()


class AmendmentStartForm(forms.Form):
    """The bank's maker starts an amendment: an extension on the bank's decision, or a change of the amount at the
    principal's request by letter."""

    new_amount = FrancsField(label=_("New reference amount (FCFA)"))
    new_valid_until = DateField(label=_("New end of validity"))
    letter_reference = forms.CharField(
        label=_("Reference of the principal's letter"), required=False, max_length=100,
        help_text=_("Required to change the amount or shorten the validity: the principal asked for it in writing."),
    )
    comment = comment_field()
