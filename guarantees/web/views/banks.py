"""The secretariat's desk for guarantor banks: which banks are approved, their ceilings against what they stand
behind, the approval of a new bank and every change of ceiling, with its reason."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_http_methods
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from guarantees.errors import DomainError
from guarantees.web.forms.banks import BankApproveForm, CeilingForm
from guarantees.selectors.guarantees import banks_with_exposure
from guarantees.services.banks import bank_approve, bank_set_ceiling
from guarantees.web.common import add_domain_error, form_data, paginate, require, visible


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def banks(request):
    require(request, "bank.approve")
    form = BankApproveForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            bank = bank_approve(
                organisation=data["organisation"], exposure_ceiling=data["exposure_ceiling"], by=request.user,
                approval_reference=data["approval_reference"],
            )
        except DomainError as exc:
            add_domain_error(request, exc, form)
        else:
            messages.success(request, _("%(bank)s is approved as a guarantor.") % {"bank": bank})
            return redirect("guarantees:bank_detail", pk=bank.pk)
    page, query = paginate(request, banks_with_exposure().select_related("organisation").order_by("organisation__name"))
    page.object_list = list(page.object_list)
    for bank in page.object_list:
        bank.room = max(bank.exposure_ceiling - bank.exposure, 0)
    return render(request, "guarantees/secretariat/banks.html", {"page": page, "query": query, "form": form})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def bank_detail(request, pk):
    require(request, "bank.approve", "bank.ceiling")
    bank = get_object_or_404(banks_with_exposure(), pk=pk)
    form = CeilingForm(form_data(request), initial={"exposure_ceiling": bank.exposure_ceiling})
    if request.method == "POST":
        require(request, "bank.ceiling")
        if form.is_valid():
            try:
                bank_set_ceiling(
                    bank=bank, exposure_ceiling=form.cleaned_data["exposure_ceiling"], by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                add_domain_error(request, exc, form)
            else:
                messages.success(request, _("The exposure ceiling was changed."))
                return redirect("guarantees:bank_detail", pk=bank.pk)
    page, query = paginate(request, visible(request).filter(bank=bank))
    context = {
        "bank": bank,
        "room": max(bank.exposure_ceiling - bank.exposure, 0),
        "exposure_pct": round(100 * bank.exposure / bank.exposure_ceiling) if bank.exposure_ceiling else None,
        "changes": bank.ceiling_changes.select_related("changed_by")[:50],
        "form": form,
        "page": page,
        "query": query,
    }
    return render(request, "guarantees/secretariat/bank_detail.html", context)
