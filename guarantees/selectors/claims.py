"""Reads of enquiries, manual releases and claims: what each organisation may see, and the overdue claims.

Visibility follows the transit (``transits_visible_to``): customs see the cases of transits whose route
crosses their country, a bank those on the guarantees it issued, a forwarder those on its own transits, the
secretariat all. Anything else is simply not found (404).
"""

from django.db.models import QuerySet
from django.utils import timezone

from guarantees.models import (
    AWAITING_BANK_STATUSES,
    Claim,
    Enquiry,
    ManualRelease,
    ReleaseStatus,
)
from guarantees.selectors.transits import transit_visibility


def _visible(model, user, *, guarantee: str | None = None) -> QuerySet:
    condition = transit_visibility(user=user, through="transit", guarantee=guarantee)
    return model.objects.none() if condition is None else model.objects.filter(condition)


def enquiries_visible_to(*, user) -> QuerySet[Enquiry]:
    return _visible(Enquiry, user).select_related(
        "transit__guarantee__principal", "transit__guarantee__bank__organisation", "transit__office_of_departure",
        "transit__office_of_destination", "customs", "opened_by",
    )


def releases_visible_to(*, user) -> QuerySet[ManualRelease]:
    return _visible(ManualRelease, user).select_related(
        "transit__guarantee__principal", "customs", "proposed_by", "decided_by", "enquiry",
    )


def releases_to_approve(*, user) -> QuerySet[ManualRelease]:
    """Proposals of the user's administration, made by someone else, waiting for a supervisor."""
    organisation = user.organisation if user.is_authenticated else None
    if organisation is None or not user.can("release.approve"):
        return ManualRelease.objects.none()
    return (
        releases_visible_to(user=user)
        .filter(customs=organisation, status=ReleaseStatus.PROPOSED)
        .exclude(proposed_by=user)
        .order_by("proposed_at", "pk")
    )


def claims_visible_to(*, user) -> QuerySet[Claim]:
    # A claim's guarantee is its transit's (claim_issue sets both from the hold): read it directly.
    return _visible(Claim, user, guarantee="guarantee").select_related(
        "transit__office_of_departure", "transit__office_of_destination", "guarantee__principal",
        "guarantee__bank__organisation", "customs", "issued_by", "hold",
    )


def claims_overdue(*, now=None) -> QuerySet[Claim]:
    """Claims the bank has not answered by the end of their examination period."""
    return Claim.objects.filter(status__in=AWAITING_BANK_STATUSES, examination_deadline__lte=now or timezone.now())
