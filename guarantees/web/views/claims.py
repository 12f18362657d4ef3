"""Claims under a guarantee: customs issue them, the bank's maker prepares the answer and a checker pays or
rejects (listing every discrepancy), customs reissue or withdraw; the claim letter and the rejection notice."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from guarantees.web.forms.claims import ClaimIssueForm, ClaimPayForm, ClaimPrepareForm, ClaimReissueForm, ClaimRejectForm, DecisionCommentForm, RequiredCommentForm
from guarantees.models import (
    AWAITING_BANK_STATUSES,
    OPEN_CLAIM_STATUSES,
    OPEN_TRANSIT_STATUSES,
    ClaimStatus,
    HoldStatus,
)
from guarantees.selectors.claims import (
    claims_visible_to,
)
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
from guarantees.web.common import form_data, paginate, require
from guarantees.web.actions import case_action
from guarantees.web.cases import case_trail, case_transit, transit_url
from guarantees.web.tables import claim_rows


@require_safe
@login_required
def claim_list(request):
    require(request, "claim.view")
    user = request.user
    status = request.GET.get("status", "")
    overdue = request.GET.get("overdue") == "on"
    to_answer = None
    if user.can("claim.answer") or user.can("claim.prepare"):
        to_answer = list(
            claims_visible_to(user=user).filter(status__in=AWAITING_BANK_STATUSES)
            .order_by("examination_deadline", "pk")[:100]
        )
    page, query = paginate(request, claim_rows(user, request.GET))
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
        "trail": case_trail(claim.transit).filter(claim__in=[claim, *presentations]),
        "now": timezone.now(),
    }
    return render(request, "guarantees/claim/detail.html", context)


def _claim_url(claim) -> str:
    return reverse("guarantees:claim_detail", args=[claim.pk])


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def claim_issue_view(request, transit_pk):
    require(request, "claim.issue")
    transit = case_transit(request, transit_pk)
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
    return case_action(
        request, form=form, transit=transit, enquiry=window["notice"], back_url=transit_url(transit),
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
    return case_action(
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
    return case_action(
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
    return case_action(
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
    return case_action(
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
    return case_action(
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
    return case_action(
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
