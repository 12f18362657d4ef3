"""The report pages, one builder each: figures from the selectors arranged into sections, tables and charts.

A builder knows no HTTP: it takes the reader, the filter form (already valid) and the moment, and returns a
``Report`` that the page renders and the exports write. Which organisations may open which page is the
``PAGES`` table; the views read it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable

from django.conf import settings
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.roles import OrganisationKind
from guarantees.charts import Series, compact, has_values
from guarantees.charts import bar_chart as _bar_chart
from guarantees.charts import line_chart as _line_chart
from guarantees.models import ClaimStatus, EnquiryStatus, TransitStatus
from reporting.labels import band_label, band_short, month_label
from reporting.selectors import banks as bank_sel
from reporting.selectors import customs as customs_sel
from reporting.selectors import forwarders as fwd_sel
from reporting.selectors import secretariat as sec_sel
from reporting.selectors.common import visible_guarantees
from reporting.tables import (
    AMOUNT, CHOICE, COUNTRY, DATE, DAYS, HOURS, INT, MOMENT, MONTH, PCT, TEXT,
    Column, Fact, Report, Section, Table,
)

C = Column


def bar_chart(*, series, **kwargs):
    return _bar_chart(series=series, **kwargs) if has_values(series) else None


def line_chart(*, series, **kwargs):
    return _line_chart(series=series, **kwargs) if has_values(series) else None

# --- column sets ---------------------------------------------------------------------------------------------

def _balance_columns(first: list[Column]) -> list[Column]:
    return first + [
        C("guarantees", pgettext_lazy("report column", "Guarantees"), INT),
        C("amount", pgettext_lazy("report column", "Reference amount"), AMOUNT),
        C("held", pgettext_lazy("report column", "Held"), AMOUNT),
        C("claimed", pgettext_lazy("report column", "Claimed, unpaid"), AMOUNT),
        C("paid", pgettext_lazy("report column", "Paid"), AMOUNT),
        C("available", pgettext_lazy("report column", "Available"), AMOUNT),
    ]


def _hold_columns(first: list[Column]) -> list[Column]:
    return first + [
        C("transits", pgettext_lazy("report column", "Transits"), INT),
        C("held", pgettext_lazy("report column", "Held"), AMOUNT),
        C("claimed", pgettext_lazy("report column", "Claimed, unpaid"), AMOUNT),
        C("paid", pgettext_lazy("report column", "Paid"), AMOUNT),
    ]


def _sum(rows: list[dict], keys: list[str], **fixed) -> dict:
    return {**fixed, **{k: sum(r.get(k) or 0 for r in rows) for k in keys}}


def _choices(enum) -> dict:
    return {value: label for value, label in enum.choices}


def _months(series: list[dict]) -> list[str]:
    return [month_label(r["month"]) for r in series]


def _claims_by_status(key: str, title, rows: list[dict], *, count_key: str) -> Section:
    """The claims of the period by status — amounts claimed and paid as bars, and their table — the same on the
    bank's page and on customs'. ``rows`` hold ``status``, ``amount``, ``paid`` and the count under ``count_key``
    (the selectors name it differently; the table's key and column stay as they were for each page)."""
    labels = _choices(ClaimStatus)
    return Section(key, title,
                   chart=bar_chart(
                       title=str(_("Claims by status")),
                       labels=[str(labels.get(r["status"], r["status"])) for r in rows],
                       series=[Series(str(pgettext_lazy("report column", "Amount claimed")),
                                      [r["amount"] for r in rows], "s1"),
                               Series(str(pgettext_lazy("report column", "Amount paid")),
                                      [r["paid"] for r in rows], "s2")]) if rows else None,
                   tables=[Table("claims_by_status", _("Claims by status"), [
                       C("status", pgettext_lazy("report column", "Status"), CHOICE, labels),
                       C(count_key, pgettext_lazy("report column", "Claims"), INT),
                       C("amount", pgettext_lazy("report column", "Amount claimed"), AMOUNT),
                       C("paid", pgettext_lazy("report column", "Amount paid"), AMOUNT),
                   ], rows, _sum(rows, [count_key, "amount", "paid"], status=""),
                       empty=_("No claim in this period."))])


# --- banks ---------------------------------------------------------------------------------------------------

def bank_exposure_page(*, user, form, now: datetime.datetime) -> Report:
    bank = user.organisation.bank
    principal = form.value("principal")
    period = form.period()
    today = now.date()
    totals = bank_sel.bank_exposure_totals(user=user, principal=principal)
    by_forwarder = bank_sel.bank_exposure_by_forwarder(user=user, principal=principal)
    by_corridor = bank_sel.bank_exposure_by_corridor(user=user, principal=principal)
    by_country = bank_sel.bank_exposure_by_country(user=user, principal=principal)
    ceiling = bank_sel.bank_ceiling_over_time(user=user, bank=bank, period=period)
    bands, expiring = bank_sel.bank_expiring(user=user, today=today, principal=principal)
    money = ["guarantees", "amount", "held", "claimed", "paid", "available"]
    holds = ["transits", "held", "claimed", "paid"]
    return Report(
        slug="bank-exposure",
        title=_("Exposure of %(bank)s") % {"bank": bank.organisation.name},
        intro=_("Your bank's guarantees that carry money: confirmed, active, suspended, expired or cancelled with "
                "something still held, claimed or paid."),
        sections=[
            Section("totals", _("Exposure"), facts=[
                Fact(pgettext_lazy("report column", "Reference amount"), totals["amount"], AMOUNT, "total-amount"),
                Fact(pgettext_lazy("report column", "Held"), totals["held"], AMOUNT, "total-held"),
                Fact(pgettext_lazy("report column", "Claimed, unpaid"), totals["claimed"], AMOUNT, "total-claimed"),
                Fact(pgettext_lazy("report column", "Paid"), totals["paid"], AMOUNT, "total-paid"),
                Fact(pgettext_lazy("report column", "Available"), totals["available"], AMOUNT, "total-available"),
            ], tables=[
                Table("by_forwarder", _("By freight forwarder"),
                      _balance_columns([C("name", pgettext_lazy("report column", "Freight forwarder"))]),
                      by_forwarder, _sum(by_forwarder, money, name=_("Total"))),
            ]),
            Section("holds", _("What the transits draw, by corridor and by country"),
                    intro=_("A guarantee covers every corridor: its reference amount and what is available are "
                            "not split; what its transits hold, what is claimed and what was paid are."),
                    tables=[
                        Table("by_corridor", _("By corridor"),
                              _hold_columns([C("key", pgettext_lazy("report column", "Corridor")),
                                             C("name", pgettext_lazy("report column", "Name"))]),
                              by_corridor, _sum(by_corridor, holds, key=_("Total"))),
                        Table("by_country", _("By country of destination"),
                              _hold_columns([C("key", pgettext_lazy("report column", "Country"), COUNTRY)]),
                              by_country, _sum(by_country, holds, key=_("Total"))),
                    ]),
            Section("ceiling", _("Use of the ceiling over time"),
                    intro=_("At the end of each month: the reference amount of the guarantees valid that day "
                            "(past their validity, only what is still drawn), what was drawn on them, and the "
                            "ceiling then in force."),
                    chart=line_chart(
                        title=str(_("Use of the ceiling over time")), labels=_months(ceiling),
                        series=[Series(str(_("Ceiling")), [r["ceiling"] for r in ceiling], "s3"),
                                Series(str(_("Committed")), [r["committed"] for r in ceiling], "s1"),
                                Series(str(_("Drawn")), [r["drawn"] for r in ceiling], "s2")]),
                    tables=[Table("ceiling", _("Use of the ceiling over time"), [
                        C("month", pgettext_lazy("report column", "Month"), MONTH),
                        C("committed", pgettext_lazy("report column", "Committed"), AMOUNT),
                        C("drawn", pgettext_lazy("report column", "Drawn (held, claimed, paid)"), AMOUNT),
                        C("ceiling", pgettext_lazy("report column", "Ceiling"), AMOUNT),
                        C("pct", pgettext_lazy("report column", "Share of the ceiling"), PCT),
                    ], ceiling)]),
            Section("expiring", _("Guarantees expiring in the next 90 days"),
                    chart=bar_chart(
                        title=str(_("Guarantees expiring in the next 90 days")),
                        labels=[band_short(b["from"], b["to"]) for b in bands],
                        series=[Series(str(pgettext_lazy("report column", "Reference amount")),
                                       [b["amount"] for b in bands], "s1"),
                                Series(str(pgettext_lazy("report column", "Still held or claimed")),
                                       [b["outstanding"] for b in bands], "s2")]),
                    tables=[
                        Table("expiring_bands", _("Expiring, by band"), [
                            C("band", pgettext_lazy("report column", "Expires within")),
                            C("guarantees", pgettext_lazy("report column", "Guarantees"), INT),
                            C("amount", pgettext_lazy("report column", "Reference amount"), AMOUNT),
                            C("outstanding", pgettext_lazy("report column", "Still held or claimed"), AMOUNT),
                        ], [{**b, "band": band_label(b["from"], b["to"], "days")} for b in bands]),
                        Table("expiring", _("The guarantees, soonest first"), [
                            C("grn", pgettext_lazy("report column", "Guarantee")),
                            C("principal", pgettext_lazy("report column", "Freight forwarder")),
                            C("valid_until", pgettext_lazy("report column", "Valid until"), DATE),
                            C("amount", pgettext_lazy("report column", "Reference amount"), AMOUNT),
                            C("available", pgettext_lazy("report column", "Available"), AMOUNT),
                        ], [{"grn": g.grn, "principal": g.principal.name, "valid_until": g.valid_until,
                             "amount": g.amount, "available": g.available, "pk": g.pk} for g in expiring],
                            empty=_("No guarantee expires in the next 90 days.")),
                    ]),
        ],
        as_of=now,
    )


def bank_claims_page(*, user, form, now: datetime.datetime) -> Report:
    period = form.period()
    figures = bank_sel.bank_claims(user=user, period=period,
                                   examination_days=settings.REGISTRY_EXAMINATION_WORKING_DAYS)
    rows = figures["by_status"]
    return Report(
        slug="bank-claims",
        title=_("Claims on your guarantees"),
        intro=_("Claims received in the period: paid, rejected or awaiting your answer, and how long the answers "
                "took against the examination period."),
        sections=[
            Section("answers", _("Time to answer"), facts=[
                Fact(_("Claims received"), figures["received"], INT, "claims-received"),
                Fact(_("Answered"), figures["answered"], INT, "claims-answered"),
                Fact(_("Answered within the examination period"), figures["on_time"], INT, "claims-on-time"),
                Fact(_("Answered late"), figures["late"], INT, "claims-late"),
                Fact(_("Awaiting an answer"), figures["awaiting"], INT, "claims-awaiting"),
                Fact(_("Awaiting, past the end of the examination period"), figures["awaiting_late"], INT,
                     "claims-awaiting-late"),
                Fact(_("Median time to answer"), figures["median_days"], DAYS, "claims-median"),
                Fact(_("95th percentile"), figures["p95_days"], DAYS, "claims-p95"),
                Fact(_("Examination period (working days)"), figures["limit_days"], INT),
            ]),
            _claims_by_status("status", _("Claims by status"), rows, count_key="claims"),
        ],
        as_of=now,
    )


# --- customs -------------------------------------------------------------------------------------------------

def customs_duties_page(*, user, form, now: datetime.datetime) -> Report:
    corridor = form.value("corridor")
    period = form.period()
    now_figures = customs_sel.customs_secured_now(user=user, corridor=corridor)
    series = customs_sel.customs_secured_by_month(user=user, period=period, corridor=corridor)
    return Report(
        slug="customs-duties",
        title=_("Duties and taxes secured"),
        intro=_("The duties and taxes at stake on the transits whose route crosses your country, as secured by "
                "the holds on their guarantees."),
        sections=[
            Section("now", _("Secured today"), facts=[
                Fact(_("Open holds"), now_figures["transits"], INT, "secured-transits"),
                Fact(pgettext_lazy("report column", "Held"), now_figures["held"], AMOUNT, "secured-held"),
                Fact(pgettext_lazy("report column", "Claimed, unpaid"), now_figures["claimed"], AMOUNT,
                     "secured-claimed"),
            ]),
            Section("months", _("Secured per month of declaration"),
                    chart=bar_chart(title=str(_("Secured per month of declaration")), labels=_months(series),
                                    series=[Series(str(_("Secured at departure")), [r["secured"] for r in series], "s1"),
                                            Series(str(_("Still secured today")), [r["still_held"] for r in series],
                                                   "s2")]),
                    tables=[Table("secured_by_month", _("Secured per month of declaration"), [
                        C("month", pgettext_lazy("report column", "Month"), MONTH),
                        C("transits", pgettext_lazy("report column", "Transits declared"), INT),
                        C("secured", pgettext_lazy("report column", "Secured at departure"), AMOUNT),
                        C("still_held", pgettext_lazy("report column", "Still secured today"), AMOUNT),
                    ], series, _sum(series, ["transits", "secured", "still_held"], month=None))]),
        ],
        as_of=now,
    )


def customs_open_page(*, user, form, now: datetime.datetime) -> Report:
    corridor = form.value("corridor")
    ages = customs_sel.customs_open_by_age(user=user, now=now, corridor=corridor)
    corridors = customs_sel.customs_open_by_corridor(user=user, now=now, corridor=corridor)
    overdue = customs_sel.customs_most_overdue(user=user, now=now, corridor=corridor)
    for a in ages:
        a["band"] = band_label(a["from"], a["to"], "days")
    return Report(
        slug="customs-open",
        title=_("Open transits"),
        intro=_("Transits not yet discharged whose route crosses your country: how long they have been on the "
                "road and how far past their time limit."),
        sections=[
            Section("age", _("By age (days since declaration)"),
                    chart=bar_chart(title=str(_("Open transits by age")),
                                    labels=[band_short(a["from"], a["to"]) for a in ages],
                                    series=[Series(str(_("Open")), [a["transits"] for a in ages], "s1"),
                                            Series(str(_("Overdue")), [a["overdue"] for a in ages], "s4")],
                                    fmt=lambda v: compact(v)),
                    tables=[Table("open_by_age", _("By age"), [
                        C("band", pgettext_lazy("report column", "Age")),
                        C("transits", pgettext_lazy("report column", "Open transits"), INT),
                        C("overdue", pgettext_lazy("report column", "Overdue"), INT),
                        C("held", pgettext_lazy("report column", "Held"), AMOUNT),
                    ], ages, _sum(ages, ["transits", "overdue", "held"], band=_("Total")))]),
            Section("corridor", _("By corridor"), tables=[Table("open_by_corridor", _("By corridor"), [
                C("code", pgettext_lazy("report column", "Corridor")),
                C("name", pgettext_lazy("report column", "Name")),
                C("transits", pgettext_lazy("report column", "Open transits"), INT),
                C("overdue", pgettext_lazy("report column", "Overdue"), INT),
                C("max_days_overdue", pgettext_lazy("report column", "Most days overdue"), INT),
                C("held", pgettext_lazy("report column", "Held"), AMOUNT),
            ], corridors, _sum(corridors, ["transits", "overdue", "held"], code=_("Total")),
                empty=_("No open transit."))]),
            Section("overdue", _("Longest overdue"), tables=[Table("most_overdue", _("Longest overdue"), [
                C("ref", pgettext_lazy("report column", "Declaration")),
                C("corridor", pgettext_lazy("report column", "Corridor")),
                C("status", pgettext_lazy("report column", "Status"), CHOICE, _choices(TransitStatus)),
                C("deadline", pgettext_lazy("report column", "Time limit"), MOMENT),
                C("days_overdue", pgettext_lazy("report column", "Days overdue"), INT),
                C("held", pgettext_lazy("report column", "Held"), AMOUNT),
            ], [{"ref": t.declaration_ref, "corridor": t.corridor.code if t.corridor else "", "status": t.status,
                 "deadline": t.deadline, "days_overdue": t.days_overdue,
                 "held": t.hold.amount if t.hold else 0, "pk": t.pk} for t in overdue],
                empty=_("No transit is past its time limit."))]),
        ],
        as_of=now,
    )


def customs_release_page(*, user, form, now: datetime.datetime) -> Report:
    corridor = form.value("corridor")
    figures = customs_sel.customs_release_times(user=user, period=form.period(), corridor=corridor)
    bands = figures["bands"]
    for b in bands:
        b["band"] = band_label(b["from"], b["to"], "hours")
    return Report(
        slug="customs-release-times",
        title=_("Release lead times"),
        intro=_("For the transits discharged in the period: from arrival to discharge, from discharge to the "
                "release of the hold, and the whole (from the discharge when no arrival was reported)."),
        sections=[
            Section("whole", _("Distribution"), facts=[
                Fact(_("Transits discharged and released"), figures["transits"], INT, "release-count"),
                Fact(_("Median"), figures["median"], HOURS, "release-median"),
                Fact(_("95th percentile"), figures["p95"], HOURS, "release-p95"),
            ], chart=bar_chart(title=str(_("Release lead time distribution")),
                               labels=[band_short(b["from"], b["to"], "h") for b in bands],
                               series=[Series(str(pgettext_lazy("report column", "Transits")),
                                              [b["transits"] for b in bands], "s1")]),
                tables=[Table("release_bands", _("Distribution"), [
                    C("band", pgettext_lazy("report column", "Arrival to release")),
                    C("transits", pgettext_lazy("report column", "Transits"), INT),
                ], bands)]),
            Section("offices", _("Per office of destination"), tables=[Table("release_by_office",
                                                                             _("Per office of destination"), [
                C("code", pgettext_lazy("report column", "Office")),
                C("name", pgettext_lazy("report column", "Name")),
                C("country", pgettext_lazy("report column", "Country"), COUNTRY),
                C("transits", pgettext_lazy("report column", "Transits"), INT),
                C("ad_median", pgettext_lazy("report column", "Arrival → discharge, median"), HOURS),
                C("ad_p95", pgettext_lazy("report column", "Arrival → discharge, p95"), HOURS),
                C("dr_median", pgettext_lazy("report column", "Discharge → release, median"), HOURS),
                C("dr_p95", pgettext_lazy("report column", "Discharge → release, p95"), HOURS),
                C("ar_median", pgettext_lazy("report column", "Whole, median"), HOURS),
                C("ar_p95", pgettext_lazy("report column", "Whole, p95"), HOURS),
            ], figures["offices"], empty=_("No transit discharged in this period."))]),
        ],
        as_of=now,
    )


def customs_cases_page(*, user, form, now: datetime.datetime) -> Report:
    cases = customs_sel.customs_cases(user=user, period=form.period(), corridor=form.value("corridor"))
    enquiries, claims = cases["enquiries"], cases["claims"]
    return Report(
        slug="customs-cases",
        title=_("Enquiries and claims"),
        intro=_("Enquiries opened and claims issued in the period on the transits whose route crosses your "
                "country, by status."),
        sections=[
            Section("enquiries", _("Enquiries"), tables=[Table("enquiries_by_status", _("Enquiries by status"), [
                C("status", pgettext_lazy("report column", "Status"), CHOICE, _choices(EnquiryStatus)),
                C("cases", pgettext_lazy("report column", "Enquiries"), INT),
                C("amount", pgettext_lazy("report column", "Amount held at departure"), AMOUNT),
            ], enquiries, _sum(enquiries, ["cases", "amount"], status=""), empty=_("No enquiry in this period."))]),
            _claims_by_status("claims", _("Claims"), claims, count_key="cases"),
        ],
        as_of=now,
    )


# --- forwarders ----------------------------------------------------------------------------------------------

def forwarder_page(*, user, form, now: datetime.datetime) -> Report:
    period = form.period()
    today = now.date()
    guarantees = fwd_sel.forwarder_guarantees(user=user)
    balances = fwd_sel.forwarder_balance_over_time(guarantees=guarantees, period=period)
    movements = fwd_sel.forwarder_movements_by_month(user=user, period=period)
    open_count, in_progress = fwd_sel.forwarder_transits_in_progress(user=user)
    forecasts = fwd_sel.forwarder_forecasts(guarantees=guarantees, today=today, now=now)
    labels = [month_label(m) for m in period.months]
    styles = ["s1", "s2", "s3", "s4", "s5", "s6"]
    # One row per month, one column per guarantee: a short table however many months are asked.
    balance_rows = [
        {"month": month, **{f"g{g.pk}": balances[g.pk][i]["available"] for g in guarantees}}
        for i, month in enumerate(period.months)
    ]
    forecast_rows = []
    for g in guarantees:
        f = forecasts.get(g.pk)
        if f is None:
            continue
        forecast_rows.append({
            "grn": g.grn or str(g), "available": f.available, "held_30": f.held_in_window,
            "released_30": f.released_in_window, "net_per_day": f.net_per_day, "runs_out_on": f.runs_out_on,
            "days_left": f.days_left(today), "pk": g.pk,
        })
    return Report(
        slug="forwarder",
        title=_("Your guarantees over time"),
        intro=_("Each guarantee's available balance at the end of each month, the holds and releases, the transits "
                "still on the road, and when the balance runs out at the pace of the last 30 days."),
        sections=[
            Section("forecast", _("Headroom forecast"),
                    intro=_("At the pace of the last 30 days' holds and releases, the day the available balance "
                            "runs out. You are notified when that day comes within 14 days."),
                    tables=[Table("forecast", _("Headroom forecast"), [
                        C("grn", pgettext_lazy("report column", "Guarantee")),
                        C("available", pgettext_lazy("report column", "Available"), AMOUNT),
                        C("held_30", pgettext_lazy("report column", "Held, last 30 days"), AMOUNT),
                        C("released_30", pgettext_lazy("report column", "Released, last 30 days"), AMOUNT),
                        C("net_per_day", pgettext_lazy("report column", "Net draw per day"), AMOUNT),
                        C("runs_out_on", pgettext_lazy("report column", "Runs out on"), DATE),
                        C("days_left", pgettext_lazy("report column", "Days left"), INT),
                    ], forecast_rows, empty=_("No active guarantee."))]),
            Section("balances", _("Available balance over time"),
                    chart=line_chart(title=str(_("Available balance over time")), labels=labels, series=[
                        Series(g.grn or str(g), [p["available"] for p in balances[g.pk]], styles[i % len(styles)])
                        for i, g in enumerate(guarantees[:6])
                    ]) if guarantees else None,
                    tables=[Table("balances", _("Available at the end of each month"), [
                        C("month", pgettext_lazy("report column", "Month"), MONTH),
                        *[C(f"g{g.pk}", g.grn or str(g), AMOUNT) for g in guarantees],
                    ], balance_rows if guarantees else [], empty=_("No guarantee."))]),
            Section("movements", _("Holds and releases per month"),
                    chart=bar_chart(title=str(_("Holds and releases per month")), labels=_months(movements),
                                    series=[Series(str(_("Held")), [r["held"] for r in movements], "s1"),
                                            Series(str(_("Released")), [r["released"] for r in movements], "s2")]),
                    tables=[Table("movements", _("Holds and releases per month"), [
                        C("month", pgettext_lazy("report column", "Month"), MONTH),
                        C("holds", pgettext_lazy("report column", "Holds"), INT),
                        C("held", pgettext_lazy("report column", "Amount held"), AMOUNT),
                        C("releases", pgettext_lazy("report column", "Releases"), INT),
                        C("released", pgettext_lazy("report column", "Amount released"), AMOUNT),
                    ], movements, _sum(movements, ["holds", "held", "releases", "released"], month=None))]),
            Section("in_progress", _("Transits in progress"), facts=[
                Fact(_("Open transits"), open_count, INT, "open-transits"),
            ], tables=[Table("in_progress", _("Transits in progress, nearest time limit first"), [
                C("ref", pgettext_lazy("report column", "Declaration")),
                C("grn", pgettext_lazy("report column", "Guarantee")),
                C("status", pgettext_lazy("report column", "Status"), CHOICE, _choices(TransitStatus)),
                C("declared_at", pgettext_lazy("report column", "Declared at"), MOMENT),
                C("deadline", pgettext_lazy("report column", "Time limit"), MOMENT),
                C("held", pgettext_lazy("report column", "Held"), AMOUNT),
            ], [{"ref": t.declaration_ref, "grn": t.guarantee.grn, "status": t.status, "declared_at": t.declared_at,
                 "deadline": t.deadline, "held": t.hold.amount if t.hold else 0} for t in in_progress],
                empty=_("No transit in progress."))]),
        ],
        as_of=now,
    )


# --- secretariat ---------------------------------------------------------------------------------------------

def system_page(*, user, form, now: datetime.datetime) -> Report:
    near = settings.REPORTING_NEAR_CEILING_PCT
    countries = sec_sel.system_by_country(user=user)
    banks = sec_sel.system_by_bank(user=user, near_pct=near)
    corridors = sec_sel.system_by_corridor(user=user, now=now)
    health = sec_sel.system_health(now=now)
    money = ["guarantees", "amount", "held", "claimed", "paid", "available"]
    near_rows = [b for b in banks if b["near"]]
    bank_columns = [
        C("name", pgettext_lazy("report column", "Bank")),
        C("guarantees", pgettext_lazy("report column", "Guarantees"), INT),
        C("held", pgettext_lazy("report column", "Held"), AMOUNT),
        C("claimed", pgettext_lazy("report column", "Claimed, unpaid"), AMOUNT),
        C("paid", pgettext_lazy("report column", "Paid"), AMOUNT),
        C("exposure", pgettext_lazy("report column", "Exposure"), AMOUNT),
        C("ceiling", pgettext_lazy("report column", "Ceiling"), AMOUNT),
        C("pct", pgettext_lazy("report column", "Share of the ceiling"), PCT),
    ]
    return Report(
        slug="system",
        title=_("The whole registry"),
        intro=_("Every guarantee carrying money, by country of issue, bank and corridor; the banks near their "
                "ceiling; and the health of the background work."),
        sections=[
            Section("health", _("Background work"), facts=[
                Fact(_("Events received, not yet applied"), health["events_received"], INT, "events-received"),
                Fact(_("Oldest of them, waiting for"), health["events_oldest_age"], "age", "events-oldest"),
                Fact(_("Events waiting for their declaration"), health["events_waiting"], INT, "events-waiting"),
                Fact(_("Discharged transits whose hold is not yet released"), health["unreleased"], INT,
                     "unreleased"),
                Fact(_("Oldest of them, discharged"), health["unreleased_oldest_age"], "age", "unreleased-oldest"),
                Fact(_("Release lag over the last day, median"), health["release_lag_median"], "age",
                     "release-lag-median"),
                Fact(_("Release lag over the last day, p95"), health["release_lag_p95"], "age", "release-lag-p95"),
                Fact(_("Discharge files queued"), health["files_queued"], INT, "files-queued"),
                Fact(_("Discharge files running"), health["files_running"], INT, "files-running"),
                Fact(_("Failed tasks not resolved"), health["failed_tasks"], INT, "failed-tasks"),
                Fact(_("Notifications not yet e-mailed"), health["emails_unsent"], INT, "emails-unsent"),
            ]),
            Section("near", _("Banks near their ceiling"),
                    intro=_("Banks whose exposure has reached %(pct)s %% of their ceiling.") % {"pct": near},
                    tables=[Table("banks_near_ceiling", _("Banks near their ceiling"), bank_columns, near_rows,
                                  empty=_("No bank is near its ceiling."))]),
            Section("banks", _("By bank"),
                    chart=bar_chart(title=str(_("Exposure against the ceiling")),
                                    labels=[b["short"][:22] for b in banks[:12]],
                                    series=[Series(str(pgettext_lazy("report column", "Exposure")),
                                                   [b["exposure"] for b in banks[:12]], "s1"),
                                            Series(str(pgettext_lazy("report column", "Ceiling")),
                                                   [b["ceiling"] for b in banks[:12]], "s3")]) if banks else None,
                    tables=[Table("by_bank", _("By bank"), bank_columns, banks,
                                  _sum(banks, ["guarantees", "held", "claimed", "paid", "exposure", "ceiling"],
                                       name=_("Total")))]),
            Section("countries", _("By country of issue"), tables=[Table(
                "by_country", _("By country of issue"),
                _balance_columns([C("code", pgettext_lazy("report column", "Country"), COUNTRY)]),
                countries, _sum(countries, money, code=_("Total")))]),
            Section("corridors", _("Open transits by corridor"), tables=[Table("by_corridor", _("By corridor"), [
                C("code", pgettext_lazy("report column", "Corridor")),
                C("name", pgettext_lazy("report column", "Name")),
                C("transits", pgettext_lazy("report column", "Open transits"), INT),
                C("overdue", pgettext_lazy("report column", "Overdue"), INT),
                C("held", pgettext_lazy("report column", "Held"), AMOUNT),
                C("claimed", pgettext_lazy("report column", "Claimed, unpaid"), AMOUNT),
            ], corridors, _sum(corridors, ["transits", "overdue", "held", "claimed"], code=_("Total")),
                empty=_("No open transit."))]),
        ],
        as_of=now,
    )


# --- which page for whom -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    description: str
    kinds: frozenset[str]
    build: Callable
    corridors: bool = False
    principals: bool = False
    months: bool = True


K = OrganisationKind
PAGES: tuple[Page, ...] = (
    Page("bank-exposure", pgettext_lazy("report", "Exposure"),
         pgettext_lazy("report", "Per forwarder, corridor and country; the ceiling over time; expiries ahead."),
         frozenset({K.BANK}), bank_exposure_page, principals=True),
    Page("bank-claims", pgettext_lazy("report", "Claims"),
         pgettext_lazy("report", "Claims received, paid and rejected; time to answer against the limit."),
         frozenset({K.BANK}), bank_claims_page),
    Page("customs-duties", pgettext_lazy("report", "Duties secured"),
         pgettext_lazy("report", "Duties and taxes secured by holds, now and per month."),
         frozenset({K.CUSTOMS, K.SECRETARIAT}), customs_duties_page, corridors=True),
    Page("customs-open", pgettext_lazy("report", "Open transits"),
         pgettext_lazy("report", "Open transits by age and by corridor, with days overdue."),
         frozenset({K.CUSTOMS, K.SECRETARIAT}), customs_open_page, corridors=True, months=False),
    Page("customs-release-times", pgettext_lazy("report", "Release lead times"),
         pgettext_lazy("report", "Arrival, discharge and release: distribution, median and p95 per office."),
         frozenset({K.CUSTOMS, K.SECRETARIAT}), customs_release_page, corridors=True),
    Page("customs-cases", pgettext_lazy("report", "Enquiries and claims"),
         pgettext_lazy("report", "Enquiries and claims by status and amount."),
         frozenset({K.CUSTOMS, K.SECRETARIAT}), customs_cases_page, corridors=True),
    Page("forwarder", pgettext_lazy("report", "Balances and forecast"),
         pgettext_lazy("report", "Each guarantee's balance over time, holds and releases, transits, forecast."),
         frozenset({K.FORWARDER}), forwarder_page),
    Page("system", pgettext_lazy("report", "Whole registry"),
         pgettext_lazy("report", "By country, bank and corridor; banks near their ceiling; background work."),
         frozenset({K.SECRETARIAT}), system_page, months=False),
)


def pages_for(user) -> list[Page]:
    organisation = user.organisation if user.is_authenticated else None
    if organisation is None or not user.can("report.view"):
        return []
    if organisation.kind == K.BANK and not hasattr_bank(organisation):
        return []
    return [p for p in PAGES if organisation.kind in p.kinds]


def hasattr_bank(organisation) -> bool:
    from django.core.exceptions import ObjectDoesNotExist

    try:
        return organisation.bank is not None
    except ObjectDoesNotExist:
        return False


def principals_of(user) -> list[tuple[int, str]]:
    """The forwarders of the reader's guarantees, for the bank's filter."""
    return list(
        visible_guarantees(user).order_by().values_list("principal_id", F("principal__name")).distinct()
        .order_by("principal__name")
    )


