"""The guarantor bank's desk: the maker's and the checker's queues, their decisions on requests and amendments,
and the portfolio against the bank's exposure ceiling.

Four eyes: the maker prepares, a different checker confirms, declines or sends back. The queues already leave
out what the user prepared themself; the service refuses it anyway (``SameMakerAndChecker``). Every page of the
desk shows one preparation and carries it in its form (``guarantees.terms``): a decision applies to the
preparation the page showed, or is refused. The maker's comment shows here, on pages only the bank reaches.
"""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_http_methods, require_safe
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from guarantees.filters import GuaranteeFilter
from guarantees.forms import AmendmentPrepareForm, CheckerConfirmForm, CheckerReasonForm, PrepareForm
from guarantees.models import AT_THE_BANK_STATUSES, Amendment, AmendmentStatus, GuaranteeStatus
from guarantees.selectors.guarantees import bank_exposure
from guarantees.services.amendments import (
    amendment_confirm,
    amendment_decline,
    amendment_prepare,
    amendment_send_back,
)
from guarantees.services.guarantees import (
    guarantee_confirm,
    guarantee_decline,
    guarantee_prepare,
    guarantee_send_back,
)
from guarantees.terms import amendment_terms, guarantee_terms
from guarantees.views.common import action_page, get_amendment, get_guarantee, paginate, require, visible

S = GuaranteeStatus
A = AmendmentStatus
OPEN_AMENDMENT = (A.SUBMITTED, A.PREPARED)


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
    guarantees = visible(request).filter(status__in=AT_THE_BANK_STATUSES).order_by("submitted_at", "pk")
    amendments = (
        Amendment.objects.filter(guarantee__in=visible(request))
        .select_related("guarantee__principal", "guarantee__bank__organisation")
        .order_by("requested_at", "pk")
    )
    sections = []
    if user.can("guarantee.prepare"):
        sections.append(("to_prepare", _("Requests to prepare"), "guarantee",
                         guarantees.filter(status=S.SUBMITTED)))
    if user.can("guarantee.confirm"):
        sections.append(("to_check", _("Requests to check"), "guarantee",
                         guarantees.filter(status=S.PREPARED).exclude(prepared_by=user)))
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


def _guarantee_desk(request, pk, *, permission: str, form_class, perform, allowed, initial=None,
                    exposure: bool = False, **page):
    """A page of the bank's desk on a request. It shows one preparation (``terms``) and binds its form to it:
    the service refuses if the row holds another one by the time the form comes back."""
    require(request, permission)
    g = get_guarantee(request, pk)
    terms = guarantee_terms(g)
    return action_page(
        request, obj=g, guarantee=g, form_class=form_class,
        initial={"terms": terms, **(initial(g) if initial else {})},
        perform=lambda data: perform(g, data), allowed=allowed(g), redirect_to=_queue_url(),
        template="guarantees/bank/decide.html",
        extra_context={"terms": terms, **(_exposure_context(g.bank) if exposure else {})},
        **page,
    )


def _amendment_desk(request, pk, *, permission: str, form_class, perform, allowed, initial=None,
                    exposure: bool = False, **page):
    """A page of the bank's desk on an amendment, bound to the preparation it shows like ``_guarantee_desk``."""
    require(request, permission)
    amendment = get_amendment(request, pk)
    g = amendment.guarantee
    terms = amendment_terms(amendment, g)
    return action_page(
        request, obj=amendment, guarantee=g, form_class=form_class,
        initial={"terms": terms, **(initial(amendment) if initial else {})},
        perform=lambda data: perform(amendment, data), allowed=allowed(amendment), redirect_to=_queue_url(),
        template="guarantees/bank/amendment.html",
        extra_context={"terms": terms, **(_exposure_context(g.bank) if exposure else {})},
        **page,
    )


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
