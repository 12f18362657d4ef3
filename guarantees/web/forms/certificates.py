"""Forms of the public verification page: a guarantee's number, or a certificate's PDF."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _



def too_large_message():
    return forms.ValidationError(
        _("The file is too large (at most %(size)s MB): a certificate is far smaller."),
        params={"size": settings.CERTIFICATE_UPLOAD_MAX_BYTES // (1024 * 1024)}, code="too_large",
    )


class CertificateUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Certificate (PDF file)"),
        help_text=_("The PDF file of the certificate, as you received it."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def __init__(self, *args, cut_off: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.cut_off = cut_off  # the upload handler stopped reading the file at the limit

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.CERTIFICATE_UPLOAD_MAX_BYTES:
            raise too_large_message()
        return upload

    def clean(self):
        if self.cut_off:
            self._errors.pop("file", None)  # "required": the part was dropped because it was too large
            self.add_error("file", too_large_message())
        return super().clean()


class GrnForm(forms.Form):
    grn = forms.CharField(label=_("Guarantee reference number (GRN)"), max_length=40)
