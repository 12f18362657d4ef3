"""The pace of each guarantee over a window: what its holds took and its releases gave back, from the ledger.

Read by the headroom forecast (``guarantees.forecast``) on the forwarder's reports and by the daily sweep that
alerts on it, so that the page and the alert always agree. One grouped query for any number of guarantees.
"""

from __future__ import annotations

import datetime

from django.db.models import Q, Sum

from guarantees.models import EntryKind, LedgerEntry

HOLD_KINDS = (EntryKind.HOLD,)
RELEASE_KINDS = (EntryKind.RELEASE, EntryKind.PARTIAL_RELEASE)


def guarantees_pace(*, guarantee_ids, since: datetime.datetime, using: str = "default") -> dict[int, tuple[int, int]]:
    """``{guarantee_id: (held, released)}`` over the entries written at or after ``since``; a guarantee with no
    hold nor release in the window is absent (read it as ``(0, 0)``)."""
    rows = (
        LedgerEntry.objects.using(using)
        .filter(guarantee_id__in=guarantee_ids, created_at__gte=since, kind__in=HOLD_KINDS + RELEASE_KINDS)
        .values("guarantee_id")
        .annotate(
            held=Sum("d_held", filter=Q(kind__in=HOLD_KINDS), default=0),
            released=Sum("d_held", filter=Q(kind__in=RELEASE_KINDS), default=0),
        )
        .order_by()
    )
    return {row["guarantee_id"]: (int(row["held"]), -int(row["released"])) for row in rows}
