"""A guarantee's monthly statements, for its principal and its bank only: the list of its months, a statement
issued on demand for a month that is over, and the signed PDF in the reader's language. Anyone else — customs, the
secretariat, another forwarder or bank — finds nothing here (404), even with the guarantee's page open to them."""

import datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from guarantees.errors import DomainError
from guarantees.models import Statement
from guarantees.services.statements import (
    statement_issue,
    statement_issue_every_language,
    statement_languages,
    statement_months,
)
from guarantees.web.common import add_domain_error, get_guarantee, require


def statement_party(user, guarantee) -> bool:
    """The principal's people and the guarantor bank's, nobody else."""
    organisation = getattr(user, "organisation", None)
    return organisation is not None and organisation.pk in (guarantee.principal_id, guarantee.bank.organisation_id)


def _language(request) -> str:
    """The reader's language when a statement is issued in it, else the registry's."""
    language = getattr(request, "LANGUAGE_CODE", "")
    return language if language in statement_languages() else settings.LANGUAGE_CODE


def _guarantee(request, pk):
    require(request, "guarantee.view")
    guarantee = get_guarantee(request, pk)
    if not statement_party(request.user, guarantee):
        raise Http404
    return guarantee


class StatementMonthForm(forms.Form):
    month = forms.DateField(label=gettext_lazy("Month"), input_formats=["%Y-%m", "%Y-%m-%d"])


@require_safe
@login_required
def statement_list(request, pk):
    guarantee = _guarantee(request, pk)
    # A month is issued when it has a statement in any language (the download renders the reader's if missing);
    # its figures are the same in every language.
    issued = {}
    for statement in Statement.objects.filter(guarantee=guarantee).order_by("pk"):
        issued.setdefault(statement.month, statement)
    months = [{"month": m, "statement": issued.get(m)} for m in statement_months(guarantee=guarantee)]
    return render(request, "guarantees/statement/list.html", {"guarantee": guarantee, "months": months})


@require_POST
@login_required
def statement_issue_view(request, pk):
    guarantee = _guarantee(request, pk)
    form = StatementMonthForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a month."))
        return redirect("guarantees:statements", pk=pk)
    try:
        statement = statement_issue_every_language(guarantee=guarantee, month=form.cleaned_data["month"])[0]
    except DomainError as exc:
        add_domain_error(request, exc)
        return redirect("guarantees:statements", pk=pk)
    messages.success(request, _("The statement of %(month)s is ready.") % {"month": statement.month.strftime("%m/%Y")})
    return redirect("guarantees:statements", pk=pk)


@require_safe
@login_required
def statement_download(request, pk, year, month):
    guarantee = _guarantee(request, pk)
    try:
        first = datetime.date(year, month, 1)
    except ValueError:
        raise Http404 from None
    language = _language(request)
    statements = Statement.objects.filter(guarantee=guarantee, month=first)
    if not statements.exists():
        raise Http404  # a month nobody issued: issuing one is the page's form (a POST), never a link
    if not statements.filter(language=language).exists():
        # Issued before in another language only (as every statement was before they came in each language).
        statement_issue(guarantee=guarantee, month=first, language=language)
    statement = statements.with_pdf().get(language=language)
    response = HttpResponse(bytes(statement.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement.filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
