"""Everyone's notifications: worded in the reader's language when shown, each linked to what it is about."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from guarantees.models import Notification
from guarantees.links import notification_path
from guarantees.services.notifications import notification_mark_read, notifications_mark_all_read
from guarantees.web.common import paginate, require
from guarantees.web.tables import notification_rows


@require_safe
@login_required
def notification_list(request):
    require(request, "notification.view")
    unread_only = request.GET.get("unread") == "1"
    unread = Notification.objects.filter(recipient=request.user, read_at__isnull=True).count()
    page, query = paginate(request, notification_rows(request.user, request.GET))
    page.object_list = list(page.object_list)
    for notification in page.object_list:
        notification.link = notification_path(notification)
    return render(request, "guarantees/operations/notifications.html",
                  {"page": page, "query": query, "unread": unread, "unread_only": unread_only})


@require_POST
@login_required
def notification_open(request, pk):
    """Mark one notification read and follow its link (or come back to the list)."""
    require(request, "notification.view")
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notification_mark_read(notification=notification, user=request.user)
    target = notification_path(notification) if request.POST.get("follow") == "1" else ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("guarantees:notifications")


@require_POST
@login_required
def notifications_read_all(request):
    require(request, "notification.view")
    count = notifications_mark_all_read(user=request.user)
    messages.success(request, _("%(count)s notification(s) marked as read.") % {"count": count})
    return redirect("guarantees:notifications")
