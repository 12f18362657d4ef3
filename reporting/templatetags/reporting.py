"""How a report prints a cell, by the kind of its column; and the headroom forecast on the forwarder's home page
(``{% home_headroom %}``: the home page is the accounts app's, which imports no other app — the template asks)."""

from __future__ import annotations

import datetime

from django import template
from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.roles import OrganisationKind
from guarantees.formats import EMPTY, THOUSANDS_SEPARATOR, format_fcfa
from reporting.labels import country_label, month_label
from reporting.tables import AMOUNT, CHOICE, COUNTRY, DATE, DAYS, HOURS, INT, MONTH, PCT

register = template.Library()


@register.filter
def get(row: dict, key: str):
    return row.get(key) if isinstance(row, dict) else None


def _decimal(value: float) -> str:
    return formats.number_format(round(value, 1), decimal_pos=1)


def _int(value) -> str:
    return f"{int(value):,}".replace(",", THOUSANDS_SEPARATOR)


@register.filter
def report_cell(value, column) -> str:
    kind = getattr(column, "kind", column)
    if value is None or value == "":
        return EMPTY if kind not in ("text",) else ""
    if kind == AMOUNT:
        return format_fcfa(value)
    if kind == INT:
        return _int(value)
    if kind == PCT:
        # Translators: a share, e.g. "85 %" (a no-break space before % in French).
        return _("%(value)s %%") % {"value": _int(value)}
    if kind == HOURS:
        return _("%(value)s h") % {"value": _decimal(float(value))}
    if kind == DAYS:
        return _("%(value)s days") % {"value": _decimal(float(value))}
    if kind == DATE and isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if kind == MONTH and isinstance(value, datetime.date):
        return month_label(value)
    if kind == COUNTRY:
        return country_label(value)
    if kind == CHOICE:
        return str((getattr(column, "choices", None) or {}).get(value, value))
    if kind == "age":
        return age(value)
    return str(value)


def age(seconds) -> str:
    """``45 s``, ``12 min``, ``3,5 h``, ``2,0 days``: how long something has waited."""
    seconds = float(seconds)
    if seconds < 60:
        return _("%(value)s s") % {"value": int(seconds)}
    if seconds < 3600:
        return _("%(value)s min") % {"value": int(seconds // 60)}
    if seconds < 86400:
        return _("%(value)s h") % {"value": _decimal(seconds / 3600)}
    return _("%(value)s days") % {"value": _decimal(seconds / 86400)}


HOME_FORECASTS = 10


@register.inclusion_tag("reporting/includes/home_headroom.html", takes_context=True)
def home_headroom(context):
    """The forwarder's guarantees with their forecast, nearest run-out first; nothing for anyone else."""
    request = context.get("request")
    user = getattr(request, "user", None)
    organisation = getattr(user, "organisation", None) if user is not None and user.is_authenticated else None
    if organisation is None or organisation.kind != OrganisationKind.FORWARDER or not user.can("report.view"):
        return {"show": False}
    from reporting.selectors.forwarders import forwarder_forecasts, forwarder_guarantees

    now = timezone.now()
    today = now.date()
    guarantees = forwarder_guarantees(user=user, live_only=True)
    forecasts = forwarder_forecasts(guarantees=guarantees, today=today, now=now)
    alert_days = settings.REGISTRY_HEADROOM_ALERT_DAYS
    rows = []
    for g in guarantees:
        f = forecasts.get(g.pk)
        if f is None:
            continue
        days = f.days_left(today)
        rows.append({"guarantee": g, "forecast": f, "days_left": days,
                     "soon": days is not None and days <= alert_days})
    rows.sort(key=lambda r: (r["days_left"] is None, r["days_left"] or 0))
    # The nearest run-outs; a large forwarder's hundreds of guarantees are on the report page, not the home page.
    shown = rows[:HOME_FORECASTS]
    return {"show": True, "rows": shown, "more": len(rows) - len(shown), "alert_days": alert_days,
            "request": request}
