"""Manual releases of a transit's hold by customs: an officer proposes, a supervisor approves or refuses."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from guarantees.web.forms.claims import DecisionCommentForm, ReleaseProposeForm, RequiredCommentForm
from guarantees.models import (
    OPEN_ENQUIRY_STATUSES,
    OPEN_TRANSIT_STATUSES,
    HoldStatus,
    ReleaseStatus,
)
from guarantees.selectors.claims import (
    releases_visible_to,
)
from guarantees.services.enquiries import (
    release_approve,
    release_propose,
    release_refuse,
)
from guarantees.web.common import form_data, require
from guarantees.web.actions import case_action
from guarantees.web.cases import case_transit, transit_url


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def release_propose_view(request, transit_pk):
    require(request, "release.propose")
    transit = case_transit(request, transit_pk)
    enquiry = transit.enquiries.filter(status__in=OPEN_ENQUIRY_STATUSES).first()
    pending = transit.manual_releases.filter(status=ReleaseStatus.PROPOSED).exists()
    held = transit.hold is not None and transit.hold.status == HoldStatus.HELD
    return case_action(
        request, form=ReleaseProposeForm(form_data(request)), transit=transit, enquiry=enquiry,
        back_url=reverse("guarantees:enquiry_detail", args=[enquiry.pk]) if enquiry else transit_url(transit),
        perform=lambda d: release_propose(transit=transit, by=request.user, ground=d["ground"], reason=d["reason"]),
        allowed=transit.status in OPEN_TRANSIT_STATUSES and held and not pending,
        not_allowed=_("A release of this transit is already awaiting approval.") if pending
        else _("Nothing is held for this transit that could be released."),
        title=_("Propose a manual release"),
        intro=_("The hold of this transit is given back to the guarantee once a supervisor of your administration, "
                "another person, approves."),
        button=_("Propose the release"),
        success=_("The release was proposed; a supervisor must approve it."),
        redirect_to=reverse("guarantees:enquiry_detail", args=[enquiry.pk]) if enquiry else transit_url(transit),
    )


def _release(request, pk):
    return get_object_or_404(releases_visible_to(user=request.user), pk=pk)


def _release_decision(request, pk, *, form_class, service, **page):
    """A supervisor's decision on a proposed manual release, then back to its transit."""
    require(request, "release.approve")
    release = _release(request, pk)
    return case_action(
        request, form=form_class(form_data(request)), transit=release.transit, enquiry=release.enquiry,
        back_url=transit_url(release.transit),
        perform=lambda d: service(release=release, by=request.user, comment=d["comment"]),
        allowed=release.status == ReleaseStatus.PROPOSED, not_allowed=_("This proposal was already decided."),
        redirect_to=transit_url(release.transit), extra={"release": release}, **page,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def release_approve_view(request, pk):
    return _release_decision(
        request, pk, form_class=DecisionCommentForm, service=release_approve,
        title=_("Approve the manual release"),
        intro=_("The hold is released through the ledger and the transit is discharged."),
        button=_("Approve and release"),
        success=_("The transit was released."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def release_refuse_view(request, pk):
    return _release_decision(
        request, pk, form_class=RequiredCommentForm, service=release_refuse,
        title=_("Refuse the manual release"), intro=_("Nothing is released; the officer is told why."),
        button=_("Refuse"), danger=True,
        success=_("The release was refused."),
    )
