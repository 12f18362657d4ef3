"""The registry's domain errors: every refusal of the guarantees app, in one place.

They grow from the one tree of ``accounts.errors``: each class belongs to a family (``InvalidInput``,
``Forbidden``, ``NotFound``, ``RuleRefused``, ``TooManyAttempts``), has a machine ``code`` (stable, documented
in the API) and a translatable sentence, with figures (``extra``) where they help, such as the available
balance. Services raise them and know nothing of HTTP; the API and the pages map the family to a status.
"""

import math

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext



from accounts.errors import DomainError, Forbidden, InvalidInput, NotAllowed, RuleRefused  # noqa: F401
from accounts.errors import NotFound as _NotFound
from accounts.errors import TooManyAttempts as _TooManyAttempts


class InvalidTransition(RuleRefused):
    code = "invalid_transition"
    default_message = _("This action is not possible in the current status.")


class GuaranteeNotActive(RuleRefused):
    code = "guarantee_not_active"
    default_message = _("The guarantee is not active.")


class OutsideValidity(RuleRefused):
    code = "guarantee_not_active"
    default_message = _("The guarantee is not valid on this date.")


class InsufficientBalance(RuleRefused):
    code = "insufficient_balance"
    default_message = _("The available balance of the guarantee is not enough.")


class CeilingExceeded(RuleRefused):
    code = "ceiling_exceeded"
    default_message = _("This confirmation would take the bank over its exposure ceiling.")


class SameMakerAndChecker(Forbidden):
    code = "same_maker_and_checker"
    default_message = _("The checker must be a different person from the maker.")


class TermsChanged(RuleRefused):
    """The checker's page showed another preparation than the one the row holds now: the maker prepared again,
    or the request was sent back, after the page was opened. Nothing changed; the message names the terms as
    they stand now (``guarantees.terms``), and ``terms`` carries them for a machine."""

    code = "terms_changed"
    default_message = _("The request changed after you opened this page. Nothing was done: read it again and "
                        "decide.")



class BelowCommitted(RuleRefused):
    code = "below_committed"
    default_message = _("The reference amount cannot go below what is held, claimed and paid.")


class InvalidAmount(InvalidInput):
    code = "invalid_amount"
    default_message = _("The amount must be a whole, positive number of francs CFA.")


class Conflict(RuleRefused):
    code = "conflict"
    default_message = _("This reference was already used with different content.")


class CountryNotCovered(RuleRefused):
    code = "country_not_covered"
    default_message = _("The guarantee does not cover this country.")


class ReasonRequired(InvalidInput):
    """A decision that must say why (decline, suspend, cancel, claim, rejection...) came without its reason."""

    code = "reason_required"
    default_message = _("A reason is required.")


class TooManyAttempts(_TooManyAttempts):
    """Refused for a while; ``retry_after`` (in the body, and the API's Retry-After) is the real time left."""

    code = "too_many_attempts"
    default_message = _("Too many wrong attempts. Please wait a few minutes before trying again.")

    def __init__(self, message=None, *, retry_after: int | None = None):
        if retry_after is not None:
            retry_after = max(1, int(retry_after))
            message = message or _wait_message(retry_after)
            super().__init__(message, retry_after=retry_after)
        else:
            super().__init__(message)


def _wait_text(seconds: int) -> str:
    """How long to wait, in words, in the active language (whole minutes, rounded up, past a minute)."""
    if seconds < 60:
        return ngettext(
            "Too many wrong attempts on this guarantee. Try again in %(count)s second.",
            "Too many wrong attempts on this guarantee. Try again in %(count)s seconds.",
            seconds,
        ) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext(
        "Too many wrong attempts on this guarantee. Try again in %(count)s minute.",
        "Too many wrong attempts on this guarantee. Try again in %(count)s minutes.",
        minutes,
    ) % {"count": minutes}


# Worded when shown, in the reader's language, like the other messages.
_wait_message = lazy(_wait_text, str)


class InvalidDeclaration(InvalidInput):
    """The message cannot be taken as it is; ``errors`` says which field and why."""

    code = "invalid"
    default_message = _("The message is invalid.")

    def __init__(self, errors: dict, message=None):
        super().__init__(message, errors={k: [str(m) for m in v] for k, v in errors.items()})


class NotFound(_NotFound):
    code = "not_found"
    default_message = _("Not found.")


# Refusals of a transit event that must not tell its sender anything about the transit (it may not see it): the
# event is answered like one for a declaration not received yet.
HIDDEN_REFUSALS = frozenset({"not_on_route"})


class EventRefused(Forbidden):
    """A transit event its sender may not report, or that cannot apply: kept, refused with ``reason`` (a stable
    machine word: ``not_on_route``, ``sender_not_allowed``, ``office_not_allowed``, ``dated_before_declaration``,
    ``dated_in_future``, ``above_held``...)."""

    code = "event_refused"
    default_message = _("This event was refused.")

    def __init__(self, reason: str, message=None, **extra):
        self.reason = reason
        super().__init__(message, reason=reason, **extra)


# --- Enquiries and claims ------------------------------------------------------------------------------------

class TransitNotOverdue(RuleRefused):
    code = "transit_not_overdue"
    default_message = _("The transit is still within its time limit: open the enquiry for an irregularity.")


class NoticePeriodPassed(RuleRefused):
    code = "notice_period_passed"
    default_message = _("The period for notifying the guarantor of this non-discharge has passed.")


class EnquiryAlreadyOpen(RuleRefused):
    code = "enquiry_already_open"
    default_message = _("An enquiry is already open on this transit.")


class InvalidDocument(InvalidInput):
    code = "invalid_document"
    default_message = _("Each file must be a PDF, JPEG or PNG document within the size limit.")


class NoticeRequired(RuleRefused):
    code = "notice_required"
    default_message = _("Open an enquiry first: it notifies the guarantor, and the claim waiting period runs "
                        "from that notice.")


class ClaimTooEarly(RuleRefused):
    code = "claim_too_early"
    default_message = _("The waiting period after the notice to the guarantor has not ended yet.")


class ClaimTooLate(RuleRefused):
    code = "claim_too_late"
    default_message = _("The time limit for claiming under the guarantee for this transit has passed.")


class ClaimAboveHeld(RuleRefused):
    code = "claim_above_held"
    default_message = _("The amount claimed cannot exceed what is held for this transit.")


class PaymentAboveClaim(InvalidInput):
    code = "payment_above_claim"
    default_message = _("The payment must be a whole, positive number of francs CFA, no larger than the claim.")


class ExaminationPeriodOver(RuleRefused):
    code = "examination_period_over"
    default_message = _("The examination period has ended: the bank can no longer reject this claim, only pay it.")
