"""Report snapshots: a report page's figures, built by a Celery task and kept, never computed in a request.

At a million transits the aggregates of a report take 0.1–2 s to read from the live tables (issue #13), too long
for a page. Each report is therefore kept as a snapshot: the ``Report`` its builder returns (tables, figures and
charts), for one organisation, one language and one set of filters, with the moment it was read (``as_of``, shown
on the page and in the exports' file names). How stale a snapshot may be:

- the page shows a snapshot younger than ``REPORT_SNAPSHOT_FRESH_SECONDS`` (10 minutes) as it is;
- an older one is still shown, with its "as of", while a task reads it afresh (at most one per snapshot at a
  time); after ``REPORT_SNAPSHOT_KEEP_SECONDS`` (a day) unread it is gone;
- a snapshot nobody has asked for yet (a new filter) is queued and the page says it is being prepared, refreshing
  itself until it is there (seconds);
- the pages as they open (no filter) of every bank, customs administration and the secretariat are read afresh by
  Celery beat every ``REPORT_SNAPSHOT_REFRESH_SECONDS`` (10 minutes), so that they are always there and at most
  that old.

The snapshots live in the default cache (Redis in production), not in the registry's database: the reports only
read the registry. Where tasks run in the request (the embedded default), the task builds the snapshot before
the page is shown. If the task cannot be queued (the broker is down), the page builds the report itself, once,
and says so in the log.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from guarantees.zones import country_zone
from reporting.selectors.common import DB
from reporting.tables import Report

logger = logging.getLogger(__name__)

FILTER_FIELDS = ("start", "end", "corridor", "principal")
VERSION = 2  # raised when the shape of a Report changes, so that old snapshots are not read back


def fresh_seconds() -> int:
    return getattr(settings, "REPORT_SNAPSHOT_FRESH_SECONDS", 600)


def keep_seconds() -> int:
    return getattr(settings, "REPORT_SNAPSHOT_KEEP_SECONDS", 86400)


def filter_params(form) -> dict[str, str]:
    """The filters of a valid form as the strings a task rebuilds the form from (empty ones left out)."""
    data = getattr(form, "cleaned_data", {}) or {}
    out = {}
    for name in FILTER_FIELDS:
        value = data.get(name)
        if value in (None, ""):
            continue
        out[name] = value.strftime("%Y-%m") if isinstance(value, datetime.date) else str(value)
    return out


def snapshot_key(*, slug: str, organisation_id: int, language: str, params: dict[str, str]) -> str:
    digest = hashlib.sha256(urlencode(sorted(params.items())).encode()).hexdigest()[:20]
    return f"report-snapshot:v{VERSION}:{slug}:{organisation_id}:{language}:{digest}"


@dataclass
class Snapshot:
    report: Report
    built_at: datetime.datetime
    # The report's sections as HTML, written once when it is read (a bank's table of 800 forwarders, a forwarder's
    # hundreds of guarantees month by month took 0.3–0.9 s to write into each page).
    html: str = ""

    @property
    def sections(self) -> str:
        return mark_safe(self.html)  # noqa: S308 - rendered by our own template from our own figures

    @property
    def stale(self) -> bool:
        return (timezone.now() - self.built_at).total_seconds() >= fresh_seconds()


def snapshot_get(key: str) -> Snapshot | None:
    try:
        found = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache that cannot be read is a snapshot not there
        logger.warning("report snapshot: the cache could not be read", exc_info=True)
        return None
    return found if isinstance(found, Snapshot) else None


def snapshot_store(key: str, report: Report, html: str = "") -> Snapshot:
    snapshot = Snapshot(report=report, built_at=report.as_of or timezone.now(), html=html)
    try:
        cache.set(key, snapshot, timeout=keep_seconds())
    except Exception:  # noqa: BLE001 - the page can still show what was built
        logger.warning("report snapshot: the cache could not be written", exc_info=True)
    return snapshot


def organisation_zone(organisation) -> datetime.tzinfo:
    """The zone the organisation's people read times in (the pages' reader zone, ``guarantees.web.zones``), for
    reports read in a task; UTC when its country has none."""
    return country_zone(getattr(organisation, "country", None)) or datetime.timezone.utc


def snapshot_build(*, page, user, form, language: str, key: str) -> Snapshot:
    """Read the report now, in ``language`` and the organisation's zone, and keep it under ``key``."""
    with translation.override(language), timezone.override(organisation_zone(user.organisation)):
        report = page.build(user=user, form=form, now=timezone.now())
        html = render_to_string("reporting/_sections.html", {
            "report": report, "page": page, "query": urlencode(sorted(filter_params(form).items())),
        })
    return snapshot_store(key, report, html)


def _claim_refresh(key: str) -> bool:
    """Whether this caller is the one to queue ``key``'s refresh (one at a time, for as long as a build may take)."""
    try:
        return cache.add(f"{key}:queued", 1, timeout=getattr(settings, "REPORT_SNAPSHOT_QUEUED_SECONDS", 300))
    except Exception:  # noqa: BLE001
        return True


def refresh_done(key: str) -> None:
    try:
        cache.delete(f"{key}:queued")
    except Exception:  # noqa: BLE001
        pass


def report_snapshot(*, page, user, form, refresh) -> Snapshot | None:
    """The snapshot of ``page`` for the reader's organisation, language and filters: the one kept (a refresh
    queued when it is stale), else one queued now — ``None`` while it is being prepared. The form is valid;
    ``refresh`` is the task that reads a snapshot (``reporting.tasks.refresh_report``)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    params = filter_params(form)
    key = snapshot_key(slug=page.slug, organisation_id=user.organisation.pk, language=language, params=params)
    snapshot = snapshot_get(key)
    if snapshot is not None and not snapshot.stale:
        return snapshot
    if _claim_refresh(key):
        try:
            refresh.delay(slug=page.slug, user_id=user.pk, language=language, params=params, key=key)
        except Exception:  # noqa: BLE001 - broker down: read it here rather than show nothing
            logger.warning("report snapshot: the refresh could not be queued; building it in the request",
                           exc_info=True)
            refresh_done(key)
            return snapshot or snapshot_build(page=page, user=user, form=form, language=language, key=key)
    # Run in the request (the embedded default), the task has stored the new one already; with a worker, the
    # one kept is shown until it has.
    return snapshot_get(key) or snapshot
