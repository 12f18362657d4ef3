"""What the registry tells people, worded when it is read: the catalogue of notices and how their values print.

A notification stores its event and its values, language-neutral (amounts as whole francs, dates in ISO form),
never a sentence: the sentence is chosen here, in the reader's language, when the page shows it or the e-mail
is written (``Notification.subject``/``.body``). So a notice reads in French or English as its reader switches,
and its amounts and dates print as everywhere else (``guarantees.formats``). The link to what it is about is
not in the text: the page shows an "Open" button, and the e-mail adds the address at the end.
"""

import datetime

from django.utils import formats
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from guarantees.formats import format_fcfa, format_in_zone

# Values printed as amounts, as dates, and as moments in a zone (``<key>_zone`` gives the zone, UTC otherwise).
AMOUNTS = frozenset({"amount", "available", "released", "held", "net_per_day"})
DATES = frozenset({"valid_until", "runs_out_on"})
MOMENTS = frozenset({"since", "as_of", "deadline"})

MESSAGES = {
    "guarantee_submitted": (
        _("Guarantee request to review: %(principal)s"),
        _("%(principal)s asks your bank for a guarantee of %(amount)s. A maker should prepare it."),
    ),
    "guarantee_withdrawn": (
        _("Guarantee request withdrawn: %(principal)s"),
        _("%(principal)s withdrew its request for a guarantee of %(amount)s."),
    ),
    "guarantee_prepared": (
        _("Guarantee to confirm: %(principal)s"),
        _("A maker prepared the guarantee of %(amount)s for %(principal)s. A checker should confirm or decline "
          "it."),
    ),
    "guarantee_sent_back": (
        _("Guarantee sent back to the maker: %(principal)s"),
        _("A checker sent the preparation of the guarantee of %(amount)s for %(principal)s back to the makers. "
          "Reason: %(reason)s. A maker should prepare it again."),
    ),
    "guarantee_confirmed": (
        _("Your guarantee was confirmed by %(bank)s"),
        _("%(bank)s confirmed your guarantee of %(amount)s. It will be active once customs accept it."),
    ),
    "guarantee_declined": (
        _("Your guarantee request was declined by %(bank)s"),
        _("%(bank)s declined your request for a guarantee of %(amount)s. Reason: %(reason)s"),
    ),
    "guarantee_to_accept": (
        _("Guarantee to accept: %(principal)s"),
        _("%(bank)s confirmed a guarantee of %(amount)s for %(principal)s. Customs acceptance is awaited."),
    ),
    "guarantee_active": (
        _("Guarantee %(grn)s is active"),
        _("The guarantee %(grn)s of %(principal)s (%(amount)s, guarantor %(bank)s) is active."),
    ),
    "guarantee_suspended": (
        _("Guarantee %(grn)s suspended"),
        _("Customs suspended the guarantee %(grn)s. Reason: %(reason)s"),
    ),
    "guarantee_reactivated": (
        _("Guarantee %(grn)s reactivated"),
        _("Customs reactivated the guarantee %(grn)s. Reason: %(reason)s"),
    ),
    "guarantee_cancelled": (
        _("Guarantee %(grn)s cancelled"),
        _("The guarantee %(grn)s was cancelled. Reason: %(reason)s. Existing holds stay until released."),
    ),
    "guarantee_expired": (
        _("Guarantee %(grn)s expired"),
        _("The guarantee %(grn)s reached the end of its validity. No new transit can draw on it."),
    ),
    "amendment_requested": (
        _("Amendment to review: %(grn)s"),
        _("%(principal)s asks to amend the guarantee %(grn)s. A maker should prepare it."),
    ),
    "amendment_prepared": (
        _("Amendment to confirm: %(grn)s"),
        _("A maker prepared an amendment of the guarantee %(grn)s. A checker should confirm or decline it."),
    ),
    "amendment_sent_back": (
        _("Amendment sent back to the maker: %(grn)s"),
        _("A checker sent the preparation of an amendment of the guarantee %(grn)s back to the makers. Reason: "
          "%(reason)s. A maker should prepare it again."),
    ),
    "amendment_started_by_bank": (
        _("Your bank is amending %(grn)s"),
        _("Your bank started an amendment of the guarantee %(grn)s (%(reason)s). It takes effect once a second "
          "person of the bank confirms it; you will be told."),
    ),
    "amendment_confirmed": (
        _("Amendment of %(grn)s confirmed"),
        _("The amendment of the guarantee %(grn)s was confirmed: reference amount %(amount)s, valid until "
          "%(valid_until)s."),
    ),
    "amendment_declined": (
        _("Amendment of %(grn)s declined"),
        _("The bank declined the amendment of the guarantee %(grn)s. Reason: %(reason)s"),
    ),
}


# Enquiries, manual releases and claims (guarantees.services.enquiries, .claims). ``%(reason)s`` carries the
# transit or claim reference and the date that matters.
MESSAGES.update({
    "enquiry_opened": (
        _("Enquiry on a transit under guarantee %(grn)s"),
        _("Customs opened an enquiry on a transit drawing on the guarantee %(grn)s of %(principal)s, which was "
          "not discharged in time or shows an irregularity. This is the notice of non-discharge to the guarantor. "
          "The principal must answer (proof of discharge or duties paid) by the date given: %(reason)s."),
    ),
    "enquiry_answered": (
        _("Enquiry answered by %(principal)s"),
        _("%(principal)s answered the enquiry on a transit under the guarantee %(grn)s: %(reason)s."),
    ),
    "enquiry_closed_by_discharge": (
        _("Enquiry closed: transit discharged (guarantee %(grn)s)"),
        _("The customs system reported the discharge (or the cancellation) of a transit under enquiry, drawing on "
          "the guarantee %(grn)s: the enquiry is closed and nothing can be claimed on it: %(reason)s."),
    ),
    "release_proposed": (
        _("Manual release to approve (guarantee %(grn)s)"),
        _("An officer of your administration proposes to release a transit under the guarantee %(grn)s. A "
          "supervisor must approve or refuse it: %(reason)s."),
    ),
    "release_approved": (
        _("Transit released by customs (guarantee %(grn)s)"),
        _("Customs released manually a transit under the guarantee %(grn)s; its hold is given back: %(reason)s."),
    ),
    "release_refused": (
        _("Manual release refused (guarantee %(grn)s)"),
        _("The proposed manual release of a transit under the guarantee %(grn)s was refused: %(reason)s."),
    ),
    "claim_issued": (
        _("Claim under the guarantee %(grn)s"),
        _("Customs claim under the guarantee %(grn)s of %(principal)s (guarantor %(bank)s). The bank must pay "
          "or reject, listing every discrepancy, by the date given: %(reason)s."),
    ),
    "claim_prepared": (
        _("Answer to a claim to decide (guarantee %(grn)s)"),
        _("A maker prepared the answer to a claim under the guarantee %(grn)s. A checker must decide: %(reason)s."),
    ),
    "claim_paid": (
        _("Claim paid by %(bank)s (guarantee %(grn)s)"),
        _("%(bank)s paid a claim under the guarantee %(grn)s of %(principal)s: %(reason)s."),
    ),
    "claim_rejected": (
        _("Claim rejected by %(bank)s (guarantee %(grn)s)"),
        _("%(bank)s rejected a claim under the guarantee %(grn)s. Customs may reissue or withdraw it: %(reason)s."),
    ),
    "claim_withdrawn": (
        _("Claim withdrawn (guarantee %(grn)s)"),
        _("Customs withdrew a claim under the guarantee %(grn)s; what it held is released: %(reason)s."),
    ),
    "claim_overdue": (
        _("Claim unanswered by its deadline (guarantee %(grn)s)"),
        _("%(bank)s did not answer a claim under the guarantee %(grn)s by the end of its examination period: "
          "%(reason)s."),
    ),
})


# Background work (guarantees.operations.sweeps, .reconciliation, .failures).
MESSAGES.update({
    "transit_overdue": (
        _("Transit %(transit)s not discharged in time (guarantee %(grn)s)"),
        _("The transit %(transit)s of %(principal)s under the guarantee %(grn)s (guarantor %(bank)s) was not "
          "discharged by its time limit, %(deadline)s. %(held)s stays held until it is discharged or the guarantee "
          "is invoked."),
    ),
    "low_balance": (
        _("Low balance on the guarantee %(grn)s"),
        _("The available balance of the guarantee %(grn)s of %(principal)s is %(available)s, at or below the "
          "alert threshold of %(threshold)s%% of its reference amount (%(amount)s). New transits may be refused "
          "for want of balance."),
    ),
    "headroom_forecast": (
        _("The guarantee %(grn)s may run out of balance by %(runs_out_on)s"),
        _("At the pace of the last %(window)s days' holds and releases (a net %(net_per_day)s a day), the available "
          "balance of the guarantee %(grn)s of %(principal)s, %(available)s, runs out around %(runs_out_on)s. New "
          "transits would then be refused for want of balance: ask the bank for an increase, or follow up the "
          "discharges of the open transits."),
    ),
    "guarantee_expiring": (
        _("The guarantee %(grn)s expires on %(valid_until)s"),
        _("The guarantee %(grn)s of %(principal)s (guarantor %(bank)s) is valid until %(valid_until)s. After that "
          "date no new transit can draw on it; ask the bank for an extension if it is still needed."),
    ),
    "holds_released": (
        _("Holds released on the guarantee %(grn)s"),
        _("Transits discharged or cancelled since %(since)s gave back %(released)s on the guarantee %(grn)s "
          "(releases in full or in part: %(count)s). Available now: %(available)s."),
    ),
    "reconciliation_done": (
        _("Reconciliation of open transits (%(country)s): %(differences)s difference(s)"),
        _("The list of open transits sent by %(customs)s as of %(as_of)s was compared with the holds open in the "
          "registry. Held here but closed there: %(closed_there)s. Open there but unknown here: %(unknown_here)s. "
          "Open there but closed here: %(closed_here)s. Amounts that differ: %(amount_differs)s. The "
          "report and its CSV are on its page."),
    ),
    "access_code_failures": (
        _("Repeated wrong access codes on the guarantee %(grn)s"),
        _("%(failures)s wrong access codes were tried on the guarantee %(grn)s of %(principal)s within %(minutes)s "
          "minutes, by: %(callers)s. Each caller is slowed down on this guarantee; nobody else is. If a code may "
          "have been disclosed, revoke it and issue a new one."),
    ),
    "task_failed": (
        _("Background task failed: %(task)s"),
        _("The background task %(task)s failed after its retries (%(error)s). The error and its trace are on the "
          "failed tasks page, where it can be retried."),
    ),
})


def message_values(params: dict) -> dict:
    """The stored values of a notice, printed for the reader (in the active language and its formats)."""
    values = {}
    for key, value in params.items():
        if key.endswith("_zone"):
            continue
        if key in AMOUNTS and value not in (None, ""):
            value = format_fcfa(value)
        elif key in DATES and value:
            day = parse_date(str(value))
            value = formats.date_format(day, "SHORT_DATE_FORMAT") if day else value
        elif key in MOMENTS and value:
            moment = parse_datetime(str(value))
            value = format_in_zone(moment, params.get(f"{key}_zone") or "UTC") if moment else value
        values[key] = "—" if value in (None, "") else value
    return values


class _Missing(dict):
    def __missing__(self, key):
        return "—"


def message_text(event: str, params: dict) -> tuple[str, str]:
    """``(subject, body)`` of a notice, in the active language."""
    subject, body = MESSAGES[event]
    values = _Missing(message_values(params))
    return str(subject) % values, str(body) % values


def message_values_json(value):
    """A value as a notice stores it: dates and moments in ISO form, the rest as JSON has it."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
