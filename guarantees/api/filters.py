"""FilterSets of the API lists. They filter a queryset the view has already narrowed to what the caller may
see, so a filter can never reach another organisation's rows."""

import datetime

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guarantees.grn import grn_normalise
from guarantees.models import GuaranteeStatus, TransitStatus, TransitStop
from guarantees.selectors.transits import overdue_condition



def overdue_q() -> Q:
    """Overdue: marked so by the sweep, or still on the road past its time limit (before the sweep ran). The
    pages' ``overdue_condition``, the one rule (its shape lets the partial index of open transits serve it)."""
    return overdue_condition(timezone.now())


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or ``1``/``0``); anything else is an error rather than silently no filter."""

    widget = forms.TextInput
    _VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        parsed = self._VALUES.get(str(value).strip().lower())
        if parsed is None:
            raise forms.ValidationError(_("Use true or false."), code="invalid")
        return parsed

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """ISO 8601, turned into UTC here: PostgreSQL refuses offsets beyond ±15:59 that Python accepts."""

    def to_python(self, value):
        result = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(datetime.timezone.utc) if result.tzinfo else result
        except (OverflowError, ValueError):
            raise forms.ValidationError(_("This date is out of range."), code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class TransitFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TransitStatus.choices, help_text=_("Transit status."))
    office = django_filters.CharFilter(
        method="filter_office", max_length=12,
        help_text=_("Code of an office on the route (departure, border or destination)."),
    )
    guarantee = django_filters.CharFilter(method="filter_guarantee", max_length=30, help_text=_("GRN."))
    corridor = django_filters.CharFilter(field_name="corridor__code", max_length=32, help_text=_("Corridor code."))
    overdue = StrictBooleanFilter(method="filter_overdue", help_text=_("Past its time limit."))
    declared_after = UtcIsoDateTimeFilter(
        field_name="declared_at", lookup_expr="gte", help_text=_("Declared at or after (ISO 8601).")
    )
    declared_before = UtcIsoDateTimeFilter(
        field_name="declared_at", lookup_expr="lt", help_text=_("Declared before (ISO 8601).")
    )

    class Meta:
        fields: list[str] = []

    def filter_office(self, queryset, name, value):
        code = (value or "").strip().upper()
        if not code:
            return queryset
        # EXISTS probe of the route's stops (office, transit), as in the pages' filter (issue #13).
        return queryset.filter(
            Exists(TransitStop.objects.filter(transit_id=OuterRef("pk"), office__code=code))
        )

    def filter_guarantee(self, queryset, name, value):
        grn = grn_normalise(value)
        return queryset.filter(guarantee__grn=grn) if grn else queryset

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())


class GuaranteeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=GuaranteeStatus.choices, help_text=_("Guarantee status."))

    class Meta:
        fields: list[str] = []
