"""Decisions on a guarantee, each through the one action page: the bank's maker prepares, a different checker
confirms, declines or sends back (bound to the preparation the page showed); the customs of the guarantee's
country accept, suspend, reactivate or cancel."""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_http_methods
from django.urls import reverse
from django.utils.translation import gettext as _

from guarantees.models import AT_THE_BANK_STATUSES, GuaranteeStatus
from guarantees.services.guarantees import (
    guarantee_accept,
    guarantee_cancel,
    guarantee_confirm,
    guarantee_decline,
    guarantee_prepare,
    guarantee_reactivate,
    guarantee_send_back,
    guarantee_suspend,
)
from guarantees.terms import guarantee_terms
from guarantees.web.actions import guarantee_action
from guarantees.web.common import get_guarantee, require
from guarantees.web.forms.guarantees import (
    CheckerConfirmForm,
    CheckerReasonForm,
    ConfirmationForm,
    PrepareForm,
    ReasonForm,
)
from guarantees.web.views.guarantees import bank_desk

S = GuaranteeStatus


def _guarantee_desk(request, pk, *, permission: str, perform, allowed, initial=None, **page):
    """The bank's desk on a request (``bank_desk``), bound to the preparation it shows."""
    require(request, permission)
    g = get_guarantee(request, pk)
    return bank_desk(request, obj=g, guarantee=g, terms=guarantee_terms(g), template="guarantees/bank/decide.html",
                     initial=initial(g) if initial else None, perform=lambda data: perform(g, data),
                     allowed=allowed(g), **page)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_prepare_view(request, pk):
    return _guarantee_desk(
        request, pk, permission="guarantee.prepare", form_class=PrepareForm,
        initial=lambda g: {"amount": g.requested_amount, "valid_until": g.valid_until, "comment": g.maker_comment},
        perform=lambda g, data: guarantee_prepare(
            guarantee=g, by=request.user, amount=data["amount"], valid_until=data["valid_until"],
            comment=data["comment"], expected=data["terms"],
        ),
        allowed=lambda g: g.status in AT_THE_BANK_STATUSES,
        title=_("Prepare the guarantee"),
        question=_("Check the request and the principal's file, adjust the amount or the validity if the bank "
                   "agreed other terms, then pass it to a checker. Another person must confirm it. Until then "
                   "you may prepare it again; the checker then decides on the new preparation."),
        button=_("Pass to a checker"),
        success=_("The guarantee was prepared; a checker must now confirm it."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_confirm_view(request, pk):
    return _guarantee_desk(
        request, pk, permission="guarantee.confirm", form_class=CheckerConfirmForm,
        perform=lambda g, data: guarantee_confirm(guarantee=g, by=request.user, expected=data["terms"]),
        allowed=lambda g: g.status == S.PREPARED,
        exposure=True,
        title=_("Confirm the guarantee"),
        question=_("By confirming, the bank commits for the whole reference amount, on the terms above. The "
                   "guarantee becomes active once customs accept it."),
        button=_("Confirm the guarantee"),
        success=_("The guarantee was confirmed. Customs of the principal's country must now accept it."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_send_back_view(request, pk):
    return _guarantee_desk(
        request, pk, permission="guarantee.confirm", form_class=CheckerReasonForm,
        perform=lambda g, data: guarantee_send_back(
            guarantee=g, by=request.user, reason=data["reason"], expected=data["terms"],
        ),
        allowed=lambda g: g.status == S.PREPARED,
        title=_("Send back to the maker"),
        question=_("The request goes back to the makers, with your reason, to be prepared again. Your reason "
                   "stays inside the bank."),
        button=_("Send back to the maker"),
        success=_("The request was sent back to the maker."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_decline_view(request, pk):
    return _guarantee_desk(
        request, pk, permission="guarantee.decline", form_class=CheckerReasonForm,
        perform=lambda g, data: guarantee_decline(
            guarantee=g, by=request.user, reason=data["reason"], expected=data["terms"],
        ),
        allowed=lambda g: g.status in AT_THE_BANK_STATUSES,
        title=_("Decline the request"),
        question=_("The principal will receive your reason."),
        button=_("Decline the request"), danger=True,
        success=_("The request was declined."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_accept_view(request, pk):
    require(request, "guarantee.accept")
    g = get_guarantee(request, pk)
    return guarantee_action(
        request, obj=g, guarantee=g, form_class=ConfirmationForm,
        perform=lambda data: guarantee_accept(guarantee=g, by=request.user),
        allowed=g.status == S.BANK_CONFIRMED,
        title=_("Accept the guarantee"),
        question=_("The guarantee becomes active: it receives its reference number (GRN) and transits may draw "
                   "on it in the four countries. The principal then generates its own access code."),
        button=_("Accept the guarantee"),
        success=_("The guarantee is active."),
        redirect_to=reverse("guarantees:customs_queue"),
    )


def _reason_action(request, pk, *, permission, service, allowed_statuses, title, question, button, success,
                   danger=False):
    require(request, permission)
    g = get_guarantee(request, pk)
    return guarantee_action(
        request, obj=g, guarantee=g, form_class=ReasonForm,
        perform=lambda data: service(guarantee=g, by=request.user, reason=data["reason"]),
        allowed=g.status in allowed_statuses,
        title=title, question=question, button=button, success=success, danger=danger,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_suspend_view(request, pk):
    return _reason_action(
        request, pk, permission="guarantee.suspend", service=guarantee_suspend, allowed_statuses=(S.ACTIVE,),
        title=_("Suspend the guarantee"),
        question=_("No new transit may draw on a suspended guarantee; transits in progress keep their holds."),
        button=_("Suspend"), success=_("The guarantee was suspended."), danger=True,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_reactivate_view(request, pk):
    return _reason_action(
        request, pk, permission="guarantee.reactivate", service=guarantee_reactivate,
        allowed_statuses=(S.SUSPENDED,),
        title=_("Reactivate the guarantee"),
        question=_("Transits may draw on the guarantee again."),
        button=_("Reactivate"), success=_("The guarantee was reactivated."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_cancel_view(request, pk):
    return _reason_action(
        request, pk, permission="guarantee.cancel", service=guarantee_cancel,
        allowed_statuses=(S.BANK_CONFIRMED, S.ACTIVE, S.SUSPENDED),
        title=_("Cancel the guarantee"),
        question=_("No new transit may draw on a cancelled guarantee. Existing holds stay until they are released "
                   "or claimed; the guarantee is then closed. This cannot be undone."),
        button=_("Cancel the guarantee"), success=_("The guarantee was cancelled."), danger=True,
    )
