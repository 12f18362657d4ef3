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
