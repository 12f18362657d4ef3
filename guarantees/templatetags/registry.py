"""Template filters and tags of the registry: amounts in FCFA (``guarantees.formats``), times in an office's or a
country's zone, country names, permissions, links. Every page loads it (``{% load registry %}``)."""

from __future__ import annotations


from django import template

from accounts.navigation import url_or_none
from guarantees.formats import EMPTY, format_fcfa, format_in_zone
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
    """``value|in_zone:"Africa/Niamey"``, ``value|in_zone:office`` or ``value|in_zone:organisation.country``: a UTC
    datetime in that zone (``guarantees.formats.format_in_zone``)."""
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
