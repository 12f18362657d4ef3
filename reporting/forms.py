"""The filters of the report pages: all in the URL (GET), so a page can be bookmarked, shared and exported as
seen. Bad values are refused with a sentence (the page answers 400 and shows the form), never guessed."""

from __future__ import annotations


from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guarantees.models import Corridor
from reporting.selectors.common import DB, Period, first_of_month, last_months

MAX_MONTHS = 36
DEFAULT_MONTHS = 12


class MonthField(forms.DateField):
    """A month typed as ``2026-03`` (what ``<input type="month">`` sends), read as its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m"]

    def to_python(self, value):
        day = super().to_python(value)
        return first_of_month(day) if day else None


class ReportFilter(forms.Form):
    start = MonthField(label=pgettext_lazy("report filter", "From (month)"), required=False)
    end = MonthField(label=pgettext_lazy("report filter", "To (month)"), required=False)

    def __init__(self, data=None, *, user=None, corridors: bool = False, principals=None, **kwargs):
        super().__init__(data, **kwargs)
        if corridors:
            codes = Corridor.objects.using(DB).order_by("code").values_list("code", "name")
            self.fields["corridor"] = forms.ChoiceField(
                label=pgettext_lazy("report filter", "Corridor"), required=False,
                choices=[("", pgettext_lazy("report filter", "All"))] + [(c, f"{c} — {n}") for c, n in codes],
            )
        if principals is not None:
            self.fields["principal"] = forms.TypedChoiceField(
                label=pgettext_lazy("report filter", "Freight forwarder"), required=False, coerce=int,
                empty_value=None,
                choices=[("", pgettext_lazy("report filter", "All"))] + list(principals),
            )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        today = timezone.now().date()
        if end and end > first_of_month(today):
            self.add_error("end", _("The last month cannot be in the future."))
        if start and end and start > end:
            self.add_error("start", _("The first month must come before the last one."))
        if start and end and len(Period(start, end).months) > MAX_MONTHS:
            self.add_error("start", _("Choose at most %(n)s months.") % {"n": MAX_MONTHS})
        return data

    @property
    def is_active(self) -> bool:
        return self.is_bound and any(self.data.get(k) for k in self.fields)

    def period(self) -> Period:
        data = getattr(self, "cleaned_data", {}) or {}
        today = timezone.now().date()
        end = data.get("end") or first_of_month(today)
        start = data.get("start")
        if start is None:
            start = last_months(DEFAULT_MONTHS, today=end).start
        return Period(start=start, end=end)

    def value(self, name: str):
        return (getattr(self, "cleaned_data", {}) or {}).get(name) or None


