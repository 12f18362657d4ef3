"""The secretariat's forms for guarantor banks: approval and ceiling."""

from django import forms
from django.utils.translation import gettext_lazy as _
from accounts.models import Organisation
from accounts.roles import OrganisationKind
from guarantees.limits import DB_AMOUNT_MAX
from guarantees.web.forms.fields import FrancsField, reason_field


class BankApproveForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Bank"), queryset=Organisation.objects.none())
    exposure_ceiling = FrancsField(label=_("Exposure ceiling (FCFA)"), min_value=0, ceiling=DB_AMOUNT_MAX)
    approval_reference = forms.CharField(label=_("Approval decision"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = (
            Organisation.objects.filter(kind=OrganisationKind.BANK, is_active=True)
            .exclude(bank__is_approved=True)
            .order_by("name")
        )


class CeilingForm(forms.Form):
    exposure_ceiling = FrancsField(label=_("New exposure ceiling (FCFA)"), min_value=0, ceiling=DB_AMOUNT_MAX)
    reason = reason_field()
