"""Transits: the list and page of the transits each role may see (customs those whose route crosses their
country), with the route, the hold, the amount at stake by country and the events."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe
from guarantees.web.tables import transit_filter
from guarantees.models import Country, Levy, StopRole, TransitStatus
from guarantees.selectors.guarantees import guarantees_visible_to
from guarantees.selectors.transits import transits_visible_to
from guarantees.services.amount_at_stake import ILLUSTRATIVE_RATE, NO_VAT_RATE, UNKNOWN_HS_CODE
from guarantees.web.common import paginate, require


WARNINGS = {
    UNKNOWN_HS_CODE: gettext_lazy(
        "An HS code matched no tariff line: the highest customs duty band was applied to that good."
    ),
    ILLUSTRATIVE_RATE: gettext_lazy("Some rates used are unconfirmed values kept by the secretariat."),
    NO_VAT_RATE: gettext_lazy("No VAT rate was in force for a country of the route on the day of declaration."),
}


TRANSPORT_LABELS = {
    "vehicle": gettext_lazy("Vehicle"),
    "trailer": gettext_lazy("Trailer"),
    "container": gettext_lazy("Container"),
    "containers": gettext_lazy("Containers"),
    "seal": gettext_lazy("Seal"),
    "seals": gettext_lazy("Seals"),
    "driver": gettext_lazy("Driver"),
    "carrier": gettext_lazy("Carrier"),
    "mode": gettext_lazy("Mode"),
    "nationality": gettext_lazy("Nationality"),
}


def _transits(request):
    return transits_visible_to(user=request.user).select_related(
        "office_of_departure__country", "office_of_destination__country", "guarantee__bank__organisation",
    )


@require_safe
@login_required
def transit_list(request):
    require(request, "transit.view")
    filterset = transit_filter(request.user, request.GET)
    page, query = paginate(request, filterset.qs)
    return render(request, "guarantees/transit/list.html", {"filter": filterset, "page": page, "query": query})


def _breakdown(transit, stops) -> dict | None:
    """The stored amount at stake, laid out per country in the order of the route."""
    data = transit.amount_breakdown or {}
    per_country = data.get("breakdown") or {}
    if not per_country:
        return None
    route_order = list(dict.fromkeys(stop.country_id for stop in stops))
    codes = sorted(per_country, key=lambda c: route_order.index(c) if c in route_order else len(route_order))
    names = {c.pk: c.name for c in Country.objects.filter(pk__in=codes)}
    levy_codes = {line.get("levy") for country in per_country.values() for line in country.get("lines", [])}
    levy_names = dict(Levy.objects.filter(code__in=levy_codes).values_list("code", "name"))
    goods = transit.goods or []
    countries = []
    for code in codes:
        lines = []
        for line in per_country[code].get("lines", []):
            index = line.get("good")
            good = goods[index] if isinstance(index, int) and 0 <= index < len(goods) else {}
            lines.append({
                **line,
                "good_number": index + 1 if isinstance(index, int) else "",
                "good_description": good.get("description", "") if isinstance(good, dict) else "",
                "levy_name": levy_names.get(line.get("levy"), ""),
                "unknown_hs_code": UNKNOWN_HS_CODE in (line.get("flags") or []),
            })
        countries.append({
            "code": code,
            "name": names.get(code, code),
            "lines": lines,
            "total": per_country[code].get("total"),
            "kept": code == data.get("country"),
        })
    return {
        "countries": countries,
        "amount": data.get("amount"),
        "country": data.get("country"),
        "warnings": [WARNINGS.get(w, w) for w in data.get("warnings") or []],
    }


@require_safe
@login_required
def transit_detail(request, declaration_ref):
    require(request, "transit.view")
    transit = get_object_or_404(_transits(request).select_related("corridor"), declaration_ref=declaration_ref)
    stops = list(transit.stops.select_related("office__country", "country").order_by("position"))
    events = list(transit.events.select_related("office__country", "sender").order_by("occurred_at", "pk"))
    guarantee = transit.guarantee
    context = {
        "transit": transit,
        "stops": stops,
        "border_role": StopRole.BORDER,
        "events": events,
        "hold": transit.hold,
        "guarantee": guarantee,
        "guarantee_visible": guarantees_visible_to(user=request.user).filter(pk=guarantee.pk).exists(),
        "is_late": transit.status == TransitStatus.OVERDUE or (transit.is_open and transit.deadline < timezone.now()),
        "breakdown": _breakdown(transit, stops),
        "goods": [g for g in (transit.goods or []) if isinstance(g, dict)],
        "transport": [
            (TRANSPORT_LABELS.get(key, key), _plain(value)) for key, value in (transit.transport or {}).items()
            if value not in (None, "", [], {})
        ],
    }
    return render(request, "guarantees/transit/detail.html", context)


def _plain(value) -> str:
    """A transport detail as received (text, list or object) as one line of text."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    return str(value)
