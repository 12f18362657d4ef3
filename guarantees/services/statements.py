"""Monthly statements: one signed PDF per guarantee, month and language, for its principal and its bank.

Issued by Celery beat on the 1st of each month for the month before (``statements_issue_for_month`` queues one task
per guarantee, which issues every configured language), or on demand from the guarantee's page for a month that is
over; a reader who finds no statement in their language for a month issued before gets it rendered when they ask.
One statement per guarantee, month and language (a unique constraint): issuing it again returns the one stored,
whoever asks first; every language prints the same content, the first one issued setting it (as the
certificates do). Its figures are the ledger's (``guarantees.selectors.statements``), kept beside the PDF, and
computing them again gives the same — ledger entries are never edited, and a month that is over gets no new entry.
"""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guarantees.documents.renderer import statement_render
from guarantees.errors import InvalidTransition
from guarantees.models import Guarantee, Statement
from guarantees.queue import queue_after_commit
from guarantees.selectors.statements import (
    guarantee_zone,
    guarantees_for_statements,
    month_first,
    month_previous,
    statement_figures,
)


def statement_content(*, guarantee: Guarantee, month: datetime.date, issued_at: datetime.datetime) -> dict:
    """What the statement prints: the parties, the terms and the month's figures (JSON-safe)."""
    principal = guarantee.principal
    bank = guarantee.bank.organisation
    return {
        "grn": guarantee.grn or f"#{guarantee.pk}",
        "principal": {"name": principal.name, "tin": getattr(principal, "tin", ""),
                      "address": getattr(principal, "address", "")},
        "bank": {"name": bank.name, "address": getattr(bank, "address", "")},
        "valid_from": guarantee.valid_from.strftime("%d/%m/%Y"),
        "valid_until": guarantee.valid_until.strftime("%d/%m/%Y"),
        "issued_at": issued_at.isoformat(),
        "figures": statement_figures(guarantee=guarantee, month=month),
    }


def statement_months(*, guarantee: Guarantee, now: datetime.datetime | None = None) -> list[datetime.date]:
    """The months a statement may be issued for: from the activation's month to the last month that is over,
    newest first."""
    if guarantee.activated_at is None:
        return []
    zone = guarantee_zone(guarantee)
    first = month_first(guarantee.activated_at.astimezone(zone).date())
    month = month_previous(month_first((now or timezone.now()).astimezone(zone).date()))  # the last one over
    months = []
    while month >= first:
        months.append(month)
        month = month_previous(month)
    return months


def statement_languages() -> list[str]:
    """Every configured language, the default first: a statement exists in each."""
    codes = [code for code, _name in settings.LANGUAGES]
    return sorted(codes, key=lambda code: code != settings.LANGUAGE_CODE)


def statement_issue(*, guarantee: Guarantee, month: datetime.date, now: datetime.datetime | None = None,
                    language: str | None = None) -> Statement:
    """The guarantee's statement of ``month`` in ``language`` (by default the registry's): the one stored, or
    rendered, signed and stored now. Refused for a month not over yet (its figures could still change) or before
    the guarantee was active, and for a language that is not configured."""
    language = language or settings.LANGUAGE_CODE
    if language not in statement_languages():
        raise ValueError(f"Unknown statement language {language!r}.")
    month = month_first(month)
    existing = Statement.objects.filter(guarantee=guarantee, month=month, language=language).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    if month not in statement_months(guarantee=guarantee, now=now):
        raise InvalidTransition(_("A statement is issued for a month that is over, from the guarantee's activation."))
    # Every language of a month prints the same content: the first one issued sets it.
    sibling = Statement.objects.filter(guarantee=guarantee, month=month).order_by("pk").only("content").first()
    content = sibling.content if sibling is not None else statement_content(guarantee=guarantee, month=month,
                                                                             issued_at=now)
    filename, _mimetype, pdf = statement_render(content=content, language=language)
    figures = content["figures"]
    try:
        with transaction.atomic():
            return Statement.objects.create(
                guarantee=guarantee, month=month, language=language, content=content,
                opening_available=figures["opening"]["available"], closing_available=figures["closing"]["available"],
                entries=len(figures["movements"]),
                last_seq=figures["movements"][-1]["seq"] if figures["movements"] else 0,
                filename=filename, sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf), pdf=pdf,
            )
    except IntegrityError:  # issued by someone else meanwhile: theirs stands
        return Statement.objects.get(guarantee=guarantee, month=month, language=language)


def statement_issue_every_language(*, guarantee: Guarantee, month: datetime.date,
                                   now: datetime.datetime | None = None) -> list[Statement]:
    """The guarantee's statement of ``month`` in every configured language, each stored or issued now."""
    now = now or timezone.now()
    return [statement_issue(guarantee=guarantee, month=month, now=now, language=language)
            for language in statement_languages()]


def statements_issue_for_month(*, month: datetime.date | None = None, now: datetime.datetime | None = None) -> int:
    """Queue the statements of ``month`` (by default the month before ``now``) for every guarantee that gets
    one and lacks it in one of the configured languages, a task each. Returns how many were queued."""
    now = now or timezone.now()
    month = month_first(month or month_previous(now.date()))
    languages = statement_languages()
    done = (Statement.objects.filter(month=month, language__in=languages).values("guarantee_id")
            .annotate(languages=Count("language", distinct=True)).filter(languages=len(languages))
            .values("guarantee_id"))
    ids = list(guarantees_for_statements(month=month).exclude(pk__in=done).values_list("pk", flat=True))
    for guarantee_id in ids:
        queue_after_commit("guarantees.tasks.issue_statement", guarantee_id=guarantee_id, month=month.isoformat())
    return len(ids)


def statement_issue_by_id(*, guarantee_id: int, month: str) -> list[Statement]:
    """The task's work: the statement of one guarantee and month in every configured language."""
    guarantee = (Guarantee.objects.select_related("principal", "bank__organisation", "country")
                 .filter(pk=guarantee_id).first())
    if guarantee is None:
        return []
    month_date = datetime.date.fromisoformat(month)
    try:
        return statement_issue_every_language(guarantee=guarantee, month=month_date)
    except InvalidTransition:
        return []  # not a month it gets a statement for (activated after it): nothing to issue
