"""Domain errors: a business rule refused an action. Views show the message; the API maps the code.

Each error has a machine ``code`` (stable, documented in API.md), a translatable sentence and, where useful,
figures (``extra``) such as the available balance.
"""

import math

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class DomainError(Exception):
    code = "domain_error"
    status = 409
    default_message = _("This action is not allowed.")

    def __init__(self, message=None, **extra):
        self.message = message or self.default_message
        self.extra = extra
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        return {"code": self.code, "detail": str(self.message), **self.extra}


class InvalidTransition(DomainError):
    code = "invalid_transition"
    default_message = _("This action is not possible in the current status.")


class GuaranteeNotActive(DomainError):
    code = "guarantee_not_active"
    default_message = _("The guarantee is not active.")


class OutsideValidity(DomainError):
    code = "guarantee_not_active"
    default_message = _("The guarantee is not valid on this date.")


class InsufficientBalance(DomainError):
    code = "insufficient_balance"
    default_message = _("The available balance of the guarantee is not enough.")


class CeilingExceeded(DomainError):
    code = "ceiling_exceeded"
    default_message = _("This confirmation would take the bank over its exposure ceiling.")


class SameMakerAndChecker(DomainError):
    code = "same_maker_and_checker"
    status = 403
    default_message = _("The checker must be a different person from the maker.")


class TermsChanged(DomainError):
    """The checker's page showed another preparation than the one the row holds now: the maker prepared again,
    or the request was sent back, after the page was opened. Nothing changed; the message names the terms as
    they stand now (``guarantees.terms``), and ``terms`` carries them for a machine."""

    code = "terms_changed"
    default_message = _("The request changed after you opened this page. Nothing was done: read it again and "
                        "decide.")


class NotAllowed(DomainError):
    code = "not_allowed"
    status = 403
    default_message = _("You are not allowed to do this.")


class BelowCommitted(DomainError):
    code = "below_committed"
    default_message = _("The reference amount cannot go below what is held, claimed and paid.")


class InvalidAmount(DomainError):
    code = "invalid_amount"
    status = 400
    default_message = _("The amount must be a whole, positive number of francs CFA.")


class Conflict(DomainError):
    code = "conflict"
    default_message = _("This reference was already used with different content.")


class CountryNotCovered(DomainError):
    code = "country_not_covered"
    default_message = _("The guarantee does not cover this country.")


class ReasonRequired(DomainError):
    """A decision that must say why (decline, suspend, cancel, claim, rejection...) came without its reason."""

    code = "reason_required"
    status = 400
    default_message = _("A reason is required.")


class TooManyAttempts(DomainError):
    """Refused for a while; ``retry_after`` (in the body, and the API's Retry-After) is the real time left."""

    code = "too_many_attempts"
    status = 429
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


class InvalidDeclaration(DomainError):
    """The message cannot be taken as it is; ``errors`` says which field and why."""

    code = "invalid"
    status = 400
    default_message = _("The message is invalid.")

    def __init__(self, errors: dict, message=None):
        super().__init__(message, errors={k: [str(m) for m in v] for k, v in errors.items()})


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class EventRefused(DomainError):
    """A transit event its sender may not report, or that cannot apply: kept, refused with ``reason`` (a stable
    machine word: ``not_on_route``, ``sender_not_allowed``, ``office_not_allowed``, ``dated_before_declaration``,
    ``dated_in_future``, ``above_held``...)."""

    code = "event_refused"
    status = 403
    default_message = _("This event was refused.")

    def __init__(self, reason: str, message=None, **extra):
        self.reason = reason
        super().__init__(message, reason=reason, **extra)
