"""Filters of the guarantee lists (in the URL), narrowed to what the person may see."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from accounts.models import Organisation
from accounts.roles import OrganisationKind
from guarantees.grn import grn_normalise
from guarantees.models import Bank, Country, GuaranteeStatus
from guarantees.selectors.guarantees import guarantees_visible_to


def _visible(request):
    return guarantees_visible_to(user=request.user) if request is not None else None


def _banks(request):
    visible = _visible(request)
    if visible is None:
        return Bank.objects.none()
    return Bank.objects.filter(pk__in=visible.values("bank_id")).select_related("organisation")


def _principals(request):
    visible = _visible(request)
    if visible is None:
        return Organisation.objects.none()
    return Organisation.objects.filter(pk__in=visible.values("principal_id")).order_by("name")


class GuaranteeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("GRN or request number"), method="filter_q")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=GuaranteeStatus.choices, empty_label=_("All"))
    bank = django_filters.ModelChoiceFilter(label=_("Guarantor bank"), queryset=_banks, empty_label=_("All"))
    # The principal is typed (part of its name): a bank works with hundreds of forwarders and the secretariat with
    # thousands, too many for a list to choose from (issue #13: 2 000 options took 150 ms to write into each
    # page). A link may still name one by its id (``principal``, kept in the form as a hidden field).
    principal_name = django_filters.CharFilter(label=_("Principal"), method="filter_principal_name", max_length=100)
    principal = django_filters.ModelChoiceFilter(label=_("Principal"), queryset=_principals, widget=forms.HiddenInput)
    country = django_filters.ModelChoiceFilter(label=_("Country of issue"), queryset=Country.objects.all(), empty_label=_("All"))
    valid_on = django_filters.DateFilter(
        label=_("Valid on"), method="filter_valid_on", input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    valid_until_after = django_filters.DateFilter(
        label=_("Validity ends after"), field_name="valid_until", lookup_expr="gte",
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    valid_until_before = django_filters.DateFilter(
        label=_("Validity ends before"), field_name="valid_until", lookup_expr="lte",
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )

    class Meta:
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organisation = getattr(getattr(self.request, "user", None), "organisation", None)
        if organisation is not None and organisation.kind == OrganisationKind.FORWARDER:
            del self.filters["principal"]  # a forwarder only ever sees its own guarantees
            del self.filters["principal_name"]
        for name in ("valid_on", "valid_until_after", "valid_until_before"):
            self.filters[name].field.widget.input_type = "date"

    @property
    def is_active(self) -> bool:
        """Whether any filter has a value (the page number does not count)."""
        return self.is_bound and any(self.data.get(name) for name in self.filters)

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        condition = Q(grn__icontains=grn_normalise(value))
        digits = value.lstrip("#")
        if digits.isdigit():
            condition |= Q(pk=int(digits))
        return queryset.filter(condition)

    def filter_principal_name(self, queryset, name, value):
        value = (value or "").strip()
        return queryset.filter(principal__name__icontains=value) if value else queryset

    def filter_valid_on(self, queryset, name, value):
        return queryset.filter(valid_from__lte=value, valid_until__gte=value)
