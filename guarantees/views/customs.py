"""The customs desk: guarantees of the officer's country awaiting acceptance, acceptance, suspension,
reactivation and cancellation, and the look-up of a guarantee by its reference number.

The look-up shows the full page of a guarantee the officer's administration deals with. Any other guarantee is
checked with the access code the principal gives: the answer is the status, validity and live balance, and an
unknown number and a wrong code give the same "not found", so numbers cannot be guessed.
"""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_http_methods, require_safe
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from guarantees.errors import DomainError, TooManyAttempts
from guarantees.forms import AccessCodeCheckForm, ConfirmationForm, LookupForm, ReasonForm
from guarantees.models import GuaranteeStatus
from guarantees.services.access_codes import access_code_check
from guarantees.services.guarantees import (
    guarantee_accept,
    guarantee_cancel,
    guarantee_reactivate,
    guarantee_suspend,
)
from guarantees.views.common import action_page, add_domain_error, get_guarantee, paginate, require, visible

S = GuaranteeStatus


@require_safe
@login_required
def customs_queue(request):
    require(request, "guarantee.accept")
    queryset = visible(request).filter(status=S.BANK_CONFIRMED).order_by("confirmed_at", "pk")
    page, query = paginate(request, queryset)
    return render(request, "guarantees/customs/queue.html", {"page": page, "query": query})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_accept_view(request, pk):
    require(request, "guarantee.accept")
    g = get_guarantee(request, pk)
    return action_page(
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
    return action_page(
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


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def lookup(request):
    require(request, "guarantee.lookup")
    result = None
    slowed_down = None
    if request.method == "POST":
        lookup_form = LookupForm()
        check_form = AccessCodeCheckForm(request.POST)
        if check_form.is_valid():
            data = check_form.cleaned_data
            try:
                result = access_code_check(grn=data["grn"], code=data["access_code"], caller=f"user:{request.user.pk}")
            except TooManyAttempts as exc:
                add_domain_error(request, exc, check_form)  # says how long to wait, in words
                slowed_down = exc
            except DomainError as exc:
                add_domain_error(request, exc, check_form)
            else:
                if result is None:
                    check_form.add_error(None, _("No guarantee matches this reference number and access code."))
    else:
        lookup_form = LookupForm(request.GET or None)
        check_form = None
        if lookup_form.is_valid():
            grn = lookup_form.cleaned_data["grn"]
            own = visible(request).filter(grn=grn).first()
            if own is not None:
                return redirect("guarantees:detail", pk=own.pk)
            check_form = AccessCodeCheckForm(initial={"grn": grn})
    response = render(
        request, "guarantees/customs/lookup.html",
        {"lookup_form": lookup_form, "check_form": check_form, "result": result},
        status=429 if slowed_down is not None else 200,
    )
    if slowed_down is not None and slowed_down.extra.get("retry_after"):
        response["Retry-After"] = str(slowed_down.extra["retry_after"])
    return response
