"""The report pages and their exports. The access contract is the registry's: not signed in → the sign-in page;
without ``report.view`` → 403; a page that is not for the reader's kind of organisation (a bank's report for a
customs officer, an unknown page) → 404. What the figures cover is narrowed by the selectors, never here."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from reporting.exports import csv_response, xlsx_response
from reporting.forms import ReportFilter
from reporting.pages import pages_for, principals_of
from reporting.snapshots import fresh_seconds, report_snapshot
from reporting.tasks import refresh_report

# While a report is being prepared, its page reloads itself this often (seconds).
PREPARING_REFRESH_SECONDS = 3


def _require_reports(request):
    if not request.user.can("report.view"):
        raise PermissionDenied


def _page(request, slug: str):
    _require_reports(request)
    page = next((p for p in pages_for(request.user) if p.slug == slug), None)
    if page is None:
        raise Http404
    return page


def _form(request, page):
    return ReportFilter(
        request.GET or None, user=request.user, corridors=page.corridors,
        principals=principals_of(request.user) if page.principals else None,
    )


@require_safe
@login_required
def report_index(request):
    _require_reports(request)
    pages = pages_for(request.user)
    if len(pages) == 1:
        return redirect("reporting:page", slug=pages[0].slug)
    return render(request, "reporting/index.html", {"pages": pages})


@require_safe
@login_required
def report_page(request, slug):
    page = _page(request, slug)
    form = _form(request, page)
    if form.is_bound and not form.is_valid():
        return render(request, "reporting/page.html",
                      {"page": page, "pages": pages_for(request.user), "form": form, "report": None}, status=400)
    snapshot = report_snapshot(page=page, user=request.user, form=form, refresh=refresh_report)
    query = request.GET.urlencode()
    return render(request, "reporting/page.html", {
        "page": page, "pages": pages_for(request.user), "form": form, "query": query,
        "report": snapshot.report if snapshot else None, "report_html": snapshot.sections if snapshot else "",
        "preparing": snapshot is None,
        "stale": snapshot is not None and snapshot.stale, "refresh_seconds": PREPARING_REFRESH_SECONDS,
        "fresh_minutes": fresh_seconds() // 60,
    })


@require_safe
@login_required
def report_export(request, slug, fmt):
    page = _page(request, slug)
    form = _form(request, page)
    if form.is_bound and not form.is_valid():
        return render(request, "reporting/page.html",
                      {"page": page, "pages": pages_for(request.user), "form": form, "report": None}, status=400)
    snapshot = report_snapshot(page=page, user=request.user, form=form, refresh=refresh_report)
    if snapshot is None:  # being prepared: the page says so and shows the export links once it is there
        query = request.GET.urlencode()
        return redirect(reverse("reporting:page", args=[slug]) + (f"?{query}" if query else ""))
    report = snapshot.report
    if fmt == "xlsx":
        return xlsx_response(report)
    table = report.table(request.GET.get("table"))
    if table is None:
        raise Http404
    return csv_response(report, table)


