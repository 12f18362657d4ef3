"""Template filters and tags of the registry: amounts in FCFA (``guarantees.formats``), times in an office's or a
country's zone, country names, permissions, links. Every page loads it (``{% load registry %}``)."""

from __future__ import annotations

import datetime
import zoneinfo

from django import template
from django.utils import formats, timezone

from accounts.navigation import url_or_none
from guarantees.formats import EMPTY, format_fcfa
from guarantees.models import Country

register = template.Library()


@register.filter
def fcfa(value) -> str:
    return format_fcfa(value)


def _zone(where) -> zoneinfo.ZoneInfo | None:
    """``where``: a zone name, anything with a ``timezone`` (an office, a country), or a country's ISO code (as an
    organisation holds it)."""
    if isinstance(where, str) and len(where) == 2 and where.isupper():
        where = Country.objects.filter(pk=where).first()
    name = where if isinstance(where, str) else getattr(where, "timezone", None)
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


@register.filter
def in_zone(value, where) -> str:
    """A UTC datetime shown in a zone: ``value|in_zone:"Africa/Niamey"`` or ``value|in_zone:office``.

    Gives the localised short date and time, the zone's abbreviation and its offset from UTC,
    e.g. ``27/11/2026 19:57 WAT (UTC+01:00)``. Without a known zone, the time is shown in UTC.
    """
    if value is None or value == "":
        return EMPTY
    if not isinstance(value, datetime.datetime):
        return str(value)
    zone = _zone(where) or datetime.timezone.utc
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.timezone.utc)
    local = value.astimezone(zone)
    offset = local.utcoffset() or datetime.timedelta(0)
    total_minutes = int(offset.total_seconds() // 60)
    sign = "+" if total_minutes >= 0 else "-"
    hours, minutes = divmod(abs(total_minutes), 60)
    abbreviation = local.tzname() or ""
    text = formats.date_format(local, "SHORT_DATETIME_FORMAT")
    utc_offset = f"UTC{sign}{hours:02d}:{minutes:02d}"
    if abbreviation and abbreviation != utc_offset and not abbreviation.startswith(("+", "-")):
        return f"{text} {abbreviation} ({utc_offset})"
    return f"{text} ({utc_offset})"


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
