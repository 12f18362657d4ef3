"""The registry's one tree of domain errors: a rule refused an action.

Every refusal, from an invitation to a guarantee's confirmation, is a ``DomainError``: a stable machine ``code``
(documented in the API), a translatable sentence, and figures where they help (``extra``: the available
balance, the seconds to wait...). An error says *what kind* of refusal it is by its family, never how to answer
it: the API's exception handler and the pages map the families to HTTP statuses.

* ``InvalidInput`` — the request itself is wrong (a missing reason, an amount out of range);
* ``Forbidden`` — this person or system may not do this;
* ``NotFound`` — no such thing, or not one the caller may see;
* ``RuleRefused`` — a business rule refuses it now (a transition, a balance, a conflict);
* ``TooManyAttempts`` — slowed down for a while.

The tree starts here, in ``accounts``, the lowest app, so that every app raises from it; ``guarantees.errors``
holds the registry's own kinds.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "domain_error"
    default_message = _("This action is not allowed.")

    def __init__(self, message=None, **extra):
        self.message = message or self.default_message
        self.extra = extra
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        return {"code": self.code, "detail": str(self.message), **self.extra}


class InvalidInput(DomainError):
    code = "invalid"
    default_message = _("The request is invalid.")


class Forbidden(DomainError):
    code = "not_allowed"
    default_message = _("You are not allowed to do this.")


class NotFound(DomainError):
    code = "not_found"
    default_message = _("Not found.")


class RuleRefused(DomainError):
    code = "refused"
    default_message = _("This action is not allowed.")


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    default_message = _("Too many attempts. Please wait a few minutes before trying again.")


# --- Accounts' own refusals -----------------------------------------------------------------------------------

class NotAllowed(Forbidden):
    code = "not_allowed"


class NotAllowedToInvite(Forbidden):
    code = "not_allowed_to_invite"
    default_message = _("You may only invite colleagues into your own organisation.")


class RoleNotAllowedForOrganisation(InvalidInput):
    code = "role_not_allowed"
    default_message = _("This role does not exist in this kind of organisation.")


class AccountAlreadyExists(RuleRefused):
    code = "account_exists"
    default_message = _("An account already exists for this e-mail address.")


class InvitationInvalid(NotFound):
    code = "invitation_invalid"
    default_message = _("This invitation link is not valid. Ask your administrator for a new one.")


class InvitationExpired(RuleRefused):
    code = "invitation_expired"
    default_message = _("This invitation has expired. Ask your administrator for a new one.")


def http_status(error: DomainError) -> int:
    """The HTTP status of a refusal's family — for the API's exception handler and the pages, never services."""
    for family, status in ((InvalidInput, 400), (Forbidden, 403), (NotFound, 404), (TooManyAttempts, 429)):
        if isinstance(error, family):
            return status
    return 409
