"""Template filters and tags of the registry: amounts in FCFA (``guarantees.formats``), times in an office's or a
country's zone, country names, permissions, links. Every page loads it (``{% load registry %}``)."""

from __future__ import annotations

from django import template

from accounts.navigation import url_or_none
from django.utils import timezone

from guarantees.formats import EMPTY, format_fcfa, format_in_zone, format_moment, zone_label
from guarantees.models import Country

register = template.Library()


@register.filter
def fcfa(value) -> str:
    return format_fcfa(value)


def _where(where):
    """A country's ISO code (as an organisation holds it) names that country's zone; anything else is a zone name or
    has a ``timezone``."""
    if isinstance(where, str) and len(where) == 2 and where.isupper():
        return Country.objects.filter(pk=where).first()
    return where


@register.filter
def in_zone(value, where) -> str:
    """A moment in a given zone, named: ``value|in_zone:"UTC"`` → ``27/11/2026 19:57 UTC``; ``where`` is a zone
    name, an office, a country or a country's ISO code.

    For the rare time that must be read in a zone other than the reader's (a public page, a document). Pages
    for signed-in people use ``|when``, so that one page never shows one instant in two zones."""
    return format_in_zone(value, _where(where))


@register.filter
def country_name(code) -> str:
    """``organisation.country|country_name``: the country's name in the reader's language (the code if unknown)."""
    found = Country.objects.filter(pk=code).first() if code else None
    return found.name if found else (code or EMPTY)


@register.filter
def can(user, permission: str) -> bool:
    """``user|can:"guarantee.view"``: whether the person's roles grant the permission."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.can(permission)


register.filter("has_perm", can)


@register.simple_tag
def url_if_exists(url_name: str, *args, **kwargs) -> str:
    """``{% url_if_exists "guarantees:list" as url %}{% if url %}…{% endif %}``: "" when the URL does not exist."""
    return url_or_none(url_name, *args, **kwargs) or ""


@register.filter
def when(value) -> str:
    """A moment in the reader's zone (``guarantees.web.zones``), day/month/year and 24 hours: ``27/11/2026 19:57``.

    The zone is not repeated beside each time: the page names it once (``{% reader_zone %}``)."""
    return format_moment(value, timezone.get_current_timezone())


@register.simple_tag
def reader_zone() -> str:
    """The zone the page's times are in, named: ``heure de Ouagadougou (UTC+0)``."""
    return zone_label(timezone.get_current_timezone())


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> dict:
    """``{% unread_notifications as unread %}``: the reader's unread notifications (``unread.count``) and the URL
    of their page (``unread.url``), for the badge of the navigation. One indexed count per page."""
    request = context.get("request")
    user = getattr(request, "user", None)
    url = url_or_none("guarantees:notifications")
    if url is None or user is None or not user.is_authenticated:
        return {"count": 0, "url": url}
    from guarantees.models import Notification

    return {"count": Notification.objects.filter(recipient=user, read_at__isnull=True).count(), "url": url}

