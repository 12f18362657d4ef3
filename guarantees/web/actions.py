"""The one shape of an action page: a state change asked for on a page of its own.

GET shows the form; POST (when the action is allowed) calls ``perform(cleaned_data)`` — one service — then says so
and goes on; a refusal (a ``DomainError``) is shown on the form, in words, and nothing changed. Every decision
page of the registry is this helper: ``guarantee_action`` for the decisions on a guarantee or an amendment (the
bank's, the customs'), ``case_action`` for enquiries, releases and claims; both only build the page's context.
"""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from guarantees.errors import DomainError
from guarantees.models import Guarantee
from guarantees.web.common import add_domain_error, form_data, guarantee_url

GUARANTEE_ACTION_TEMPLATE = "guarantees/guarantee/action.html"
CASE_ACTION_TEMPLATE = "guarantees/claim/action.html"


def action_page(request: HttpRequest, *, form, perform: Callable, template: str, context: dict, success: str,
                redirect_to: str | Callable, allowed: bool = True) -> HttpResponse:
    """The action page: ``redirect_to`` is a URL, or a function of what ``perform`` returned."""
    if request.method == "POST" and allowed and form.is_valid():
        try:
            result = perform(form.cleaned_data)
        except DomainError as exc:
            add_domain_error(request, exc, form)
        else:
            messages.success(request, success)
            return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)
    return render(request, template, {"form": form, "allowed": allowed, **context})


def guarantee_action(request: HttpRequest, *, obj, guarantee: Guarantee, form_class, perform: Callable, title: str,
                     question: str, button: str, success: str, allowed: bool = True, danger: bool = False,
                     initial: dict | None = None, redirect_to: str | None = None,
                     template: str = GUARANTEE_ACTION_TEMPLATE, extra_context: dict | None = None) -> HttpResponse:
    """A decision on a guarantee (or one of its amendments, ``obj``); back to the guarantee's page by default."""
    context = {"object": obj, "guarantee": guarantee, "title": title, "question": question, "button": button,
               "danger": danger, **(extra_context or {})}
    return action_page(request, form=form_class(form_data(request), initial=initial), perform=perform,
                       template=template, context=context, success=success,
                       redirect_to=redirect_to or guarantee_url(guarantee), allowed=allowed)


def case_action(request: HttpRequest, *, form, perform: Callable, title: str, intro: str, button: str, success: str,
                redirect_to, back_url: str, transit, claim=None, enquiry=None, allowed: bool = True,
                not_allowed: str = "", danger: bool = False, multipart: bool = False,
                extra: dict | None = None) -> HttpResponse:
    """A step of an enquiry, a release or a claim, on the transit it is about."""
    context = {"title": title, "intro": intro, "button": button, "back_url": back_url, "transit": transit,
               "claim": claim, "enquiry": enquiry, "not_allowed": not_allowed, "danger": danger,
               "multipart": multipart, **(extra or {})}
    return action_page(request, form=form, perform=perform, template=CASE_ACTION_TEMPLATE, context=context,
                       success=success, redirect_to=redirect_to, allowed=allowed)
