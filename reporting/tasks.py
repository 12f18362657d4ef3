"""The reports' tasks: read a report afresh into its snapshot (``reporting.snapshots``). They read the registry and
write only the cache."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from reporting.snapshots import filter_params, refresh_done, snapshot_build, snapshot_key

logger = logging.getLogger(__name__)


def _reader(user_id: int):
    from accounts.models import User

    return User.objects.filter(pk=user_id, is_active=True).first()


@shared_task(ignore_result=True)
def refresh_report(*, slug: str, user_id: int, language: str, params: dict, key: str) -> None:
    """Build the snapshot of ``slug`` as ``user_id`` sees it (their organisation's figures) with ``params``."""
    from reporting.forms import ReportFilter
    from reporting.pages import pages_for, principals_of

    try:
        user = _reader(user_id)
        page = next((p for p in pages_for(user) if p.slug == slug), None) if user is not None else None
        if page is None:
            return  # no longer theirs to read
        form = ReportFilter(params or None, user=user, corridors=page.corridors,
                            principals=principals_of(user) if page.principals else None)
        if form.is_bound and not form.is_valid():
            return
        expected = snapshot_key(slug=slug, organisation_id=user.organisation.pk, language=language,
                                params=filter_params(form))
        if expected != key:
            return  # never store under a key the reader's own request did not name
        snapshot_build(page=page, user=user, form=form, language=language, key=key)
    finally:
        refresh_done(key)


@shared_task(ignore_result=True)
def refresh_report_defaults() -> int:
    """Read afresh the pages as they open (no filter) of every bank, customs administration and the secretariat,
    in the languages their people read: the heaviest reports, always there and at most
    ``REPORT_SNAPSHOT_REFRESH_SECONDS`` old. Forwarders' pages are read when asked for (a forwarder's figures are
    small, and there are thousands of forwarders). Returns how many snapshots were built."""
    from accounts.models import Membership
    from accounts.roles import OrganisationKind
    from reporting.forms import ReportFilter
    from reporting.pages import pages_for

    kinds = (OrganisationKind.BANK, OrganisationKind.CUSTOMS, OrganisationKind.SECRETARIAT)
    languages = {code for code, _name in settings.LANGUAGES}
    built = 0
    readers: dict[int, list] = {}
    for membership in (Membership.objects.select_related("user", "organisation")
                       .filter(organisation__kind__in=kinds, organisation__is_active=True, user__is_active=True)
                       .order_by("organisation_id", "pk")):
        readers.setdefault(membership.organisation_id, []).append(membership.user)
    for users in readers.values():
        reader = next((u for u in users if pages_for(u)), None)
        if reader is None:
            continue
        spoken = sorted({u.language for u in users if u.language in languages} or {settings.LANGUAGE_CODE})
        for page in pages_for(reader):
            form = ReportFilter(None, user=reader, corridors=page.corridors)
            for language in spoken:
                key = snapshot_key(slug=page.slug, organisation_id=reader.organisation.pk, language=language,
                                   params={})
                try:
                    snapshot_build(page=page, user=reader, form=form, language=language, key=key)
                    built += 1
                except Exception:  # noqa: BLE001 - one report's failure leaves the others to be read
                    logger.exception("report snapshot %s of organisation %s failed", page.slug,
                                     reader.organisation.pk)
    return built
