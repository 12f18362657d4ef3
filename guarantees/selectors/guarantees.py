"""Reads: what each organisation may see, balances and bank exposure.

``guarantees_visible_to`` is the one place that narrows guarantees to a user's organisation; every view and
endpoint starts from it, so another organisation's guarantee is simply not found (404).
"""

from django.db.models import Case, F, Q, QuerySet, Sum, TextField, Value, When

from accounts.roles import OrganisationKind
from guarantees.models import (
    AT_THE_BANK_STATUSES,
    WINDING_DOWN_STATUSES,
    Bank,
    Guarantee,
    GuaranteeEvent,
    GuaranteeStatus,
)


def guarantees_visible_to(*, user) -> QuerySet[Guarantee]:
    base = Guarantee.objects.select_related("principal", "bank__organisation", "country")
    organisation = user.organisation if user.is_authenticated else None
    if organisation is None:
        return base.none()
    if organisation.kind == OrganisationKind.FORWARDER:
        return base.filter(principal=organisation)
    if organisation.kind == OrganisationKind.BANK:
        return base.filter(bank__organisation=organisation).exclude(status=GuaranteeStatus.DRAFT)
    if organisation.kind == OrganisationKind.CUSTOMS:
        # A customs administration deals with the guarantees issued in its country; a check at the border
        # of any active guarantee goes through the GRN look-up with an access code, not through this list.
        return base.filter(country_id=organisation.country).exclude(
            status__in=[GuaranteeStatus.DRAFT, *AT_THE_BANK_STATUSES, GuaranteeStatus.WITHDRAWN,
                        GuaranteeStatus.DECLINED]
        )
    if organisation.kind == OrganisationKind.SECRETARIAT:
        return base.exclude(status=GuaranteeStatus.DRAFT)
    return base.none()


def guarantee_trail(*, guarantee: Guarantee, user) -> QuerySet[GuaranteeEvent]:
    """The guarantee's trail as ``user`` may read it, each event with its ``shown_comment``.

    The one rule for what the bank keeps to itself: an internal event's comment (the maker's notes to the
    checker, the checker's reason for sending a preparation back) is read only by those holding
    ``guarantee.internal_notes`` — the bank's staff (who only ever see their own bank's guarantees) and the
    secretariat. The principal and customs see that the event happened, by whom and when, not what it says.
    Pages read ``shown_comment``, never ``comment``.
    """
    events = guarantee.events.select_related("by")
    if user.can("guarantee.internal_notes"):
        return events.annotate(shown_comment=F("comment"))
    return events.annotate(
        shown_comment=Case(When(internal=True, then=Value("")), default=F("comment"), output_field=TextField())
    )


def guarantee_available(*, guarantee: Guarantee) -> int:
    return guarantee.amount - guarantee.held - guarantee.claimed - guarantee.paid


def bank_exposure(*, bank: Bank) -> int:
    """What the bank stands behind: the full amount of its confirmed, active and suspended guarantees, and
    what is still held or claimed on expired or cancelled ones."""
    confirmed = Guarantee.objects.filter(bank=bank, status=GuaranteeStatus.BANK_CONFIRMED).aggregate(
        total=Sum("requested_amount", default=0)
    )["total"]
    live = Guarantee.objects.filter(
        bank=bank, status__in=[GuaranteeStatus.ACTIVE, GuaranteeStatus.SUSPENDED]
    ).aggregate(total=Sum("amount", default=0))["total"]
    winding = Guarantee.objects.filter(bank=bank, status__in=WINDING_DOWN_STATUSES).aggregate(
        total=Sum(F("held") + F("claimed"), default=0)
    )["total"]
    return confirmed + live + winding


def banks_with_exposure() -> QuerySet[Bank]:
    """Banks annotated with ``exposure``, the same figure as ``bank_exposure``, in one query."""
    return Bank.objects.select_related("organisation").annotate(
        exposure=Sum(
            "guarantees__requested_amount",
            filter=Q(guarantees__status=GuaranteeStatus.BANK_CONFIRMED), default=0,
        )
        + Sum(
            "guarantees__amount",
            filter=Q(guarantees__status__in=[GuaranteeStatus.ACTIVE, GuaranteeStatus.SUSPENDED]), default=0,
        )
        + Sum(
            F("guarantees__held") + F("guarantees__claimed"),
            filter=Q(guarantees__status__in=WINDING_DOWN_STATUSES), default=0,
        ),
    )
