"""A guarantee's access codes: the principal issues them (each shown once) and revokes them."""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_http_methods
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from guarantees.errors import DomainError
from guarantees.web.forms.guarantees import AccessCodeIssueForm, ConfirmationForm
from guarantees.models import AccessCode
from guarantees.services.access_codes import access_code_issue, access_code_revoke
from guarantees.web.common import add_domain_error, form_data, get_guarantee, require
from guarantees.web.actions import guarantee_action


_CODE_SESSION_KEY = "guarantees.new_access_code.%s"


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def access_codes(request, pk):
    """The guarantee's access codes (never the codes themselves) and the form to issue a new one; a code just
    issued is shown once, above the list."""
    require(request, "guarantee.access_code")
    g = get_guarantee(request, pk)
    session_key = _CODE_SESSION_KEY % g.pk
    form = AccessCodeIssueForm(form_data(request))
    if request.method == "POST":
        if form.is_valid():
            try:
                code = access_code_issue(guarantee=g, by=request.user, label=form.cleaned_data["label"])
            except DomainError as exc:
                add_domain_error(request, exc, form)
            else:
                request.session[session_key] = {"code": code, "label": form.cleaned_data["label"]}
                return redirect("guarantees:access_codes", pk=g.pk)
    new_code = request.session.pop(session_key, None)
    response = render(
        request, "guarantees/guarantee/access_codes.html",
        {"guarantee": g, "form": form, "codes": g.access_codes.select_related("created_by"), "new_code": new_code},
    )
    if new_code:
        # A page showing a secret must not be kept by the browser or a proxy.
        response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def access_code_revoke_view(request, pk, code_pk):
    require(request, "guarantee.access_code")
    g = get_guarantee(request, pk)
    code = get_object_or_404(AccessCode, pk=code_pk, guarantee=g)
    return guarantee_action(
        request, obj=code, guarantee=g, form_class=ConfirmationForm,
        perform=lambda data: access_code_revoke(access_code=code, by=request.user),
        allowed=code.revoked_at is None,
        title=_("Revoke an access code"),
        question=_("Customs systems and border officers will no longer be able to check the guarantee with this "
                   "code. Your other codes keep working."),
        button=_("Revoke the code"), danger=True,
        success=_("The access code was revoked."),
        redirect_to=reverse("guarantees:access_codes", args=[g.pk]),
    )
