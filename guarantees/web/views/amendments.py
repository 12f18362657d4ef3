"""Amendments: the forwarder asks (or withdraws its request); the bank's maker prepares, a different checker
confirms, declines or sends back, bound to the preparation shown."""

from django.contrib.auth.decorators import login_required
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from guarantees.models import AmendmentStatus, GuaranteeStatus
from guarantees.services.amendments import (
    amendment_confirm,
    amendment_decline,
    amendment_prepare,
    amendment_request,
    amendment_send_back,
    amendment_start_by_bank,
    amendment_withdraw,
)
from guarantees.terms import amendment_terms
from guarantees.web.actions import guarantee_action
from guarantees.web.common import get_amendment, get_guarantee, require
from guarantees.web.forms.amendments import AmendmentPrepareForm, AmendmentRequestForm, AmendmentStartForm
from guarantees.web.forms.guarantees import CheckerConfirmForm, CheckerReasonForm, ConfirmationForm
from guarantees.web.views.guarantees import bank_desk

S = GuaranteeStatus
A = AmendmentStatus
OPEN_AMENDMENT = (A.SUBMITTED, A.PREPARED)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def amendment_request_view(request, pk):
    require(request, "guarantee.amend_request")
    g = get_guarantee(request, pk)
    return guarantee_action(
        request, obj=g, guarantee=g, form_class=AmendmentRequestForm,
        initial={"new_amount": g.amount, "new_valid_until": g.valid_until},
        perform=lambda data: amendment_request(
            guarantee=g, by=request.user, new_amount=data["new_amount"],
            new_valid_until=data["new_valid_until"], reason=data["reason"],
        ),
        allowed=g.status in (S.ACTIVE, S.SUSPENDED),
        title=_("Request an amendment"),
        question=_("Ask your bank to increase or decrease the reference amount or to extend the validity. The "
                   "amount can never go below what is held, claimed and paid. The bank's maker and checker "
                   "review the amendment; the guarantee stays in force meanwhile."),
        button=_("Send to the bank"),
        success=_("Your amendment request was sent to the bank."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def amendment_start_view(request, pk):
    """The bank's maker starts an amendment (prepared at once); a different checker confirms it on the desk."""
    require(request, "amendment.prepare")
    g = get_guarantee(request, pk)
    return guarantee_action(
        request, obj=g, guarantee=g, form_class=AmendmentStartForm,
        initial={"new_amount": g.amount, "new_valid_until": g.valid_until},
        perform=lambda data: amendment_start_by_bank(
            guarantee=g, by=request.user, new_amount=data["new_amount"], new_valid_until=data["new_valid_until"],
            letter_reference=data["letter_reference"], comment=data["comment"],
        ),
        allowed=g.status in (S.ACTIVE, S.SUSPENDED) and not g.amendments.filter(status__in=OPEN_AMENDMENT).exists(),
        title=_("Start an amendment"),
        question=_("Extend the validity on the bank's decision, or change the amount or shorten the validity at the "
                   "principal's written request. The amount can never go below what is held, claimed and paid. A "
                   "second person of the bank confirms it; the principal is told now and when it is confirmed."),
        button=_("Prepare the amendment"),
        success=_("The amendment is prepared. A checker of the bank must confirm it."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def amendment_withdraw_view(request, pk):
    require(request, "guarantee.amend_request")
    amendment = get_amendment(request, pk)
    g = amendment.guarantee
    return guarantee_action(
        request, obj=amendment, guarantee=g, form_class=ConfirmationForm,
        perform=lambda data: amendment_withdraw(amendment=amendment, by=request.user),
        allowed=amendment.status in OPEN_AMENDMENT,
        title=_("Withdraw the amendment request"),
        question=_("The bank will no longer review this amendment. The guarantee keeps its current terms."),
        button=_("Withdraw the amendment"), danger=True,
        success=_("The amendment request was withdrawn."),
    )


def _amendment_desk(request, pk, *, permission: str, perform, allowed, initial=None, **page):
    """The bank's desk on an amendment (``bank_desk``), bound to the preparation it shows."""
    require(request, permission)
    amendment = get_amendment(request, pk)
    g = amendment.guarantee
    return bank_desk(request, obj=amendment, guarantee=g, terms=amendment_terms(amendment, g),
                     template="guarantees/bank/amendment.html", initial=initial(amendment) if initial else None,
                     perform=lambda data: perform(amendment, data), allowed=allowed(amendment), **page)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def amendment_prepare_view(request, pk):
    return _amendment_desk(
        request, pk, permission="amendment.prepare", form_class=AmendmentPrepareForm,
        initial=lambda a: {"new_amount": a.new_amount, "new_valid_until": a.new_valid_until,
                           "comment": a.maker_comment},
        perform=lambda a, data: amendment_prepare(
            amendment=a, by=request.user, new_amount=data["new_amount"], new_valid_until=data["new_valid_until"],
            comment=data["comment"], expected=data["terms"],
        ),
        allowed=lambda a: a.status in OPEN_AMENDMENT,
        title=_("Prepare the amendment"),
        question=_("Check the amendment and adjust it if the bank agreed other terms, then pass it to a checker. "
                   "Until it is confirmed you may prepare it again; the checker then decides on the new "
                   "preparation."),
        button=_("Pass to a checker"),
        success=_("The amendment was prepared; a checker must now confirm it."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def amendment_confirm_view(request, pk):
    return _amendment_desk(
        request, pk, permission="amendment.confirm", form_class=CheckerConfirmForm,
        perform=lambda a, data: amendment_confirm(amendment=a, by=request.user, expected=data["terms"]),
        allowed=lambda a: a.status == A.PREPARED,
        exposure=True,
        title=_("Confirm the amendment"),
        question=_("The new terms above take effect at once and a new version of the guarantee is issued."),
        button=_("Confirm the amendment"),
        success=_("The amendment was confirmed: a new version of the guarantee is in force."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def amendment_send_back_view(request, pk):
    return _amendment_desk(
        request, pk, permission="amendment.confirm", form_class=CheckerReasonForm,
        perform=lambda a, data: amendment_send_back(
            amendment=a, by=request.user, reason=data["reason"], expected=data["terms"],
        ),
        allowed=lambda a: a.status == A.PREPARED,
        title=_("Send the amendment back to the maker"),
        question=_("The amendment goes back to the makers, with your reason, to be prepared again. Your reason "
                   "stays inside the bank."),
        button=_("Send back to the maker"),
        success=_("The amendment was sent back to the maker."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def amendment_decline_view(request, pk):
    return _amendment_desk(
        request, pk, permission="amendment.confirm", form_class=CheckerReasonForm,
        perform=lambda a, data: amendment_decline(
            amendment=a, by=request.user, reason=data["reason"], expected=data["terms"],
        ),
        allowed=lambda a: a.status in OPEN_AMENDMENT,
        title=_("Decline the amendment"),
        question=_("The guarantee keeps its current terms. The principal will receive your reason."),
        button=_("Decline the amendment"), danger=True,
        success=_("The amendment was declined."),
    )
