"""Errors raised by the accounts services: a rule refused an invitation or its acceptance.

Each has a stable ``code`` for tests and the API, and a translatable sentence that views show as it is.
"""

from django.utils.translation import gettext_lazy as _


class AccountsError(Exception):
    code = "accounts_error"
    default_message = _("This action is not allowed.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class NotAllowedToInvite(AccountsError):
    code = "not_allowed_to_invite"
    default_message = _("You may only invite colleagues into your own organisation.")


class RoleNotAllowedForOrganisation(AccountsError):
    code = "role_not_allowed"
    default_message = _("This role does not exist in this kind of organisation.")


class AccountAlreadyExists(AccountsError):
    code = "account_exists"
    default_message = _("An account already exists for this e-mail address.")


class InvitationInvalid(AccountsError):
    code = "invitation_invalid"
    default_message = _("This invitation link is not valid. Ask your administrator for a new one.")


class InvitationExpired(AccountsError):
    code = "invitation_expired"
    default_message = _("This invitation has expired. Ask your administrator for a new one.")
