"""The background tasks that failed for good: the secretariat reads their error and trace, retries them or
closes them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from guarantees.errors import DomainError
from guarantees.models import TaskFailure
from guarantees.operations.failures import task_failure_resolve, task_failure_retry
from guarantees.web.common import add_domain_error, paginate, require
from guarantees.web.tables import task_failure_rows, task_failure_state



@require_safe
@login_required
def task_failure_list(request):
    require(request, "task.retry")
    state = task_failure_state(request.GET)
    page, query = paginate(request, task_failure_rows(request.user, request.GET))
    counts = {"open": TaskFailure.objects.filter(resolved=False).count()}
    return render(request, "guarantees/operations/task_failures.html",
                  {"page": page, "query": query, "state": state, "counts": counts})


@require_safe
@login_required
def task_failure_detail(request, pk):
    require(request, "task.retry")
    failure = get_object_or_404(TaskFailure.objects.select_related("retried_by"), pk=pk)
    return render(request, "guarantees/operations/task_failure_detail.html", {"failure": failure})


def _failure_step(request, pk, *, service, success: str):
    """A secretariat's step on a failed task (POST from its page), then back to that page."""
    require(request, "task.retry")
    failure = get_object_or_404(TaskFailure, pk=pk)
    try:
        service(failure=failure, by=request.user)
    except DomainError as exc:
        add_domain_error(request, exc)
    else:
        messages.success(request, success)
    return redirect("guarantees:task_failure_detail", pk=pk)


@require_POST
@login_required
def task_failure_retry_view(request, pk):
    return _failure_step(request, pk, service=task_failure_retry,
                         success=_("The task was queued again. It is marked resolved once it succeeds."))


@require_POST
@login_required
def task_failure_resolve_view(request, pk):
    return _failure_step(request, pk, service=task_failure_resolve, success=_("The failure is marked resolved."))
