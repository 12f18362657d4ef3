"""Guarantees: each role's list and a guarantee's page; the forwarder's request (draft, submit, withdraw);
the bank's queue and portfolio, the customs' queue of acceptances and their check of a guarantee with its code."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_http_methods, require_safe
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from guarantees.errors import DomainError
from guarantees.web.tables import guarantee_filter
from guarantees.web.forms.guarantees import ConfirmationForm, GuaranteeRequestForm, OptionalReasonForm
from guarantees.models import AT_THE_BANK_STATUSES, AmendmentStatus, GuaranteeStatus, HoldStatus
from guarantees.selectors.guarantees import guarantee_trail
from guarantees.services.guarantees import (
    guarantee_request,
    guarantee_submit,
    guarantee_update_draft,
    guarantee_withdraw,
)
from guarantees.web.common import add_domain_error, form_data, get_guarantee, paginate, require, visible
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from guarantees.models import Amendment
from guarantees.selectors.guarantees import bank_exposure
from guarantees.errors import TooManyAttempts
from guarantees.web.forms.guarantees import AccessCodeCheckForm, LookupForm
from guarantees.services.access_codes import access_code_check
from guarantees.web.actions import guarantee_action
from guarantees.web.views.statements import statement_party

S = GuaranteeStatus
A = AmendmentStatus
OPEN_AMENDMENT = (A.SUBMITTED, A.PREPARED)
# Holds and ledger entries per page on a guarantee's page, as on the registry's other lists: the page carries three
# such tables, and at 50 rows each it was the heaviest page to send to a border post and to write (about 50 ms of
# CPU, a third of the web's in the soak).
DETAIL_PAGE_SIZE = 25
# What guarantee/_hold_table.html and the ledger table of guarantee/detail.html show (a column read there and not
# listed here would cost a query per row: tests/guarantees/web/test_list_query_counts.py counts them).
HOLD_TABLE_COLUMNS = ("pk", "guarantee_id", "reference", "status", "initial_amount", "amount", "claimed_amount",
                      "paid_amount", "created_at", "closed_at")
ENTRY_TABLE_COLUMNS = ("pk", "guarantee_id", "seq", "created_at", "kind", "d_amount", "d_held", "d_claimed", "d_paid",
                       "reference")



@require_safe
@login_required
def guarantee_list(request):
    require(request, "guarantee.view")
    filterset = guarantee_filter(request.user, request.GET)
    page, query = paginate(request, filterset.qs)
    return render(
        request, "guarantees/guarantee/list.html", {"filter": filterset, "page": page, "query": query},
    )


def _actions(user, g, open_amendment) -> dict[str, bool]:
    """Which buttons the detail page offers. The services decide in the end; this only hides dead ends."""
    prepared_by_other = g.prepared_by_id is not None and g.prepared_by_id != user.pk
    return {
        "edit": user.can("guarantee.request") and g.status == S.DRAFT,
        "submit": user.can("guarantee.request") and g.status == S.DRAFT,
        "withdraw": user.can("guarantee.request") and g.status in (S.DRAFT, *AT_THE_BANK_STATUSES),
        "prepare": user.can("guarantee.prepare") and g.status in AT_THE_BANK_STATUSES,
        "confirm": user.can("guarantee.confirm") and g.status == S.PREPARED and prepared_by_other,
        "send_back": user.can("guarantee.confirm") and g.status == S.PREPARED and prepared_by_other,
        "decline": user.can("guarantee.decline") and g.status in AT_THE_BANK_STATUSES
        and g.prepared_by_id != user.pk,
        "accept": user.can("guarantee.accept") and g.status == S.BANK_CONFIRMED,
        "suspend": user.can("guarantee.suspend") and g.status == S.ACTIVE,
        "reactivate": user.can("guarantee.reactivate") and g.status == S.SUSPENDED,
        "cancel": user.can("guarantee.cancel") and g.status in (S.BANK_CONFIRMED, S.ACTIVE, S.SUSPENDED),
        "amend": user.can("guarantee.amend_request") and g.status in (S.ACTIVE, S.SUSPENDED)
        and open_amendment is None,
        "amend_by_bank": user.can("amendment.prepare") and g.status in (S.ACTIVE, S.SUSPENDED)
        and open_amendment is None,
        "access_codes": user.can("guarantee.access_code") and bool(g.grn),
        "statements": g.activated_at is not None and statement_party(user, g),
    }


@require_safe
@login_required
def guarantee_detail(request, pk):
    require(request, "guarantee.view")
    g = get_guarantee(request, pk)
    user = request.user
    amendments = list(g.amendments.select_related("requested_by", "prepared_by", "checked_by"))
    open_amendment = next((a for a in amendments if a.status in OPEN_AMENDMENT), None)
    # A busy guarantee carries thousands of holds and entries: each list is a page of its own (its own
    # parameter, the others' kept in the links), read through an index (guarantee, status) / (guarantee, seq).
    # Only the columns the tables show (the ledger's hashes and keys stay in the database): up to 150 rows a page.
    holds = g.holds.only(*HOLD_TABLE_COLUMNS).order_by("-created_at", "-pk")
    open_holds, open_query = paginate(request, holds.filter(status=HoldStatus.HELD),
                                      per_page=DETAIL_PAGE_SIZE, page_param="open_holds_page")
    closed_holds, closed_query = paginate(request, holds.exclude(status=HoldStatus.HELD),
                                          per_page=DETAIL_PAGE_SIZE, page_param="closed_holds_page")
    entries, entries_query = paginate(request, g.entries.only(*ENTRY_TABLE_COLUMNS).order_by("seq"),
                                      per_page=DETAIL_PAGE_SIZE, page_param="entries_page")
    context = {
        "guarantee": g,
        "actions": _actions(user, g, open_amendment),
        "versions": g.versions.all(),
        "open_holds": open_holds,
        "open_holds_query": open_query,
        "closed_holds": closed_holds,
        "closed_holds_query": closed_query,
        "entries": entries,
        "entries_query": entries_query,
        "events": guarantee_trail(guarantee=g, user=user),
        "amendments": amendments,
        "open_amendment": open_amendment,
        "show_access_codes": user.can("guarantee.access_code"),
        "holds_query": f"guarantee={g.pk}",
    }
    if context["show_access_codes"]:
        codes = list(g.access_codes.all())
        context["access_codes"] = codes
        # The first code is the principal's to generate: offered until one exists.
        context["offer_first_code"] = bool(g.grn) and g.status == S.ACTIVE and not codes
    return render(request, "guarantees/guarantee/detail.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_request_view(request):
    require(request, "guarantee.request")
    form = GuaranteeRequestForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            g = guarantee_request(
                principal=request.user.organisation, bank=data["bank"], requested_amount=data["requested_amount"],
                valid_from=data["valid_from"], valid_until=data["valid_until"], purpose=data["purpose"],
                by=request.user, submit="submit" in request.POST,
            )
        except DomainError as exc:
            add_domain_error(request, exc, form)
        else:
            if g.status == S.SUBMITTED:
                messages.success(request, _("Your request was sent to the bank."))
            else:
                messages.success(request, _("Your request was saved as a draft. Submit it when it is ready."))
            return redirect("guarantees:detail", pk=g.pk)
    return render(request, "guarantees/guarantee/request.html", {"form": form, "guarantee": None})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_edit(request, pk):
    require(request, "guarantee.request")
    g = get_guarantee(request, pk)
    initial = {
        "bank": g.bank_id, "requested_amount": g.requested_amount, "valid_from": g.valid_from,
        "valid_until": g.valid_until, "purpose": g.purpose,
    }
    form = GuaranteeRequestForm(form_data(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            guarantee_update_draft(
                guarantee=g, by=request.user, bank=data["bank"], requested_amount=data["requested_amount"],
                valid_from=data["valid_from"], valid_until=data["valid_until"], purpose=data["purpose"],
            )
        except DomainError as exc:
            add_domain_error(request, exc, form)
        else:
            messages.success(request, _("The draft was saved."))
            return redirect("guarantees:detail", pk=g.pk)
    return render(
        request, "guarantees/guarantee/request.html",
        {"form": form, "guarantee": g, "editable": g.status == S.DRAFT},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_submit_view(request, pk):
    require(request, "guarantee.request")
    g = get_guarantee(request, pk)
    return guarantee_action(
        request, obj=g, guarantee=g, form_class=ConfirmationForm,
        perform=lambda data: guarantee_submit(guarantee=g, by=request.user),
        allowed=g.status == S.DRAFT,
        title=_("Submit the request to the bank"),
        question=_("Once submitted, the request can no longer be changed; you may still withdraw it until the "
                   "bank has confirmed it."),
        button=_("Submit to the bank"),
        success=_("Your request was sent to the bank."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def guarantee_withdraw_view(request, pk):
    require(request, "guarantee.request")
    g = get_guarantee(request, pk)
    return guarantee_action(
        request, obj=g, guarantee=g, form_class=OptionalReasonForm,
        perform=lambda data: guarantee_withdraw(guarantee=g, by=request.user, reason=data["reason"]),
        allowed=g.status in (S.DRAFT, *AT_THE_BANK_STATUSES),
        title=_("Withdraw the request"),
        question=_("The request will be closed and the bank will no longer review it."),
        button=_("Withdraw the request"), danger=True,
        success=_("The request was withdrawn."),
    )


def bank_queue_url() -> str:
    return reverse("guarantees:bank_queue")


def exposure_context(bank) -> dict:
    exposure = bank_exposure(bank=bank)
    return {
        "bank": bank,
        "exposure": exposure,
        "room": max(bank.exposure_ceiling - exposure, 0),
        "exposure_pct": round(100 * exposure / bank.exposure_ceiling) if bank.exposure_ceiling else None,
    }


def bank_desk(request, *, obj, guarantee, terms, template: str, form_class, perform, allowed: bool,
              initial: dict | None = None, exposure: bool = False, **page):
    """A page of the bank's desk on a request or an amendment (``obj``). It shows one preparation (``terms``)
    and binds its form to it: the service refuses if the row holds another one by the time the form comes
    back. A checker's confirmation page also shows the bank's exposure."""
    return guarantee_action(
        request, obj=obj, guarantee=guarantee, form_class=form_class, initial={"terms": terms, **(initial or {})},
        perform=perform, allowed=allowed, redirect_to=bank_queue_url(), template=template,
        extra_context={"terms": terms, **(exposure_context(guarantee.bank) if exposure else {})},
        **page,
    )


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
    filterset = guarantee_filter(request.user, request.GET)
    page, query = paginate(request, filterset.qs)
    return render(
        request, "guarantees/bank/portfolio.html",
        {"filter": filterset, "page": page, "query": query, **exposure_context(bank)},
    )


@require_safe
@login_required
def customs_queue(request):
    require(request, "guarantee.accept")
    queryset = visible(request).filter(status=S.BANK_CONFIRMED).order_by("confirmed_at", "pk")
    page, query = paginate(request, queryset)
    return render(request, "guarantees/customs/queue.html", {"page": page, "query": query})


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
