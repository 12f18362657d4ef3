"""Enquiries on transits not discharged in time (the notice of non-discharge to the guarantor), the principal's
answer with its proofs, and their closing."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from guarantees.web.forms.claims import EnquiryAnswerForm, EnquiryOpenForm, RequiredCommentForm
from guarantees.models import (
    OPEN_ENQUIRY_STATUSES,
    OPEN_TRANSIT_STATUSES,
    EnquiryDocument,
    EnquiryGround,
    EnquiryStatus,
    HoldStatus,
    ReleaseStatus,
    TransitStatus,
)
from guarantees.selectors.claims import (
    enquiries_visible_to,
    releases_to_approve,
)
from guarantees.services.claims import (
    claim_window,
)
from guarantees.services.enquiries import (
    enquiry_answer,
    enquiry_close,
    enquiry_open,
)
from guarantees.web.common import form_data, paginate, require
from guarantees.web.actions import case_action
from guarantees.web.cases import case_trail, case_transit, transit_url
from guarantees.web.tables import enquiry_rows


@require_safe
@login_required
def enquiry_list(request):
    require(request, "enquiry.view")
    status = request.GET.get("status", "")
    page, query = paginate(request, enquiry_rows(request.user, request.GET))
    context = {
        "page": page, "query": query, "status": status, "statuses": EnquiryStatus.choices,
        "to_approve": list(releases_to_approve(user=request.user)[:50]),
    }
    return render(request, "guarantees/enquiry/list.html", context)


@require_safe
@login_required
def enquiry_detail(request, pk):
    require(request, "enquiry.view")
    enquiry = get_object_or_404(enquiries_visible_to(user=request.user), pk=pk)
    transit = enquiry.transit
    user = request.user
    org = user.organisation
    hold = transit.hold
    is_open = enquiry.status in OPEN_ENQUIRY_STATUSES
    pending = transit.manual_releases.filter(status=ReleaseStatus.PROPOSED).first()
    window = claim_window(transit=transit) if is_open else None
    now = timezone.now()
    context = {
        "enquiry": enquiry,
        "transit": transit,
        "answers": enquiry.answers.select_related("answered_by").prefetch_related("documents"),
        "releases": enquiry.releases.select_related("proposed_by", "decided_by"),
        "pending": pending,
        "window": window,
        "can_answer": is_open and user.can("enquiry.answer") and org is not None
        and org.pk == transit.guarantee.principal_id,
        "can_propose": is_open and pending is None and user.can("release.propose") and hold is not None
        and hold.status == HoldStatus.HELD,
        "can_decide": pending is not None and user.can("release.approve") and org is not None
        and pending.customs_id == org.pk and pending.proposed_by_id != user.pk,
        "can_claim": is_open and user.can("claim.issue") and hold is not None and hold.status == HoldStatus.HELD
        and window is not None and window["earliest"] is not None and window["earliest"] <= now <= window["latest"],
        "claim_not_yet": is_open and user.can("claim.issue") and window is not None and window["earliest"] is not None
        and now < window["earliest"],
        "can_close": is_open and user.can("enquiry.open") and org is not None and org.pk == enquiry.customs_id,
        "trail": case_trail(transit).filter(enquiry=enquiry),
    }
    return render(request, "guarantees/enquiry/detail.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def enquiry_open_view(request, transit_pk):
    require(request, "enquiry.open")
    transit = case_transit(request, transit_pk)
    is_late = transit.status == TransitStatus.OVERDUE or transit.deadline < timezone.now()
    existing = transit.enquiries.filter(status__in=OPEN_ENQUIRY_STATUSES).first()
    form = EnquiryOpenForm(form_data(request), initial={"ground": EnquiryGround.OVERDUE if is_late
                                                        else EnquiryGround.IRREGULAR})
    return case_action(
        request, form=form, transit=transit, back_url=transit_url(transit),
        perform=lambda d: enquiry_open(transit=transit, by=request.user, ground=d["ground"], reason=d["reason"]),
        allowed=transit.status in OPEN_TRANSIT_STATUSES and existing is None,
        not_allowed=_("An enquiry is already open on this transit.") if existing else
        _("This transit is closed: no enquiry can be opened."),
        title=_("Open an enquiry"),
        intro=_("The principal and the guarantor bank are notified at once: this is the notice of non-discharge "
                "to the guarantor. The principal must answer with proof of discharge or the duties paid."),
        button=_("Open the enquiry and notify"),
        success=_("The enquiry is open; the principal and the bank were notified."),
        redirect_to=lambda e: reverse("guarantees:enquiry_detail", args=[e.pk]),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def enquiry_answer_view(request, pk):
    require(request, "enquiry.answer")
    enquiry = get_object_or_404(enquiries_visible_to(user=request.user), pk=pk)
    form = EnquiryAnswerForm(form_data(request), request.FILES if request.method == "POST" else None)
    return case_action(
        request, form=form, transit=enquiry.transit, enquiry=enquiry, multipart=True,
        back_url=reverse("guarantees:enquiry_detail", args=[enquiry.pk]),
        perform=lambda d: enquiry_answer(
            enquiry=enquiry, by=request.user, kind=d["kind"], text=d["text"], files=d["files"],
            payment_reference=d["payment_reference"], paid_on=d["paid_on"], amount_paid=d["amount_paid"],
        ),
        allowed=enquiry.status in OPEN_ENQUIRY_STATUSES,
        not_allowed=_("This enquiry is closed."),
        title=_("Answer the enquiry"),
        intro=_("Send the proof that the goods reached their destination (discharge certificate, exit or arrival "
                "stamps), or declare that the duties and taxes were paid, with the receipt."),
        button=_("Send the answer"),
        success=_("Your answer was sent to customs."),
        redirect_to=reverse("guarantees:enquiry_detail", args=[enquiry.pk]),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def enquiry_close_view(request, pk):
    require(request, "enquiry.open")
    enquiry = get_object_or_404(enquiries_visible_to(user=request.user), pk=pk)
    return case_action(
        request, form=RequiredCommentForm(form_data(request)), transit=enquiry.transit, enquiry=enquiry,
        back_url=reverse("guarantees:enquiry_detail", args=[enquiry.pk]),
        perform=lambda d: enquiry_close(enquiry=enquiry, by=request.user, comment=d["comment"]),
        allowed=enquiry.status in OPEN_ENQUIRY_STATUSES,
        not_allowed=_("This enquiry is closed."),
        title=_("Close the enquiry"),
        intro=_("Close the enquiry without a release or a claim, for example when the discharge arrived meanwhile."),
        button=_("Close the enquiry"),
        success=_("The enquiry is closed."),
        redirect_to=reverse("guarantees:enquiry_detail", args=[enquiry.pk]),
    )


@require_safe
@login_required
def enquiry_document(request, pk):
    require(request, "enquiry.view")
    document = get_object_or_404(
        EnquiryDocument.objects.filter(answer__enquiry__in=enquiries_visible_to(user=request.user).values("pk")),
        pk=pk,
    )
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=document.original_name,
                        content_type=document.content_type)
