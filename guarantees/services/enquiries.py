"""Enquiries on undischarged transits and manual releases by customs.

An enquiry is opened by customs of a country on the transit's route, on an overdue transit or on one where an
irregularity was found. Opening it is the notice of non-discharge to the guarantor: the principal and the bank
are notified with the date by which the principal must answer (proof of discharge, with files, or the duties
paid). Customs then release the hold manually, or claim (``guarantees.services.claims``).

A manual release has four eyes: an officer proposes with a reason, a different person of the same
administration holding ``release.approve`` (a supervisor) approves; the hold is released through
``hold_release`` (the ledger) and the transit is discharged.

Lock order everywhere: guarantee, then hold, then transit, then the case rows (enquiry, release, claim).
"""

import datetime
import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import OrganisationKind
from guarantees.errors import (
    EnquiryAlreadyOpen,
    InvalidDocument,
    InvalidTransition,
    NotAllowed,
    NoticePeriodPassed,
    ReasonRequired,
    SameMakerAndChecker,
    TransitNotOverdue,
)
from guarantees.limits import amount_check, payment_date_check
from guarantees.models import (
    NoticeAbout,
    OPEN_ENQUIRY_STATUSES,
    OPEN_TRANSIT_STATUSES,
    AnswerKind,
    CaseAction,
    CaseEvent,
    Enquiry,
    EnquiryAnswer,
    EnquiryDocument,
    EnquiryGround,
    EnquiryOutcome,
    EnquiryStatus,
    Guarantee,
    Hold,
    HoldStatus,
    ManualRelease,
    ReleaseGround,
    ReleaseStatus,
    Transit,
    TransitStatus,
)
from guarantees.services.calendar import local_date, working_days_add
from guarantees.services.notifications import notice_send
from guarantees.sql import hand_written_sql, hot_cursor

# Transits on which the time limit still runs; past it they may be marked overdue.
_RUNNING = (TransitStatus.DECLARED, TransitStatus.IN_TRANSIT, TransitStatus.ARRIVED)

# Accepted proof files, recognised by their first bytes (the name and the browser's type are not trusted).
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)






# --- Shared helpers -----------------------------------------------------------------------------------

def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def case_event(*, transit: Transit, action: str, by=None, comment: str = "", enquiry=None, release=None,
               claim=None, at=None) -> CaseEvent:
    return CaseEvent.objects.create(
        transit=transit, action=action, by=by, comment=comment, enquiry=enquiry, release=release, claim=claim,
        at=at or timezone.now(),
    )


def require_customs_on_route(by, permission: str, transit: Transit) -> None:
    """``by`` holds ``permission`` for a customs administration of a country on the transit's route."""
    org = by.organisation
    if (
        not by.can(permission)
        or org is None
        or org.kind != OrganisationKind.CUSTOMS
        or not transit.stops.filter(country_id=org.country).exists()
    ):
        raise NotAllowed()


def _text(value: str, error=ReasonRequired) -> str:
    value = (value or "").strip()
    if not value:
        raise error()
    return value


def tell(*, event: str, transit: Transit, organisation, about: tuple[str, object], detail: str,
         permission: str | None = None, exclude=None) -> None:
    """Notify ``organisation`` (members holding ``permission``) in-app and by e-mail, about the enquiry, release or
    claim (``about``: its kind and id; its page is one every notified party may open)."""
    notice_send(event=event, organisation=organisation, guarantee=transit.guarantee, transit=transit,
                permission=permission, exclude=exclude, reason=detail, about=about)


def _tell_principal_and_bank(*, event: str, transit: Transit, about: tuple[str, object], detail: str) -> None:
    guarantee = transit.guarantee
    for organisation in (guarantee.principal, guarantee.bank.organisation):
        tell(event=event, transit=transit, organisation=organisation, about=about, detail=detail)


# --- Overdue ------------------------------------------------------------------------------------------

def transit_mark_overdue(*, transit: Transit | int, now=None) -> Transit:
    """Mark a transit past its time limit as overdue. Not yet due, or already overdue/closed: no change."""
    now = now or timezone.now()
    pk = transit if isinstance(transit, int) else transit.pk
    with transaction.atomic():
        locked = Transit.objects.select_for_update().get(pk=pk)
        if locked.status not in _RUNNING or locked.deadline > now:
            return locked
        locked.status = TransitStatus.OVERDUE
        locked.overdue_at = now
        locked.save(update_fields=["status", "overdue_at"])
        return locked


# --- Enquiry ------------------------------------------------------------------------------------------

def enquiry_open(*, transit: Transit, by, ground: str, reason: str, now=None) -> Enquiry:
    """Open an enquiry (customs of a country on the route) and notify the principal and the guarantor.

    The same officer opening again on the same ground gets the open enquiry back (a replay)."""
    require_customs_on_route(by, "enquiry.open", transit)
    if ground not in EnquiryGround.values:
        raise InvalidTransition(_("Unknown ground."))
    reason = _text(reason)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Transit.objects.select_for_update(of=("self",)).select_related("guarantee").get(pk=transit.pk)
        existing = Enquiry.objects.filter(transit=locked, status__in=OPEN_ENQUIRY_STATUSES).first()
        if existing is not None:
            if existing.opened_by_id == by.pk and existing.ground == ground:
                return existing
            raise EnquiryAlreadyOpen()
        if locked.status not in OPEN_TRANSIT_STATUSES:
            raise InvalidTransition(status=locked.status)
        if ground == EnquiryGround.OVERDUE and locked.status != TransitStatus.OVERDUE and locked.deadline > now:
            raise TransitNotOverdue()
        if now > locked.deadline + _days(settings.REGISTRY_NOTICE_PERIOD_DAYS):
            raise NoticePeriodPassed(
                notice_until=(locked.deadline + _days(settings.REGISTRY_NOTICE_PERIOD_DAYS)).date().isoformat()
            )
        if ground == EnquiryGround.OVERDUE and locked.status in _RUNNING:
            locked.status = TransitStatus.OVERDUE
            locked.overdue_at = now
            locked.save(update_fields=["status", "overdue_at"])
        customs = by.organisation
        due = working_days_add(
            country=customs.country, start=local_date(country=customs.country, at=now),
            days=settings.REGISTRY_ENQUIRY_ANSWER_WORKING_DAYS,
        )
        enquiry = Enquiry.objects.create(
            transit=locked, customs=customs, ground=ground, reason=reason, answer_due=due, opened_by=by,
            opened_at=now,
        )
        case_event(transit=locked, action=CaseAction.ENQUIRY_OPENED, by=by, comment=reason, enquiry=enquiry, at=now)
        _tell_principal_and_bank(event="enquiry_opened", transit=locked,
                                 about=(NoticeAbout.ENQUIRY, enquiry.pk),
                                 detail=f"{locked.declaration_ref} — {due.strftime('%d/%m/%Y')}")
    return enquiry


def _sniff(data: bytes) -> str | None:
    for magic, content_type in _SIGNATURES:
        if data.startswith(magic):
            return content_type
    return None


def _read_documents(files) -> list[tuple[str, str, bytes]]:
    """``(name, content type, bytes)`` of each upload, refused unless a PDF, JPEG or PNG within the limits."""
    files = list(files or [])
    if len(files) > settings.REGISTRY_ENQUIRY_MAX_FILES:
        raise InvalidDocument(
            _("At most %(count)d files may be sent with an answer.") % {"count": settings.REGISTRY_ENQUIRY_MAX_FILES}
        )
    documents = []
    limit = settings.REGISTRY_ENQUIRY_FILE_MAX_BYTES
    for upload in files:
        name = (getattr(upload, "name", "") or "document").rsplit("/", 1)[-1][:200]
        size = getattr(upload, "size", None)
        if size is not None and size > limit:
            raise InvalidDocument(_("%(name)s is larger than the limit.") % {"name": name}, max_bytes=limit)
        data = upload.read(limit + 1)
        if len(data) > limit:
            raise InvalidDocument(_("%(name)s is larger than the limit.") % {"name": name}, max_bytes=limit)
        content_type = _sniff(data)
        if not data or content_type is None:
            raise InvalidDocument(_("%(name)s is not a PDF, JPEG or PNG document.") % {"name": name})
        documents.append((name, content_type, data))
    return documents


def enquiry_answer(*, enquiry: Enquiry, by, kind: str, text: str, files=(), payment_reference: str = "",
                   paid_on=None, amount_paid: int | None = None) -> EnquiryAnswer:
    """The principal answers: proof of discharge (files) or the duties paid (receipt number and date). It may
    answer again while the enquiry is open, to add documents."""
    principal = enquiry.transit.guarantee.principal
    if not by.can("enquiry.answer") or by.organisation is None or by.organisation.pk != principal.pk:
        raise NotAllowed()
    if kind not in AnswerKind.values:
        raise InvalidTransition(_("Unknown kind of answer."))
    text = _text(text)
    payment_reference = (payment_reference or "").strip()
    if kind == AnswerKind.DUTIES_PAID and (not payment_reference or paid_on is None):
        raise ReasonRequired(_("Give the receipt number and the date of the payment of the duties."))
    if amount_paid is not None:
        amount_check(amount_paid, field="amount_paid")
    payment_date_check(paid_on=paid_on, today=local_date(country=principal.country, at=timezone.now()))
    documents = _read_documents(files)
    if kind == AnswerKind.PROOF and not documents:
        raise InvalidDocument(_("Attach at least one proof of discharge."))
    with transaction.atomic():
        locked = Enquiry.objects.select_for_update(of=("self",)).select_related("transit__guarantee").get(pk=enquiry.pk)
        if locked.status not in OPEN_ENQUIRY_STATUSES:
            raise InvalidTransition(status=locked.status)
        answer = EnquiryAnswer.objects.create(
            enquiry=locked, kind=kind, text=text, payment_reference=payment_reference, paid_on=paid_on,
            amount_paid=amount_paid, answered_by=by,
        )
        for name, content_type, data in documents:
            document = EnquiryDocument(
                answer=answer, original_name=name, content_type=content_type, size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
            document.file.save(name, ContentFile(data), save=False)
            document.save()
        locked.status = EnquiryStatus.ANSWERED
        locked.save(update_fields=["status"])
        case_event(transit=locked.transit, action=CaseAction.ENQUIRY_ANSWERED, by=by, enquiry=locked,
                   comment=f"{AnswerKind(kind).label}: {text}")
        tell(event="enquiry_answered", transit=locked.transit, organisation=locked.customs,
             about=(NoticeAbout.ENQUIRY, locked.pk), detail=locked.transit.declaration_ref,
             permission="release.propose")
    return answer


def enquiry_close(*, enquiry: Enquiry, by, comment: str) -> Enquiry:
    """Customs of the administration that opened it close an enquiry with no release or claim (for example
    when the discharge arrived meanwhile)."""
    if not by.can("enquiry.open") or by.organisation is None or by.organisation.pk != enquiry.customs_id:
        raise NotAllowed()
    comment = _text(comment)
    with transaction.atomic():
        transit = Transit.objects.select_for_update().get(pk=enquiry.transit_id)
        locked = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
        if locked.status == EnquiryStatus.CLOSED:
            return locked
        _close_enquiry(locked, outcome=EnquiryOutcome.DISCHARGED if transit.status == TransitStatus.DISCHARGED
                       else "")
        case_event(transit=transit, action=CaseAction.ENQUIRY_CLOSED, by=by, enquiry=locked, comment=comment)
    return locked


def _close_enquiry(enquiry: Enquiry, *, outcome: str) -> None:
    enquiry.status = EnquiryStatus.CLOSED
    enquiry.outcome = outcome
    enquiry.closed_at = timezone.now()
    enquiry.save(update_fields=["status", "outcome", "closed_at"])


def close_open_enquiries(*, transit: Transit, outcome: str, by=None) -> None:
    """Close the transit's open enquiry with ``outcome`` (called under the transit's lock)."""
    for enquiry in Enquiry.objects.select_for_update().filter(transit=transit, status__in=OPEN_ENQUIRY_STATUSES):
        _close_enquiry(enquiry, outcome=outcome)
        case_event(transit=transit, action=CaseAction.ENQUIRY_CLOSED, by=by, enquiry=enquiry,
                   comment=str(EnquiryOutcome(outcome).label))


def _open_enquiry_on_postgresql(transit_ids: list[int]) -> bool:
    """Whether any of these transits has an open enquiry, as a prepared statement (it runs in every release)."""
    with hot_cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {Enquiry._meta.db_table} WHERE transit_id = ANY(%s) AND status = ANY(%s) "
                       "LIMIT 1", [transit_ids, [str(status) for status in OPEN_ENQUIRY_STATUSES]])
        return cursor.fetchone() is not None


def enquiries_close_on_discharge(*, transit_ids) -> int:
    """Close the open enquiries of transits a customs system has just discharged or cancelled (called in the
    transaction that applied the event, under the transits' locks): the proof the principal was asked for has
    come by itself, so nothing may be claimed on it any more. The enquiry's outcome says which; the principal,
    the bank and the customs who opened it are told. Returns how many enquiries were closed."""
    transit_ids = list(transit_ids)
    open_enquiries = Enquiry.objects.filter(transit_id__in=transit_ids, status__in=OPEN_ENQUIRY_STATUSES)
    # Nearly every discharge has none: a cheap question first (this runs in every release), the locking read with
    # its joins only when there is something to close. An enquiry opened meanwhile waits on the transit's lock,
    # which the caller holds, so none is missed.
    if not (_open_enquiry_on_postgresql(transit_ids) if hand_written_sql() else open_enquiries.exists()):
        return 0
    enquiries = list(
        open_enquiries.select_for_update(of=("self",))
        .select_related("transit__guarantee__principal", "transit__guarantee__bank__organisation", "customs")
        .order_by("pk")
    )
    for enquiry in enquiries:
        transit = enquiry.transit
        outcome = (EnquiryOutcome.DISCHARGED if transit.status == TransitStatus.DISCHARGED
                   else EnquiryOutcome.RELEASED)
        _close_enquiry(enquiry, outcome=outcome)
        case_event(transit=transit, action=CaseAction.ENQUIRY_CLOSED, enquiry=enquiry,
                   comment=str(EnquiryOutcome(outcome).label))
        about = (NoticeAbout.ENQUIRY, enquiry.pk)
        for organisation in (transit.guarantee.principal, transit.guarantee.bank.organisation, enquiry.customs):
            tell(event="enquiry_closed_by_discharge", transit=transit, organisation=organisation, about=about,
                 detail=transit.declaration_ref)
    return len(enquiries)


# --- Manual release -----------------------------------------------------------------------------------

def release_propose(*, transit: Transit, by, ground: str, reason: str) -> ManualRelease:
    """An officer of a country on the route proposes to release the transit's hold; a supervisor of the same
    administration must approve. Proposing the same again returns the pending proposal."""
    require_customs_on_route(by, "release.propose", transit)
    if ground not in ReleaseGround.values:
        raise InvalidTransition(_("Unknown ground."))
    reason = _text(reason)
    with transaction.atomic():
        locked = Transit.objects.select_for_update(of=("self",)).select_related("guarantee", "hold").get(pk=transit.pk)
        pending = ManualRelease.objects.filter(transit=locked, status=ReleaseStatus.PROPOSED).first()
        if pending is not None:
            if pending.proposed_by_id == by.pk and pending.ground == ground:
                return pending
            raise InvalidTransition(_("A manual release of this transit is already awaiting approval."))
        if locked.status not in OPEN_TRANSIT_STATUSES:
            raise InvalidTransition(status=locked.status)
        if locked.hold is None or locked.hold.status != HoldStatus.HELD:
            raise InvalidTransition(_("Nothing is held for this transit any more: a claim must be withdrawn "
                                      "rather than released."))
        enquiry = Enquiry.objects.filter(transit=locked, status__in=OPEN_ENQUIRY_STATUSES).first()
        release = ManualRelease.objects.create(
            transit=locked, enquiry=enquiry, customs=by.organisation, ground=ground, reason=reason, proposed_by=by,
        )
        case_event(transit=locked, action=CaseAction.RELEASE_PROPOSED, by=by, release=release, enquiry=enquiry,
                   comment=f"{ReleaseGround(ground).label}: {reason}")
        tell(event="release_proposed", transit=locked, organisation=by.organisation,
             about=(NoticeAbout.RELEASE, release.pk), detail=locked.declaration_ref,
             permission="release.approve", exclude=by)
    return release


def _require_same_administration(by, permission: str, release: ManualRelease) -> None:
    if not by.can(permission) or by.organisation is None or by.organisation.pk != release.customs_id:
        raise NotAllowed()
    if by.pk == release.proposed_by_id:
        raise SameMakerAndChecker(_("The release must be approved by a different person from the one who "
                                    "proposed it."))


def release_approve(*, release: ManualRelease, by, comment: str = "") -> ManualRelease:
    """A supervisor of the proposing administration approves: the hold is released through the ledger and the
    transit is discharged. Approving again is a no-op."""
    _require_same_administration(by, "release.approve", release)
    from guarantees.services.holds import hold_release

    transit = release.transit
    with transaction.atomic():
        Guarantee.objects.select_for_update().get(pk=transit.guarantee_id)
        hold = Hold.objects.select_for_update().get(pk=transit.hold_id) if transit.hold_id else None
        locked_transit = Transit.objects.select_for_update(of=("self",)).select_related("guarantee").get(pk=transit.pk)
        locked = ManualRelease.objects.select_for_update().get(pk=release.pk)
        if locked.status == ReleaseStatus.APPROVED:
            return locked
        if locked.status != ReleaseStatus.PROPOSED:
            raise InvalidTransition(status=locked.status)
        if locked_transit.status not in OPEN_TRANSIT_STATUSES:
            raise InvalidTransition(status=locked_transit.status)
        if hold is not None:
            if hold.status == HoldStatus.HELD:
                hold_release(hold=hold, by=by, reference=f"MR-{locked.pk} {locked_transit.declaration_ref}"[:100])
            elif hold.status != HoldStatus.RELEASED:
                raise InvalidTransition(status=hold.status)
        now = timezone.now()
        locked_transit.status = TransitStatus.DISCHARGED
        locked_transit.discharged_at = now
        locked_transit.save(update_fields=["status", "discharged_at"])
        locked.status = ReleaseStatus.APPROVED
        locked.decided_by = by
        locked.decided_at = now
        locked.decision_comment = (comment or "").strip()
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
        case_event(transit=locked_transit, action=CaseAction.RELEASE_APPROVED, by=by, release=locked,
                   enquiry=locked.enquiry, comment=locked.decision_comment)
        close_open_enquiries(transit=locked_transit, outcome=EnquiryOutcome.RELEASED, by=by)
        _tell_principal_and_bank(event="release_approved", transit=locked_transit,
                                 about=(NoticeAbout.TRANSIT, locked_transit.declaration_ref),
                                 detail=locked_transit.declaration_ref)
    return locked


def release_refuse(*, release: ManualRelease, by, comment: str) -> ManualRelease:
    _require_same_administration(by, "release.approve", release)
    comment = _text(comment)
    with transaction.atomic():
        transit = Transit.objects.select_for_update().get(pk=release.transit_id)
        locked = ManualRelease.objects.select_for_update().get(pk=release.pk)
        if locked.status == ReleaseStatus.REFUSED:
            return locked
        if locked.status != ReleaseStatus.PROPOSED:
            raise InvalidTransition(status=locked.status)
        locked.status = ReleaseStatus.REFUSED
        locked.decided_by = by
        locked.decided_at = timezone.now()
        locked.decision_comment = comment
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
        case_event(transit=transit, action=CaseAction.RELEASE_REFUSED, by=by, release=locked,
                   enquiry=locked.enquiry, comment=comment)
        tell(event="release_refused", transit=transit, organisation=locked.customs,
             about=(NoticeAbout.TRANSIT, transit.declaration_ref),
             detail=f"{transit.declaration_ref} — {comment}",
             permission="release.propose")
    return locked
