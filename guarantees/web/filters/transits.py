"""Filters of the transit lists (in the URL): status, office, corridor, guarantee, dates, overdue."""

import django_filters
from django import forms
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guarantees.grn import grn_normalise
from guarantees.models import OPEN_TRANSIT_STATUSES, Corridor, Office, TransitStatus, TransitStop


DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def overdue_condition(now=None) -> Q:
    """Open and past its time limit, or already marked overdue by the sweep."""
    now = now or timezone.now()
    return Q(status__in=OPEN_TRANSIT_STATUSES, deadline__lt=now) | Q(status=TransitStatus.OVERDUE)


def with_late_flag(queryset: QuerySet, now=None) -> QuerySet:
    """``is_late`` on each row, for the "overdue" badge of the list."""
    return queryset.annotate(is_late=ExpressionWrapper(overdue_condition(now), output_field=BooleanField()))


class CheckboxFilter(django_filters.Filter):
    """A plain checkbox: ticked is ``True`` whatever value the browser sends ("on", "1", "true")."""

    field_class = forms.BooleanField


class TransitFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("GRN or declaration reference"), method="filter_q")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=TransitStatus.choices, empty_label=_("All"))
    office = django_filters.ModelChoiceFilter(
        label=_("Customs office"), queryset=Office.objects.filter(is_active=True).select_related("country"),
        to_field_name="code", method="filter_office", empty_label=_("All"),
    )
    corridor = django_filters.ModelChoiceFilter(
        label=_("Corridor"), queryset=Corridor.objects.filter(is_active=True), to_field_name="code",
        empty_label=_("All"),
    )
    declared_after = django_filters.DateFilter(
        label=_("Declared from"), field_name="declared_at", lookup_expr="date__gte", input_formats=DATE_FORMATS,
    )
    declared_before = django_filters.DateFilter(
        label=_("Declared until"), field_name="declared_at", lookup_expr="date__lte", input_formats=DATE_FORMATS,
    )
    overdue = CheckboxFilter(label=_("Overdue only"), method="filter_overdue")

    class Meta:
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("declared_after", "declared_before"):
            self.filters[name].field.widget.input_type = "date"
        # "BFOUAG — Ouagadougou": short enough for a select; the code is what customs officers type.
        self.filters["office"].field.label_from_instance = (
            lambda office: f"{office.code} — {office.town or office.name}"
        )

    @property
    def is_active(self) -> bool:
        """Whether any filter has a value (the page number does not count): the filter box opens then."""
        return self.is_bound and any(self.data.get(name) for name in self.filters)

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(guarantee__grn__icontains=grn_normalise(value)) | Q(declaration_ref__icontains=value))

    def filter_office(self, queryset, name, value):
        """Any office of the route: departure, a border office or the destination."""
        return queryset.filter(pk__in=TransitStop.objects.filter(office=value).values("transit_id"))

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue_condition()) if value else queryset
