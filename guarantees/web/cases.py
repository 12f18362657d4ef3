"""What the enquiry, release and claim pages share: the transit they are about, and its trail."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from guarantees.selectors.transits import transits_visible_to


ACTION_TEMPLATE = "guarantees/claim/action.html"


def case_transit(request, pk: int):
    return get_object_or_404(
        transits_visible_to(user=request.user).select_related("guarantee__bank__organisation", "hold"), pk=pk
    )


def transit_url(transit) -> str:
    return reverse("guarantees:transit_detail", args=[transit.declaration_ref])


def case_trail(transit):
    return transit.case_events.select_related("by", "claim", "enquiry").order_by("at", "pk")
