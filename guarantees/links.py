"""Where a notice points: the page of what it is about, built when it is shown or e-mailed (services store only
what a notice is about, ``Notification.about``/``about_ref``, and know nothing of pages)."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from guarantees.models import NoticeAbout

_PAGES = {
    NoticeAbout.GUARANTEE: "guarantees:detail",
    NoticeAbout.TRANSIT: "guarantees:transit_detail",
    NoticeAbout.ENQUIRY: "guarantees:enquiry_detail",
    NoticeAbout.RELEASE: "guarantees:release_approve",
    NoticeAbout.CLAIM: "guarantees:claim_detail",
    NoticeAbout.RECONCILIATION: "guarantees:reconciliation_detail",
    NoticeAbout.TASK_FAILURE: "guarantees:task_failure_detail",
}


def notification_path(notification) -> str:
    """The path of the page a notification is about ("" when it is about nothing in particular)."""
    if notification.params is None:
        return notification.stored_url  # written before notices were worded when read
    url_name = _PAGES.get(notification.about)
    if not url_name:
        return ""
    try:
        return reverse(url_name, args=[notification.about_ref])
    except NoReverseMatch:
        return ""


def absolute(path: str) -> str:
    """A path of the site as an address to give outside it (e-mails, QR codes)."""
    return settings.REGISTRY_PUBLIC_URL.rstrip("/") + path if path else ""
