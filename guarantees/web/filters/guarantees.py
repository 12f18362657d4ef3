"""Filters of the guarantee lists (in the URL), narrowed to what the person may see."""

import django_filters
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
    principal = django_filters.ModelChoiceFilter(label=_("Principal"), queryset=_principals, empty_label=_("All"))
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

    def filter_valid_on(self, queryset, name, value):
        return queryset.filter(valid_from__lte=value, valid_until__gte=value)
