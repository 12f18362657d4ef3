"""The API keys of the customs systems: the secretariat issues them (shown once) and revokes them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from accounts.api_keys import api_key_create, api_key_revoke
from accounts.models import ApiKey
from guarantees.errors import DomainError
from guarantees.web.forms.guarantees import ConfirmationForm
from guarantees.web.forms.transits import ApiKeyIssueForm
from guarantees.web.common import add_domain_error, form_data, paginate, require


NEW_KEY_SESSION_KEY = "guarantees.new_api_key"


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def api_key_list(request):
    require(request, "apikey.manage")
    form = ApiKeyIssueForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            api_key, plaintext = api_key_create(
                organisation=form.cleaned_data["organisation"], name=form.cleaned_data["name"], by=request.user,
            )
        except DomainError as exc:
            add_domain_error(request, exc, form)
        else:
            request.session[NEW_KEY_SESSION_KEY] = {"pk": api_key.pk, "key": plaintext}
            return redirect("guarantees:api_keys")
    new_key = request.session.pop(NEW_KEY_SESSION_KEY, None)
    keys = ApiKey.objects.select_related("created_by").order_by("-created_at", "-pk")
    page, query = paginate(request, keys)
    context = {
        "form": form,
        "page": page,
        "query": query,
        "new_key": new_key,
        "new_key_object": keys.filter(pk=new_key["pk"]).first() if new_key else None,
    }
    response = render(request, "guarantees/apikey/list.html", context)
    if new_key:
        # A page showing a secret must not be kept by the browser or a proxy.
        response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def api_key_revoke_view(request, pk):
    require(request, "apikey.manage")
    api_key = get_object_or_404(ApiKey.objects.select_related("organisation"), pk=pk)
    form = ConfirmationForm(form_data(request))
    if request.method == "POST" and api_key.revoked_at is None and form.is_valid():
        try:
            api_key_revoke(api_key=api_key, by=request.user)
        except DomainError as exc:
            add_domain_error(request, exc, form)
        else:
            messages.success(
                request, _("The key %(name)s was revoked. Requests signed with it are now refused.")
                % {"name": api_key.name},
            )
            return redirect("guarantees:api_keys")
    return render(request, "guarantees/apikey/revoke.html", {"api_key": api_key, "form": form})
