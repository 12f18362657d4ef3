"""The links of the header and the home page, as data: a URL name, a label and who may see it.

A link appears when the person holds one of its permissions and its URL name resolves, so pages written
later (``guarantees:...``) show up on their own once their URLs exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    description: str
    permissions: frozenset[str] = frozenset()
    staff_only: bool = False


# Order matters: the first item of a URL name the person may see wins (a forwarder's "My guarantees"
# before everyone else's "Guarantees").
NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(
        "guarantees:list",
        pgettext_lazy("navigation", "My guarantees"),
        pgettext_lazy("navigation", "Your guarantees, their balance and open transits."),
        frozenset({"guarantee.request"}),
    ),
    NavItem(
        "guarantees:list",
        pgettext_lazy("navigation", "Guarantees"),
        pgettext_lazy("navigation", "The guarantees your organisation deals with."),
        frozenset({"guarantee.view"}),
    ),
    NavItem(
        "guarantees:request",
        pgettext_lazy("navigation", "Request a guarantee"),
        pgettext_lazy("navigation", "Ask a bank for a new guarantee."),
        frozenset({"guarantee.request"}),
    ),
    NavItem(
        "guarantees:bank_queue",
        pgettext_lazy("navigation", "Queue"),
        pgettext_lazy("navigation", "Requests and amendments waiting for your bank."),
        frozenset({"guarantee.prepare", "guarantee.confirm"}),
    ),
    NavItem(
        "guarantees:portfolio",
        pgettext_lazy("navigation", "Portfolio"),
        pgettext_lazy("navigation", "Your bank's guarantees and its exposure against the ceiling."),
        frozenset({"bank.portfolio"}),
    ),
    NavItem(
        "guarantees:customs_queue",
        pgettext_lazy("navigation", "Acceptances"),
        pgettext_lazy("navigation", "Guarantees waiting for customs acceptance."),
        frozenset({"guarantee.accept"}),
    ),
    NavItem(
        "guarantees:lookup",
        pgettext_lazy("navigation", "Check a guarantee"),
        pgettext_lazy("navigation", "Check a guarantee number and its access code."),
        frozenset({"guarantee.lookup"}),
    ),
    NavItem(
        "guarantees:transits",
        pgettext_lazy("navigation", "Transits"),
        pgettext_lazy("navigation", "Transits declared on the guarantees you can see."),
        frozenset({"transit.view"}),
    ),
    NavItem(
        "guarantees:claims",
        pgettext_lazy("navigation", "Claims to answer"),
        pgettext_lazy("navigation", "Claims on your bank's guarantees, with their examination deadlines."),
        frozenset({"claim.answer", "claim.prepare"}),
    ),
    NavItem(
        "guarantees:enquiries",
        pgettext_lazy("navigation", "Enquiries"),
        pgettext_lazy("navigation", "Enquiries on transits not discharged in time, and manual releases."),
        frozenset({"enquiry.view"}),
    ),
    NavItem(
        "guarantees:claims",
        pgettext_lazy("navigation", "Claims"),
        pgettext_lazy("navigation", "Claims under the guarantees, their answers and deadlines."),
        frozenset({"claim.view"}),
    ),
    NavItem(
        "guarantees:discharge_jobs",
        pgettext_lazy("navigation", "Discharge files"),
        pgettext_lazy("navigation", "Upload your system's bulk file of discharges and follow its processing."),
        frozenset({"discharge.upload"}),
    ),
    NavItem(
        "guarantees:api_keys",
        pgettext_lazy("navigation", "API keys"),
        pgettext_lazy("navigation", "Keys of the customs systems: issue and revoke them."),
        frozenset({"apikey.manage"}),
    ),
    NavItem(
        "guarantees:banks",
        pgettext_lazy("navigation", "Banks"),
        pgettext_lazy("navigation", "Approved banks and their exposure ceilings."),
        frozenset({"bank.approve"}),
    ),
    NavItem(
        "guarantees:reconciliations",
        pgettext_lazy("navigation", "Reconciliation"),
        pgettext_lazy("navigation", "Customs' lists of open transits compared with the holds open here."),
        frozenset({"reconciliation.view"}),
    ),
    NavItem(
        "guarantees:task_failures",
        pgettext_lazy("navigation", "Failed tasks"),
        pgettext_lazy("navigation", "Background tasks that failed, with their error; retry them."),
        frozenset({"task.retry"}),
    ),
    NavItem(
        "guarantees:refused_events",
        pgettext_lazy("navigation", "Refused events"),
        pgettext_lazy("navigation", "Transit events kept but refused: who sent them, and why."),
        frozenset({"event.refused"}),
    ),
    NavItem(
        "guarantees:ledger_checkpoints",
        pgettext_lazy("navigation", "Ledger"),
        pgettext_lazy("navigation", "Signed checkpoints of the ledger, to download and keep elsewhere."),
        frozenset({"ledger.audit"}),
    ),
    NavItem(
        "reporting:index",
        pgettext_lazy("navigation", "Reports"),
        pgettext_lazy("navigation", "Figures and charts of your guarantees and transits, to export as CSV or XLSX."),
        frozenset({"report.view"}),
    ),
    NavItem(
        "guarantees:notifications",
        pgettext_lazy("navigation", "Notifications"),
        pgettext_lazy("navigation", "What the registry told you: alerts, overdue transits, reports."),
        frozenset({"notification.view"}),
    ),
    NavItem(
        "organisation_members",
        pgettext_lazy("navigation", "My organisation"),
        pgettext_lazy("navigation", "Your colleagues and the invitations you sent."),
        frozenset({"organisation.invite"}),
    ),
    NavItem(
        "admin:index",
        pgettext_lazy("navigation", "Administration"),
        pgettext_lazy("navigation", "The registry's administration site."),
        staff_only=True,
    ),
)


def url_or_none(url_name: str, *args, **kwargs) -> str | None:
    try:
        return reverse(url_name, args=args or None, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def nav_links(user, current_path: str = "") -> list[dict]:
    """The links ``user`` may follow, each ``{"label", "description", "url", "active"}``."""
    if user is None or not user.is_authenticated:
        return []
    permissions = user.registry_permissions if user.is_active else frozenset()
    links: list[dict] = []
    seen: set[str] = set()
    for item in NAV_ITEMS:
        if item.url_name in seen:
            continue
        if item.staff_only:
            if not (user.is_active and user.is_staff):
                continue
        elif not (item.permissions & permissions):
            continue
        url = url_or_none(item.url_name)
        if url is None:
            continue
        seen.add(item.url_name)
        links.append({"label": item.label, "description": item.description, "url": url, "active": False})
    # Only the most specific link is active: /guarantees/request/ is "Request", not also "My guarantees".
    matching = [
        link for link in links
        if current_path and (current_path == link["url"] or (link["url"] != "/" and current_path.startswith(link["url"])))
    ]
    if matching:
        max(matching, key=lambda link: len(link["url"]))["active"] = True
    return links
