"""What each organisation may see of transits: forwarders theirs, banks those on their guarantees, customs
those whose route passes through their country, the secretariat all."""

from django.db.models import Exists, OuterRef, QuerySet

from accounts.roles import OrganisationKind
from guarantees.models import Transit, TransitStop


def transits_visible_to(*, user) -> QuerySet[Transit]:
    base = Transit.objects.select_related(
        "guarantee", "guarantee__principal", "hold", "office_of_departure", "office_of_destination", "corridor"
    )
    organisation = getattr(user, "organisation", None) if user.is_authenticated else None
    if organisation is None:
        return base.none()
    if organisation.kind == OrganisationKind.FORWARDER:
        return base.filter(guarantee__principal=organisation)
    if organisation.kind == OrganisationKind.BANK:
        return base.filter(guarantee__bank__organisation=organisation)
    if organisation.kind == OrganisationKind.CUSTOMS:
        # EXISTS rather than IN: newest first, a page walks the declared_at index and probes each transit's
        # stops, instead of gathering every transit of the country first (the port of Lomé sees most of them).
        return base.filter(
            Exists(TransitStop.objects.filter(transit_id=OuterRef("pk"), country_id=organisation.country))
        )
    if organisation.kind == OrganisationKind.SECRETARIAT:
        return base
    return base.none()


def refused_events_visible_to(*, user) -> QuerySet:
    """Transit events kept refused: the secretariat sees every one; a customs administration those it sent,
    except the refusals that must not tell it anything (an event about a transit it may not see stays, to it,
    indistinguishable from one waiting for its declaration)."""
    from guarantees.models import EventStatus, TransitEvent
    from guarantees.errors import HIDDEN_REFUSALS

    base = (TransitEvent.objects.filter(status=EventStatus.REJECTED)
            .select_related("sender", "office", "transit").order_by("-received_at", "-pk"))
    organisation = getattr(user, "organisation", None) if user.is_authenticated else None
    if organisation is None:
        return base.none()
    if organisation.kind == OrganisationKind.SECRETARIAT:
        return base
    if organisation.kind == OrganisationKind.CUSTOMS:
        return base.filter(sender=organisation).exclude(error_code__in=HIDDEN_REFUSALS)
    return base.none()
