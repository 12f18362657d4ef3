"""The daily reconciliation: a customs administration's list of its open transits against the holds open here.

A customs system (API) or officer (page) sends the list of transits it considers open, as of a moment. The list
is stored as received (``ReconciliationRun``) and compared by a task after the commit: every transit declared at
an office of that country and still drawing on a guarantee here must be in the list with the same amount.
Differences are the report's lines — held here but closed there, open there but unknown here, open there but
closed here, amounts that differ — seen by that country's customs and by the secretariat, and downloadable as
CSV. The comparison is written in one transaction with the run's status: a crashed worker leaves nothing
half-done, and comparing a run twice changes nothing.
"""

import csv
import datetime
import io
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import OrganisationKind
from guarantees.csv_cells import csv_writer
from guarantees.errors import InvalidDeclaration, NotAllowed
from guarantees.formats import format_fcfa
from guarantees.limits import amount_in_range, amount_max
from guarantees.models import (
    NoticeAbout,
    OPEN_TRANSIT_STATUSES,
    DifferenceKind,
    ReconciliationLine,
    ReconciliationRun,
    ReconciliationStatus,
    Transit,
    TransitStatus,
)
from guarantees.queue import queue_after_commit
from guarantees.services.notifications import notice_send

logger = logging.getLogger(__name__)

# Transits still drawing on their guarantee here: open, or invoked and not settled.
DRAWING_STATUSES = (*OPEN_TRANSIT_STATUSES, TransitStatus.CLAIMED)
MAX_TRANSITS = 200_000
CSV_FIELDS = ("declaration_ref", "amount")


# --- Receiving a list ------------------------------------------------------------------------------------

def reconciliation_receive(*, customs, transits, as_of=None, source: str = "api", filename: str = "",
                           api_key=None, by=None) -> ReconciliationRun:
    """Store a customs administration's list of open transits and queue its comparison after the commit.

    ``transits`` is a list of ``{"declaration_ref": str, "amount": int | None}``; ``as_of`` the moment the list
    was taken (default now): transits declared after it are not expected in it."""
    if customs is None or customs.kind != OrganisationKind.CUSTOMS:
        raise NotAllowed(gettext_lazy("Only a customs administration sends its list of open transits."))
    as_of = _as_of(as_of)
    lines = _clean(transits)
    with transaction.atomic():
        run = ReconciliationRun.objects.create(
            customs=customs, country_id=customs.country, as_of=as_of, source=source, filename=filename[:200],
            submitted=lines, listed=len(lines), api_key=api_key, submitted_by=by,
        )
        queue_after_commit("guarantees.tasks.run_reconciliation", run.pk)
    return run


def _as_of(value) -> datetime.datetime:
    if value in (None, ""):
        return timezone.now()
    if isinstance(value, str):
        value = parse_datetime(value.strip())
    if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
        raise InvalidDeclaration({"as_of": [gettext_lazy("A date and time with its time zone is required.")]})
    if value > timezone.now() + datetime.timedelta(minutes=5):
        raise InvalidDeclaration({"as_of": [gettext_lazy("The list cannot be dated in the future.")]})
    return value


def _clean(transits) -> list[dict]:
    if not isinstance(transits, list):
        raise InvalidDeclaration({"transits": [gettext_lazy("A list of open transits is expected.")]})
    if len(transits) > MAX_TRANSITS:
        raise InvalidDeclaration({"transits": [
            gettext_lazy("At most %(max)s transits per list.") % {"max": MAX_TRANSITS}
        ]})
    errors: dict[str, list] = {}
    seen: dict[str, int | None] = {}
    for number, item in enumerate(transits, start=1):
        problems = []
        ref = item.get("declaration_ref") if isinstance(item, dict) else None
        ref = ref.strip() if isinstance(ref, str) else ""
        if not ref or len(ref) > 64:
            problems.append(gettext_lazy("A declaration reference of 1 to 64 characters is required."))
        amount = item.get("amount") if isinstance(item, dict) else None
        if amount in ("", None):
            amount = None
        elif not amount_in_range(amount, minimum=0):
            # The registry's bound (guarantees.limits): above it the comparison's task crashed and the list
            # stayed "received" for ever.
            problems.append(gettext_lazy("The amount must be a whole number of francs CFA from 0 to %(max)s, or "
                                         "empty.") % {"max": format_fcfa(amount_max())})
        if not problems and ref in seen and seen[ref] != amount:
            problems.append(gettext_lazy("This declaration is listed twice with different amounts."))
        if problems:
            errors[f"transits.{number}"] = problems
            if len(errors) >= 50:
                break
        else:
            seen[ref] = amount
    if errors:
        raise InvalidDeclaration(errors, message=gettext_lazy("The list of open transits has errors."))
    return [{"declaration_ref": ref, "amount": amount} for ref, amount in seen.items()]


def reconciliation_parse_csv(content: bytes) -> list[dict]:
    """A page upload: CSV in UTF-8 with a header ``declaration_ref,amount`` (amount may be empty)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidDeclaration({"file": [gettext_lazy("The file must be UTF-8 text.")]}) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "declaration_ref" not in header:
        raise InvalidDeclaration({"file": [gettext_lazy("The header line must name the column declaration_ref.")]})
    rows = []
    for row in reader:
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(v, str) or v is None}
        amount: int | str | None = row.get("amount") or None
        if amount is not None:
            try:
                amount = int(str(amount).replace(" ", "").replace("\u00a0", ""))
            except ValueError:
                pass  # left as text: refused with its line number
        rows.append({"declaration_ref": row.get("declaration_ref", ""), "amount": amount})
    return rows


# --- Comparing -----------------------------------------------------------------------------------------

def reconciliation_run(*, run_id: int) -> ReconciliationRun | None:
    """Compare a received list with the holds open here and write the report. A run already compared, or
    being compared by another worker (its row is locked), is left as it is."""
    with transaction.atomic():
        run = ReconciliationRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
        if run is None:
            return ReconciliationRun.objects.filter(pk=run_id).first()
        if run.status != ReconciliationStatus.RECEIVED:
            return run
        lines, counts = _compare(run)
        ReconciliationLine.objects.filter(run=run).delete()
        ReconciliationLine.objects.bulk_create(lines, batch_size=2000)
        for field, value in counts.items():
            setattr(run, field, value)
        run.status = ReconciliationStatus.DONE
        run.finished_at = timezone.now()
        run.save()
        _tell(run)
    return run


def _compare(run: ReconciliationRun) -> tuple[list[ReconciliationLine], dict]:
    there = {item["declaration_ref"]: item.get("amount") for item in run.submitted}
    scope = Transit.objects.filter(office_of_departure__country_id=run.country_id)
    # Held here: drawing now, and declared when the list was taken (a later declaration cannot be in it).
    here = {
        ref: (pk, status, (amount or 0) + (claimed or 0) if amount is not None else held)
        for ref, pk, status, amount, claimed, held in scope.filter(
            status__in=DRAWING_STATUSES, declared_at__lte=run.as_of
        ).values_list("declaration_ref", "pk", "status", "hold__amount", "hold__claimed_amount", "amount_held")
    }
    lines: list[ReconciliationLine] = []
    counts = {"open_here": len(here), "matched": 0, "closed_there": 0, "unknown_here": 0, "closed_here": 0,
              "amount_differs": 0}

    def add(kind, ref, *, transit_id=None, status="", amount_here=None, amount_there=None):
        counts[kind] += 1
        lines.append(ReconciliationLine(run=run, kind=kind, declaration_ref=ref, transit_id=transit_id,
                                        status_here=status, amount_here=amount_here, amount_there=amount_there))

    for ref, (pk, status, amount) in here.items():
        if ref not in there:
            add(DifferenceKind.CLOSED_THERE, ref, transit_id=pk, status=status, amount_here=amount)
        elif there[ref] is not None and there[ref] != amount:
            add(DifferenceKind.AMOUNT_DIFFERS, ref, transit_id=pk, status=status, amount_here=amount,
                amount_there=there[ref])
        else:
            counts["matched"] += 1

    missing = [ref for ref in there if ref not in here]
    for start in range(0, len(missing), 5000):
        chunk = missing[start:start + 5000]
        known = {}
        rows = scope.filter(declaration_ref__in=chunk).values_list(
            "declaration_ref", "pk", "status", "discharged_at", "cancelled_at"
        )
        for ref, pk, status, discharged_at, cancelled_at in rows:
            known[ref] = (pk, status, discharged_at or cancelled_at)
        for ref in chunk:
            if ref not in known:
                add(DifferenceKind.UNKNOWN_HERE, ref, amount_there=there[ref])
                continue
            pk, status, closed_at = known[ref]
            if status in DRAWING_STATUSES or (closed_at is not None and closed_at > run.as_of):
                counts["matched"] += 1  # declared, or closed, after the list was taken
            else:
                add(DifferenceKind.CLOSED_HERE, ref, transit_id=pk, status=status, amount_there=there[ref])
    return lines, counts


def _tell(run: ReconciliationRun) -> None:
    from accounts.models import Organisation

    params = {
        "country": run.country_id, "customs": run.customs.display_name,
        "as_of": run.as_of, "as_of_zone": run.country.timezone, "differences": run.differences,
        "closed_there": run.closed_there, "unknown_here": run.unknown_here,
        "closed_here": run.closed_here, "amount_differs": run.amount_differs,
    }
    recipients = [run.customs, *Organisation.objects.filter(kind=OrganisationKind.SECRETARIAT, is_active=True)]
    for organisation in recipients:
        notice_send(event="reconciliation_done", organisation=organisation, permission="reconciliation.view",
                    about=(NoticeAbout.RECONCILIATION, run.pk), params=params)


def reconcile_pending(*, older_than_seconds: int = 60) -> list[int]:
    """The daily job: compare every list still waiting (its message lost, or its worker died)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    done = []
    for pk in ReconciliationRun.objects.filter(status=ReconciliationStatus.RECEIVED, created_at__lt=cutoff) \
            .order_by("pk").values_list("pk", flat=True):
        try:
            reconciliation_run(run_id=pk)
        except Exception as exc:  # noqa: BLE001 - one bad list must not hold back the others
            logger.exception("reconciliation %s failed", pk)
            # The technical cause only: the page words the failure in its reader's language.
            ReconciliationRun.objects.filter(pk=pk, status=ReconciliationStatus.RECEIVED).update(
                status=ReconciliationStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:500]
            )
            continue
        done.append(pk)
    return done


# --- Reading -------------------------------------------------------------------------------------------

def reconciliations_visible_to(*, user):
    """Customs see their country's runs, the secretariat every run; nobody else any."""
    base = ReconciliationRun.objects.select_related("customs", "country", "submitted_by").defer("submitted")
    organisation = getattr(user, "organisation", None) if user.is_authenticated else None
    if organisation is None:
        return base.none()
    if organisation.kind == OrganisationKind.SECRETARIAT:
        return base
    if organisation.kind == OrganisationKind.CUSTOMS:
        return base.filter(country_id=organisation.country)
    return base.none()


def reconciliation_csv(*, run: ReconciliationRun) -> str:
    """The report's differences as CSV, headed in the reader's language; the kinds stay machine-readable
    codes next to their label so a customs system can read the file back."""
    out = io.StringIO()
    writer = csv_writer(out)  # declaration references come from outside: no formula reaches a spreadsheet
    writer.writerow([
        "kind", _("Difference"), "declaration_ref", "status_here", "amount_here", "amount_there",
    ])
    labels = dict(DifferenceKind.choices)
    for line in run.lines.order_by("kind", "declaration_ref").iterator(chunk_size=2000):
        writer.writerow([
            line.kind, str(labels.get(line.kind, line.kind)), line.declaration_ref, line.status_here,
            line.amount_here, line.amount_there,
        ])
    return out.getvalue()


def reconciliation_lines(*, run: ReconciliationRun, kind: str | None = None):
    lines = run.lines.select_related("transit").order_by("kind", "declaration_ref")
    if kind:
        lines = lines.filter(kind=kind)
    return lines


__all__ = [
    "DRAWING_STATUSES",
    "reconcile_pending",
    "reconciliation_csv",
    "reconciliation_lines",
    "reconciliation_parse_csv",
    "reconciliation_receive",
    "reconciliation_run",
    "reconciliations_visible_to",
]

