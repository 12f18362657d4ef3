"""Filters of the transit lists (in the URL): status, office, corridor, guarantee, dates, overdue.

Each is written so that an index serves it at a million transits (issue #13): the search through
``transit_matches`` (trigram indexes; a search matching a few guarantees' transits is sorted, not walked), the office as an EXISTS probe of the route's stops, the dates as a
half-open range of instants on ``declared_at`` itself (not its date: a cast defeats the index), overdue as
``overdue_condition``.
"""

import datetime

import django_filters
from django import forms
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guarantees.models import OPEN_TRANSIT_STATUSES, Corridor, Office, TransitStatus, TransitStop
from guarantees.selectors.transits import overdue_condition, transit_matches, transits_newest_first


DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def start_of_day(day: datetime.date) -> datetime.datetime:
    """The first instant of ``day`` in the current zone (the reader's, set by ``ReaderZoneMiddleware``)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


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
        label=_("Declared from"), method="filter_declared_after", input_formats=DATE_FORMATS,
    )
    declared_before = django_filters.DateFilter(
        label=_("Declared until"), method="filter_declared_before", input_formats=DATE_FORMATS,
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

    few_matches = False

    @property
    def qs(self):
        """The filtered transits (all of them without filters), newest first — sorted rather than walked when a
        search matched only a few (``filter_q``)."""
        if not hasattr(self, "_ordered"):
            self._ordered = transits_newest_first(super().qs, few=self.few_matches)
        return self._ordered

    def filter_q(self, queryset, name, value):
        queryset, self.few_matches = transit_matches(queryset, value)
        return queryset

    def filter_office(self, queryset, name, value):
        """Any office of the route: departure, a border office or the destination. EXISTS, as for customs'
        visibility: a page walks the newest-first index and probes each transit's stops (office, transit)."""
        return queryset.filter(Exists(TransitStop.objects.filter(transit_id=OuterRef("pk"), office=value)))

    def filter_declared_after(self, queryset, name, value):
        """From the start of that day in the reader's zone (the zone the page shows times in)."""
        return queryset.filter(declared_at__gte=start_of_day(value))

    def filter_declared_before(self, queryset, name, value):
        """Until the end of that day in the reader's zone: before the start of the next one."""
        return queryset.filter(declared_at__lt=start_of_day(value + datetime.timedelta(days=1)))

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue_condition()) if value else queryset
