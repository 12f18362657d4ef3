"""Transit events kept but refused: the secretariat sees every one; each administration those it sent, except
those that would tell it of a transit it may not see."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe
from guarantees.web.common import paginate, require
from guarantees.web.tables import refused_event_rows


_EVENT_REASONS = {
    "not_on_route": gettext_lazy("Route does not cross the sender's country"),
    "sender_not_allowed": gettext_lazy("Sender may not report this event"),
    "office_not_allowed": gettext_lazy("Office not allowed for this event"),
    "office_not_yours": gettext_lazy("Office of another country"),
    "dated_before_declaration": gettext_lazy("Dated before the declaration"),
    "dated_in_future": gettext_lazy("Dated in the future"),
    "above_held": gettext_lazy("More than is held"),
}


@require_safe
@login_required
def refused_events(request):
    require(request, "event.refused")
    reason = request.GET.get("reason", "")
    sender = request.GET.get("sender", "").upper()[:2]
    page, query = paginate(request, refused_event_rows(request.user, request.GET))
    context = {"page": page, "query": query, "reasons": _EVENT_REASONS, "reason": reason, "sender": sender,
               "senders": ["BF", "ML", "NE", "TG"] if request.user.can("ledger.audit") else []}
    return render(request, "guarantees/operations/refused_events.html", context)
