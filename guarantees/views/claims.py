"""Pages of enquiries, manual releases and claims, for each side.

Customs see the enquiries and claims of the transits crossing their country and act on them (open, propose and
approve a release, claim, reissue, withdraw); banks see the claims on their guarantees with the examination
deadline and answer them (the maker prepares, the checker pays or rejects); forwarders see the enquiries and
claims on their transits and answer the enquiries with their proof.

The order of the checks is the access-matrix contract of ``guarantees.views.common``: no permission → 403;
another organisation's object (not in the ``*_visible_to`` selectors) → 404; a business rule → the message on the
page. Each POST calls one service.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from guarantees.errors import DomainError
from guarantees.forms_claims import (
    ClaimIssueForm,
    ClaimPayForm,
    ClaimPrepareForm,
    ClaimRejectForm,
    ClaimReissueForm,
    DecisionCommentForm,
    EnquiryAnswerForm,
    EnquiryOpenForm,
    ReleaseProposeForm,
    RequiredCommentForm,
)
from guarantees.models import (
    AWAITING_BANK_STATUSES,
    OPEN_CLAIM_STATUSES,
    OPEN_ENQUIRY_STATUSES,
    OPEN_TRANSIT_STATUSES,
    ClaimStatus,
    EnquiryDocument,
    EnquiryGround,
    EnquiryStatus,
    HoldStatus,
    ReleaseStatus,
    TransitStatus,
)
from guarantees.selectors.claims import (
    claims_visible_to,
    enquiries_visible_to,
    releases_to_approve,
    releases_visible_to,
)
from guarantees.selectors.transits import transits_visible_to
from guarantees.documents.renderer import LETTER, REJECTION, claim_document_render
from guarantees.services.claims import (
    claim_examine,
    claim_issue,
    claim_pay,
    claim_prepare,
    claim_reissue,
    claim_reject,
    claim_window,
    claim_withdraw,
)
from guarantees.services.enquiries import (
    enquiry_answer,
    enquiry_close,
    enquiry_open,
    release_approve,
    release_propose,
    release_refuse,
)
from guarantees.views.common import add_domain_error, form_data, paginate, require

ACTION_TEMPLATE = "guarantees/claim/action.html"


# --- Shared ------------------------------------------------------------------------------------------

def _transit(request, pk: int):
    return get_object_or_404(
        transits_visible_to(user=request.user).select_related("guarantee__bank__organisation", "hold"), pk=pk
    )


def _transit_url(transit) -> str:
    return reverse("guarantees:transit_detail", args=[transit.declaration_ref])


def _action(request, *, form, perform, title: str, intro: str, button: str, success: str, redirect_to,
            back_url: str, transit, claim=None, enquiry=None, allowed: bool = True, not_allowed: str = "",
            danger: bool = False, multipart: bool = False, extra: dict | None = None):
    """GET: the form; POST: ``perform(cleaned_data)`` (one service), then back to ``redirect_to(result)``; a
    refusal is shown on the form."""
    if request.method == "POST" and allowed and form.is_valid():
        try:
            result = perform(form.cleaned_data)
        except DomainError as exc:
            add_domain_error(request, exc, form)
        else:
            messages.success(request, success)
            return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)
    context = {
        "form": form, "title": title, "intro": intro, "button": button, "back_url": back_url, "transit": transit,
        "claim": claim, "enquiry": enquiry, "allowed": allowed, "not_allowed": not_allowed, "danger": danger,
        "multipart": multipart, **(extra or {}),
    }
    return render(request, ACTION_TEMPLATE, context)


def _trail(transit):
    return transit.case_events.select_related("by", "claim", "enquiry").order_by("at", "pk")


# --- Enquiries -------------------------------------------------------------------------------------

@require_safe
@login_required
def enquiry_list(request):
    require(request, "enquiry.view")
    queryset = enquiries_visible_to(user=request.user)
    status = request.GET.get("status", "")
    if status in EnquiryStatus.values:
        queryset = queryset.filter(status=status)
    page, query = paginate(request, queryset.order_by("-opened_at", "-pk"))
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
        "trail": _trail(transit).filter(enquiry=enquiry),
    }
    return render(request, "guarantees/enquiry/detail.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def enquiry_open_view(request, transit_pk):
    require(request, "enquiry.open")
    transit = _transit(request, transit_pk)
    is_late = transit.status == TransitStatus.OVERDUE or transit.deadline < timezone.now()
    existing = transit.enquiries.filter(status__in=OPEN_ENQUIRY_STATUSES).first()
    form = EnquiryOpenForm(form_data(request), initial={"ground": EnquiryGround.OVERDUE if is_late
                                                        else EnquiryGround.IRREGULAR})
    return _action(
        request, form=form, transit=transit, back_url=_transit_url(transit),
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
    return _action(
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
    return _action(
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


# --- Manual release -------------------------------------------------------------------------------

@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def release_propose_view(request, transit_pk):
    require(request, "release.propose")
    transit = _transit(request, transit_pk)
    enquiry = transit.enquiries.filter(status__in=OPEN_ENQUIRY_STATUSES).first()
    pending = transit.manual_releases.filter(status=ReleaseStatus.PROPOSED).exists()
    held = transit.hold is not None and transit.hold.status == HoldStatus.HELD
    return _action(
        request, form=ReleaseProposeForm(form_data(request)), transit=transit, enquiry=enquiry,
        back_url=reverse("guarantees:enquiry_detail", args=[enquiry.pk]) if enquiry else _transit_url(transit),
        perform=lambda d: release_propose(transit=transit, by=request.user, ground=d["ground"], reason=d["reason"]),
        allowed=transit.status in OPEN_TRANSIT_STATUSES and held and not pending,
        not_allowed=_("A release of this transit is already awaiting approval.") if pending
        else _("Nothing is held for this transit that could be released."),
        title=_("Propose a manual release"),
        intro=_("The hold of this transit is given back to the guarantee once a supervisor of your administration, "
                "another person, approves."),
        button=_("Propose the release"),
        success=_("The release was proposed; a supervisor must approve it."),
        redirect_to=reverse("guarantees:enquiry_detail", args=[enquiry.pk]) if enquiry else _transit_url(transit),
    )


def _release(request, pk):
    return get_object_or_404(releases_visible_to(user=request.user), pk=pk)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def release_approve_view(request, pk):
    require(request, "release.approve")
    release = _release(request, pk)
    return _action(
        request, form=DecisionCommentForm(form_data(request)), transit=release.transit, enquiry=release.enquiry,
        back_url=_transit_url(release.transit),
        perform=lambda d: release_approve(release=release, by=request.user, comment=d["comment"]),
        allowed=release.status == ReleaseStatus.PROPOSED,
        not_allowed=_("This proposal was already decided."),
        title=_("Approve the manual release"),
        intro=_("The hold is released through the ledger and the transit is discharged."),
        button=_("Approve and release"),
        success=_("The transit was released."),
        redirect_to=_transit_url(release.transit),
        extra={"release": release},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def release_refuse_view(request, pk):
    require(request, "release.approve")
    release = _release(request, pk)
    return _action(
        request, form=RequiredCommentForm(form_data(request)), transit=release.transit, enquiry=release.enquiry,
        back_url=_transit_url(release.transit),
        perform=lambda d: release_refuse(release=release, by=request.user, comment=d["comment"]),
        allowed=release.status == ReleaseStatus.PROPOSED,
        not_allowed=_("This proposal was already decided."),
        title=_("Refuse the manual release"), intro=_("Nothing is released; the officer is told why."),
        button=_("Refuse"), danger=True,
        success=_("The release was refused."),
        redirect_to=_transit_url(release.transit),
        extra={"release": release},
    )


# --- Claims ----------------------------------------------------------------------------------------

@require_safe
@login_required
def claim_list(request):
    require(request, "claim.view")
    user = request.user
    queryset = claims_visible_to(user=user)
    status = request.GET.get("status", "")
    overdue = request.GET.get("overdue") == "on"
    if status in ClaimStatus.values:
        queryset = queryset.filter(status=status)
    if overdue:
        queryset = queryset.filter(status__in=AWAITING_BANK_STATUSES, examination_deadline__lte=timezone.now())
    to_answer = None
    if user.can("claim.answer") or user.can("claim.prepare"):
        to_answer = list(
            claims_visible_to(user=user).filter(status__in=AWAITING_BANK_STATUSES)
            .order_by("examination_deadline", "pk")[:100]
        )
    page, query = paginate(request, queryset.order_by("-issued_at", "-pk"))
    context = {
        "page": page, "query": query, "status": status, "overdue": overdue, "statuses": ClaimStatus.choices,
        "to_answer": to_answer, "now": timezone.now(),
    }
    return render(request, "guarantees/claim/list.html", context)


def _claim(request, pk):
    return get_object_or_404(claims_visible_to(user=request.user), pk=pk)


@require_safe
@login_required
def claim_detail(request, pk):
    require(request, "claim.view")
    claim = _claim(request, pk)
    user = request.user
    org = user.organisation
    is_bank = org is not None and org.pk == claim.guarantee.bank.organisation_id
    is_claiming_customs = org is not None and org.pk == claim.customs_id and user.can("claim.issue")
    awaiting = claim.status in AWAITING_BANK_STATUSES
    presentations = []
    node = claim
    while node.previous_id:  # the earlier presentations, newest first
        node = node.previous
        presentations.append(node)
    reissue = getattr(claim, "reissue", None) if claim.status == ClaimStatus.REISSUED else None
    context = {
        "claim": claim,
        "transit": claim.transit,
        "hold": claim.hold,
        "presentations": presentations,
        "reissue": reissue,
        "can_examine": is_bank and claim.status == ClaimStatus.ISSUED
        and (user.can("claim.prepare") or user.can("claim.answer")),
        "can_prepare": is_bank and awaiting and user.can("claim.prepare"),
        "can_answer": is_bank and awaiting and user.can("claim.answer") and claim.prepared_by_id != user.pk,
        "can_reject": is_bank and awaiting and user.can("claim.answer") and claim.prepared_by_id != user.pk
        and timezone.now() < claim.examination_deadline,
        "can_reissue": is_claiming_customs and claim.status == ClaimStatus.REJECTED,
        "can_withdraw": is_claiming_customs and claim.status in OPEN_CLAIM_STATUSES,
        "trail": _trail(claim.transit).filter(claim__in=[claim, *presentations]),
        "now": timezone.now(),
    }
    return render(request, "guarantees/claim/detail.html", context)


def _claim_url(claim) -> str:
    return reverse("guarantees:claim_detail", args=[claim.pk])


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def claim_issue_view(request, transit_pk):
    require(request, "claim.issue")
    transit = _transit(request, transit_pk)
    hold = transit.hold
    held = hold.amount if hold is not None and hold.status == HoldStatus.HELD else 0
    window = claim_window(transit=transit)
    now = timezone.now()
    if transit.status not in OPEN_TRANSIT_STATUSES or not held:
        reason = _("This transit cannot be claimed: it is closed, already claimed or nothing is held for it.")
    elif window["notice"] is None:
        reason = _("Open an enquiry first: it notifies the guarantor, and the waiting period runs from it.")
    elif now < window["earliest"]:
        reason = _("The waiting period after the notice to the guarantor ends on %(date)s.") % {
            "date": window["earliest"].strftime("%d/%m/%Y")}
    elif now > window["latest"]:
        reason = _("The time limit for claiming under the guarantee for this transit has passed.")
    else:
        reason = ""
    form = ClaimIssueForm(form_data(request), held=held or None, initial={"amount": held or None})
    return _action(
        request, form=form, transit=transit, enquiry=window["notice"], back_url=_transit_url(transit),
        perform=lambda d: claim_issue(transit=transit, by=request.user, amount=d["amount"], grounds=d["grounds"]),
        allowed=not reason, not_allowed=reason,
        title=_("Claim under the guarantee"),
        intro=_("The amount moves from held to claimed on the guarantee; the guarantor bank must pay or reject "
                "within its examination period."),
        button=_("Issue the claim"),
        success=_("The claim was issued to the guarantor bank."),
        redirect_to=_claim_url,
        extra={"window": window, "held": held},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def claim_examine_view(request, pk):
    require(request, "claim.prepare", "claim.answer")
    claim = _claim(request, pk)
    return _action(
        request, form=DecisionCommentForm(form_data(request)), transit=claim.transit, claim=claim,
        back_url=_claim_url(claim),
        perform=lambda d: claim_examine(claim=claim, by=request.user),
        allowed=claim.status == ClaimStatus.ISSUED, not_allowed=_("The claim is no longer waiting for examination."),
        title=_("Start the examination"),
        intro=_("Acknowledge the claim: it is under examination by your bank. The deadline does not change."),
        button=_("Start the examination"),
        success=_("The claim is under examination."),
        redirect_to=_claim_url(claim),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def claim_prepare_view(request, pk):
    require(request, "claim.prepare")
    claim = _claim(request, pk)
    form = ClaimPrepareForm(form_data(request), initial={
        "decision": claim.proposed_decision or "pay", "amount": claim.proposed_amount or claim.amount,
        "discrepancies": "\n".join(claim.proposed_discrepancies or []), "comment": claim.maker_comment,
    })
    return _action(
        request, form=form, transit=claim.transit, claim=claim, back_url=_claim_url(claim),
        perform=lambda d: claim_prepare(claim=claim, by=request.user, decision=d["decision"], amount=d["amount"],
                                        discrepancies=d["discrepancies"], comment=d["comment"]),
        allowed=claim.status in AWAITING_BANK_STATUSES, not_allowed=_("This claim was already answered."),
        title=_("Prepare the answer"),
        intro=_("Propose the answer to a checker of your bank, who decides."),
        button=_("Pass to a checker"),
        success=_("The answer was prepared; a checker must now decide."),
        redirect_to=_claim_url(claim),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def claim_pay_view(request, pk):
    require(request, "claim.answer")
    claim = _claim(request, pk)
    form = ClaimPayForm(form_data(request), initial={
        "amount": claim.proposed_amount if claim.proposed_decision == "pay" else claim.amount,
        "payment_date": timezone.localdate(),
    })
    return _action(
        request, form=form, transit=claim.transit, claim=claim, back_url=_claim_url(claim),
        perform=lambda d: claim_pay(claim=claim, by=request.user, amount=d["amount"],
                                    payment_reference=d["payment_reference"], payment_date=d["payment_date"]),
        allowed=claim.status in AWAITING_BANK_STATUSES, not_allowed=_("This claim was already answered."),
        title=_("Pay the claim"),
        intro=_("Record the payment made to customs. The amount paid stays consumed on the guarantee until an "
                "amendment reinstates it; the unpaid rest of the claim is released."),
        button=_("Record the payment"),
        success=_("The payment was recorded."),
        redirect_to=_claim_url(claim),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def claim_reject_view(request, pk):
    require(request, "claim.answer")
    claim = _claim(request, pk)
    open_period = timezone.now() < claim.examination_deadline
    form = ClaimRejectForm(form_data(request), initial={"discrepancies": "\n".join(claim.proposed_discrepancies or [])})
    return _action(
        request, form=form, transit=claim.transit, claim=claim, back_url=_claim_url(claim), danger=True,
        perform=lambda d: claim_reject(claim=claim, by=request.user, discrepancies=d["discrepancies"]),
        allowed=claim.status in AWAITING_BANK_STATUSES and open_period,
        not_allowed=_("The examination period has ended: the claim can only be paid.") if not open_period
        else _("This claim was already answered."),
        title=_("Reject the claim"),
        intro=_("One notice lists every discrepancy; customs may then reissue the claim or withdraw it."),
        button=_("Send the rejection notice"),
        success=_("The rejection notice was sent to customs."),
        redirect_to=_claim_url(claim),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def claim_reissue_view(request, pk):
    require(request, "claim.issue")
    claim = _claim(request, pk)
    hold = claim.hold
    limit = hold.claimed_amount + hold.amount
    form = ClaimReissueForm(form_data(request), held=limit, initial={"amount": claim.amount, "grounds": claim.grounds})
    return _action(
        request, form=form, transit=claim.transit, claim=claim, back_url=_claim_url(claim),
        perform=lambda d: claim_reissue(claim=claim, by=request.user, amount=d["amount"], grounds=d["grounds"]),
        allowed=claim.status == ClaimStatus.REJECTED, not_allowed=_("Only a rejected claim can be reissued."),
        title=_("Reissue the claim"),
        intro=_("Present the claim again, corrected; the bank has a new examination period."),
        button=_("Reissue the claim"),
        success=_("The claim was reissued."),
        redirect_to=_claim_url,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def claim_withdraw_view(request, pk):
    require(request, "claim.issue")
    claim = _claim(request, pk)
    return _action(
        request, form=RequiredCommentForm(form_data(request)), transit=claim.transit, claim=claim,
        back_url=_claim_url(claim), danger=True,
        perform=lambda d: claim_withdraw(claim=claim, by=request.user, reason=d["comment"]),
        allowed=claim.status in OPEN_CLAIM_STATUSES, not_allowed=_("This claim is no longer open."),
        title=_("Withdraw the claim"),
        intro=_("The amount claimed is released on the guarantee and the transit is settled."),
        button=_("Withdraw the claim"),
        success=_("The claim was withdrawn."),
        redirect_to=_claim_url(claim),
    )


def _pdf(request, pk, kind: str):
    require(request, "claim.view")
    claim = _claim(request, pk)
    if kind == REJECTION and not claim.discrepancies:
        raise Http404
    filename, mimetype, content = claim_document_render(claim=claim, kind=kind,
                                                        language=getattr(request, "LANGUAGE_CODE", None))
    response = HttpResponse(content, content_type=mimetype)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_safe
@login_required
def claim_letter(request, pk):
    return _pdf(request, pk, LETTER)


@require_safe
@login_required
def claim_rejection_notice(request, pk):
    return _pdf(request, pk, REJECTION)
