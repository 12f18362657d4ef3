"""What each organisation may see of transits: forwarders theirs, banks those on their guarantees, customs
those whose route passes through their country, the secretariat all."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.roles import OrganisationKind
from guarantees.grn import grn_normalise
from guarantees.models import (
    OPEN_TRANSIT_STATUSES,
    Guarantee,
    Transit,
    TransitStatus,
    TransitStop,
)

# Beyond this many guarantees matching a search, their ids are not listed in the query but joined.
SEARCH_GUARANTEES_LISTED = 500


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


def transit_visibility(*, user, through: str, guarantee: str | None = None):
    """The rule of ``transits_visible_to`` written on a model that points at a transit by the foreign key
    ``through`` (an enquiry's, a claim's ``transit``): a condition for ``filter()``, or ``None`` for nothing.

    ``filter(transit__in=transits_visible_to(...))`` reads the same, but at a million transits PostgreSQL may
    gather every visible transit first to probe a few thousand cases against them (0.2–0.4 s); here each case's
    own transit is checked — its guarantee's principal or bank, or an EXISTS probe of its stops for customs.
    ``guarantee``: the model's own foreign key to the transit's guarantee (a claim's), read instead of going
    through the transit (one join less for banks and forwarders: at a million transits a bank's claims list read
    in 48 ms, now 25)."""
    organisation = getattr(user, "organisation", None) if user.is_authenticated else None
    if organisation is None:
        return None
    guarantee = guarantee or f"{through}__guarantee"
    if organisation.kind == OrganisationKind.FORWARDER:
        return Q(**{f"{guarantee}__principal": organisation})
    if organisation.kind == OrganisationKind.BANK:
        return Q(**{f"{guarantee}__bank__organisation": organisation})
    if organisation.kind == OrganisationKind.CUSTOMS:
        return Exists(TransitStop.objects.filter(transit_id=OuterRef(f"{through}_id"), country_id=organisation.country))
    if organisation.kind == OrganisationKind.SECRETARIAT:
        return Q()
    return None


def refused_events_visible_to(*, user) -> QuerySet:
    """Transit events kept refused: the secretariat sees every one; a customs administration those it sent,
    except the refusals that must not tell it anything (an event about a transit it may not see stays, to it,
    indistinguishable from one waiting for its declaration)."""
    from guarantees.errors import HIDDEN_REFUSALS
    from guarantees.models import EventStatus, TransitEvent

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


# The order of every transit list: newest first, served by the index (declared_at DESC, id DESC).
NEWEST_FIRST = ("-declared_at", "-pk")


def transits_newest_first(queryset: QuerySet[Transit], *, few: bool = False) -> QuerySet[Transit]:
    """``queryset`` newest first. ``few``: the filters matched a bounded set of transits (a search that found a
    few guarantees): they are read through their own indexes and sorted, rather than looked for by walking the
    newest-first index. PostgreSQL's planner assumes matches spread evenly over time; the transits of an old
    guarantee all lie at the far end of that walk (issue #13: 1.4 s at a million transits, through 610 000 rows,
    for 25 matches). ``COALESCE(declared_at, declared_at)`` is the same value, which no index provides."""
    if few:
        return queryset.order_by(Coalesce("declared_at", "declared_at").desc(), "-pk")
    return queryset.order_by(*NEWEST_FIRST)


# A search whose guarantees carry at most this many ledger entries (about two per transit) is sorted, not walked.
SEARCH_SORTED_ENTRIES = 40_000


def transit_matches(queryset: QuerySet[Transit], text: str) -> tuple[QuerySet[Transit], bool]:
    """Transits of ``queryset`` whose declaration reference, or whose guarantee's GRN, contains ``text``.

    Both columns carry a trigram index on PostgreSQL (migration 0035), which serves ``UPPER(col) LIKE '%…%'``
    (``icontains``) for any text of three characters or more. The two conditions are on two tables: as one
    ``OR`` across the join no index can serve it (issue #13: 1.2–2.8 s at a million transits), so the guarantees
    are looked up first (ten thousand rows, one index probe) and the transits then filtered on
    ``declaration_ref`` OR ``guarantee_id IN (those ids)`` — a bitmap OR of two index scans of one table.
    A search matching very many guarantees (a short text) keeps the join: it is no longer selective anyway.

    Returns the filtered queryset and whether its matches are few enough to be sorted rather than walked
    (``transits_newest_first(few=…)``): the matched guarantees' transits, counted by their ledgers."""
    text = (text or "").strip()
    if not text:
        return queryset, False
    grn = grn_normalise(text)
    found = list(Guarantee.objects.filter(grn__icontains=grn).values_list("pk", "ledger_seq")
                 [: SEARCH_GUARANTEES_LISTED + 1])
    if len(found) > SEARCH_GUARANTEES_LISTED:
        return queryset.filter(Q(guarantee__grn__icontains=grn) | Q(declaration_ref__icontains=text)), False
    if not found:
        return queryset.filter(declaration_ref__icontains=text), False
    few = sum(seq or 0 for _pk, seq in found) <= SEARCH_SORTED_ENTRIES
    return queryset.filter(Q(declaration_ref__icontains=text) | Q(guarantee_id__in=[pk for pk, _seq in found])), few


def overdue_condition(now=None) -> Q:
    """Open and past its time limit, or already marked overdue by the sweep.

    Written as "open, and (late or marked)" rather than "(open and late) or marked": the same rows, but the outer
    condition is the predicate of the partial index ``transit_open_newest_first``, so a page walks the open
    transits newest first (a few percent of the table) instead of every transit (issue #13)."""
    now = now or timezone.now()
    return Q(status__in=OPEN_TRANSIT_STATUSES) & (Q(deadline__lt=now) | Q(status=TransitStatus.OVERDUE))
