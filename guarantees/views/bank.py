"""The guarantor bank's desk: the maker's and the checker's queues, their decisions on requests and amendments,
and the portfolio against the bank's exposure ceiling.

Four eyes: the maker prepares, a different checker confirms or declines. The queues already leave out what
the user prepared themself; the service refuses it anyway (``SameMakerAndChecker``).
"""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_http_methods, require_safe
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from guarantees.filters import GuaranteeFilter
from guarantees.forms import AmendmentPrepareForm, ConfirmationForm, PrepareForm, ReasonForm
from guarantees.models import Amendment, AmendmentStatus, GuaranteeStatus
from guarantees.selectors.guarantees import bank_exposure
from guarantees.services.amendments import amendment_confirm, amendment_decline, amendment_prepare
from guarantees.services.guarantees import guarantee_confirm, guarantee_decline, guarantee_prepare
from guarantees.views.common import action_page, get_amendment, get_guarantee, paginate, require, visible

S = GuaranteeStatus
A = AmendmentStatus


def _queue_url() -> str:
    return reverse("guarantees:bank_queue")


def _exposure_context(bank) -> dict:
    exposure = bank_exposure(bank=bank)
    return {
        "bank": bank,
        "exposure": exposure,
        "room": max(bank.exposure_ceiling - exposure, 0),
        "exposure_pct": round(100 * exposure / bank.exposure_ceiling) if bank.exposure_ceiling else None,
    }


@require_safe
@login_required
def bank_queue(request):
    """What waits for this user: requests and amendments to prepare (maker), and those prepared by someone
    else to check (checker). A user with both roles sees both."""
    require(request, "guarantee.prepare", "guarantee.confirm", "amendment.prepare", "amendment.confirm")
    user = request.user
    guarantees = visible(request).filter(status=S.SUBMITTED).order_by("submitted_at", "pk")
    amendments = (
        Amendment.objects.filter(guarantee__in=visible(request))
        .select_related("guarantee__principal", "guarantee__bank__organisation")
        .order_by("requested_at", "pk")
    )
    sections = []
    if user.can("guarantee.prepare"):
        sections.append(("to_prepare", _("Requests to prepare"), "guarantee",
                         guarantees.filter(prepared_by__isnull=True)))
    if user.can("guarantee.confirm"):
        sections.append(("to_check", _("Requests to check"), "guarantee",
                         guarantees.filter(prepared_by__isnull=False).exclude(prepared_by=user)))
    if user.can("amendment.prepare"):
        sections.append(("amendments_to_prepare", _("Amendments to prepare"), "amendment",
                         amendments.filter(status=A.SUBMITTED)))
    if user.can("amendment.confirm"):
        sections.append(("amendments_to_check", _("Amendments to check"), "amendment",
                         amendments.filter(status=A.PREPARED).exclude(prepared_by=user)))
    queues = []
    for key, title, kind, queryset in sections:
        page, query = paginate(request, queryset, page_param=f"{key}_page")
        queues.append({"key": key, "title": title, "kind": kind, "page": page, "query": query,
                       "page_param": f"{key}_page"})
    return render(request, "guarantees/bank/queue.html", {"queues": queues})


@require_safe
@login_required
def portfolio(request):
    require(request, "bank.portfolio")
    try:
        bank = request.user.organisation.bank
    except (AttributeError, ObjectDoesNotExist):
        raise Http404 from None
    filterset = GuaranteeFilter(request.GET or None, queryset=visible(request), request=request)
    page, query = paginate(request, filterset.qs)
    return render(
        request, "guarantees/bank/portfolio.html",
        {"filter": filterset, "page": page, "query": query, **_exposure_context(bank)},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_prepare_view(request, pk):
    require(request, "guarantee.prepare")
    g = get_guarantee(request, pk)
    return action_page(
        request, obj=g, guarantee=g, form_class=PrepareForm,
        initial={"amount": g.requested_amount, "valid_until": g.valid_until},
        perform=lambda data: guarantee_prepare(
            guarantee=g, by=request.user, amount=data["amount"], valid_until=data["valid_until"],
            comment=data["comment"],
        ),
        allowed=g.status == S.SUBMITTED,
        title=_("Prepare the guarantee"),
        question=_("Check the request and the principal's file, adjust the amount or the validity if the bank "
                   "agreed other terms, then pass it to a checker. Another person must confirm it."),
        button=_("Pass to a checker"),
        success=_("The guarantee was prepared; a checker must now confirm it."),
        redirect_to=_queue_url(),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_confirm_view(request, pk):
    require(request, "guarantee.confirm")
    g = get_guarantee(request, pk)
    return action_page(
        request, obj=g, guarantee=g, form_class=ConfirmationForm,
        perform=lambda data: guarantee_confirm(guarantee=g, by=request.user),
        allowed=g.status == S.SUBMITTED and g.prepared_by_id is not None,
        title=_("Confirm the guarantee"),
        question=_("By confirming, the bank commits for the whole reference amount. The guarantee becomes active "
                   "once customs accept it."),
        button=_("Confirm the guarantee"),
        success=_("The guarantee was confirmed. Customs of the principal's country must now accept it."),
        redirect_to=_queue_url(),
        template="guarantees/bank/confirm.html",
        extra_context=_exposure_context(g.bank),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_decline_view(request, pk):
    require(request, "guarantee.decline")
    g = get_guarantee(request, pk)
    return action_page(
        request, obj=g, guarantee=g, form_class=ReasonForm,
        perform=lambda data: guarantee_decline(guarantee=g, by=request.user, reason=data["reason"]),
        allowed=g.status == S.SUBMITTED,
        title=_("Decline the request"),
        question=_("The principal will receive your reason."),
        button=_("Decline the request"), danger=True,
        success=_("The request was declined."),
        redirect_to=_queue_url(),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def amendment_prepare_view(request, pk):
    require(request, "amendment.prepare")
    amendment = get_amendment(request, pk)
    g = amendment.guarantee
    return action_page(
        request, obj=amendment, guarantee=g, form_class=AmendmentPrepareForm,
        initial={"new_amount": amendment.new_amount, "new_valid_until": amendment.new_valid_until},
        perform=lambda data: amendment_prepare(
            amendment=amendment, by=request.user, new_amount=data["new_amount"],
            new_valid_until=data["new_valid_until"], comment=data["comment"],
        ),
        allowed=amendment.status == A.SUBMITTED,
        title=_("Prepare the amendment"),
        question=_("Check the amendment and adjust it if the bank agreed other terms, then pass it to a checker."),
        button=_("Pass to a checker"),
        success=_("The amendment was prepared; a checker must now confirm it."),
        redirect_to=_queue_url(),
        template="guarantees/bank/amendment.html",
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def amendment_confirm_view(request, pk):
    require(request, "amendment.confirm")
    amendment = get_amendment(request, pk)
    g = amendment.guarantee
    return action_page(
        request, obj=amendment, guarantee=g, form_class=ConfirmationForm,
        perform=lambda data: amendment_confirm(amendment=amendment, by=request.user),
        allowed=amendment.status == A.PREPARED,
        title=_("Confirm the amendment"),
        question=_("The new terms take effect at once and a new version of the guarantee is issued."),
        button=_("Confirm the amendment"),
        success=_("The amendment was confirmed: a new version of the guarantee is in force."),
        redirect_to=_queue_url(),
        template="guarantees/bank/amendment.html",
        extra_context=_exposure_context(g.bank),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def amendment_decline_view(request, pk):
    require(request, "amendment.confirm")
    amendment = get_amendment(request, pk)
    g = amendment.guarantee
    return action_page(
        request, obj=amendment, guarantee=g, form_class=ReasonForm,
        perform=lambda data: amendment_decline(amendment=amendment, by=request.user, reason=data["reason"]),
        allowed=amendment.status in (A.SUBMITTED, A.PREPARED),
        title=_("Decline the amendment"),
        question=_("The guarantee keeps its current terms. The principal will receive your reason."),
        button=_("Decline the amendment"), danger=True,
        success=_("The amendment was declined."),
        redirect_to=_queue_url(),
        template="guarantees/bank/amendment.html",
    )
