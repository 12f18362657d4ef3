"""Forms of the customs systems' files and keys: a discharge file, a list of open transits, an API key."""

from django import forms
from django.utils.translation import gettext_lazy as _
from accounts.models import Organisation
from accounts.roles import OrganisationKind
from django.utils.translation import gettext_lazy


# A customs system's daily export of discharges is a few thousand lines: a few hundred kilobytes.
MAX_DISCHARGE_FILE_BYTES = 10 * 1024 * 1024


DISCHARGE_FILE_EXTENSIONS = (".csv", ".json")


# The largest list of open transits a page accepts (20 MB).
MAX_LIST_BYTES = 20 * 1024 * 1024

class DischargeFileForm(forms.Form):
    file = forms.FileField(
        label=_("File (CSV or JSON)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.json,text/csv,application/json"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(DISCHARGE_FILE_EXTENSIONS):
            raise forms.ValidationError(_("Send a file ending in .csv or .json."))
        if upload.size > MAX_DISCHARGE_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is too large: at most %(size)s MB.") % {"size": MAX_DISCHARGE_FILE_BYTES // (1024 * 1024)}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


class ApiKeyIssueForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Customs administration"),
        queryset=Organisation.objects.none(),
        empty_label=_("Choose an administration"),
    )
    name = forms.CharField(
        label=_("Name of the key"), max_length=100,
        help_text=_("Which system uses it, e.g. “SYDONIA World – Lomé-Port production”."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(
            kind=OrganisationKind.CUSTOMS, is_active=True
        ).order_by("country", "name")
        self.fields["organisation"].label_from_instance = lambda org: f"{org.country} — {org.display_name}"


class ReconciliationListForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("List of open transits (CSV)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    as_of = forms.DateTimeField(
        label=gettext_lazy("List taken at (your local time)"), required=False,
        help_text=gettext_lazy("Leave empty for now. Transits declared after this moment are not expected in it."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError(gettext_lazy("Send a file ending in .csv."))
        if upload.size == 0:
            raise forms.ValidationError(gettext_lazy("The file is empty."))
        if upload.size > MAX_LIST_BYTES:
            raise forms.ValidationError(gettext_lazy("The file is too large."))
        return upload
