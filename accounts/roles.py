"""Who may do what, as data: one table from role to permissions, read by views, the API and templates.

A permission is a plain string ``"<object>.<verb>"``. Code asks ``has_perm(user, "guarantee.confirm")``;
it never tests role names itself, so changing who may do something is a change to this table alone.
"""

from django.db import models
from django.utils.translation import pgettext_lazy


class OrganisationKind(models.TextChoices):
    FORWARDER = "forwarder", pgettext_lazy("organisation kind", "Freight forwarder")
    BANK = "bank", pgettext_lazy("organisation kind", "Guarantor bank")
    CUSTOMS = "customs", pgettext_lazy("organisation kind", "Customs administration")
    SECRETARIAT = "secretariat", pgettext_lazy("organisation kind", "Regional secretariat")


class Role(models.TextChoices):
    FORWARDER_AGENT = "forwarder_agent", pgettext_lazy("role", "Forwarder agent")
    FORWARDER_ADMIN = "forwarder_admin", pgettext_lazy("role", "Forwarder administrator")
    BANK_MAKER = "bank_maker", pgettext_lazy("role", "Bank officer (maker)")
    BANK_CHECKER = "bank_checker", pgettext_lazy("role", "Bank officer (checker)")
    BANK_ADMIN = "bank_admin", pgettext_lazy("role", "Bank administrator")
    CUSTOMS_OFFICER = "customs_officer", pgettext_lazy("role", "Customs officer")
    CUSTOMS_SUPERVISOR = "customs_supervisor", pgettext_lazy("role", "Customs supervisor")
    SECRETARIAT_ADMIN = "secretariat_admin", pgettext_lazy("role", "Secretariat administrator")


# Which roles exist in which kind of organisation.
ROLES_BY_KIND: dict[str, frozenset[str]] = {
    OrganisationKind.FORWARDER: frozenset({Role.FORWARDER_AGENT, Role.FORWARDER_ADMIN}),
    OrganisationKind.BANK: frozenset({Role.BANK_MAKER, Role.BANK_CHECKER, Role.BANK_ADMIN}),
    OrganisationKind.CUSTOMS: frozenset({Role.CUSTOMS_OFFICER, Role.CUSTOMS_SUPERVISOR}),
    OrganisationKind.SECRETARIAT: frozenset({Role.SECRETARIAT_ADMIN}),
}

# Roles that reach money or customs decisions: they cannot use the site before enrolling a TOTP device.
MFA_REQUIRED_ROLES: frozenset[str] = frozenset(
    {
        Role.BANK_MAKER,
        Role.BANK_CHECKER,
        Role.BANK_ADMIN,
        Role.CUSTOMS_OFFICER,
        Role.CUSTOMS_SUPERVISOR,
        Role.SECRETARIAT_ADMIN,
    }
)

# What everyone signed in does: read their own notifications (in the site; each also comes by e-mail).
_EVERYONE = {"notification.view"}
_FORWARDER_COMMON = _EVERYONE | {
    "guarantee.view",
    "guarantee.request",
    "guarantee.amend_request",
    "guarantee.access_code",
    "transit.view",
    "certificate.download",
    "claim.view",
    "enquiry.view",
    "enquiry.answer",
    # Their guarantees' balances over time, holds and releases per month, and when the balance runs out.
    "report.view",
}
_BANK_COMMON = _EVERYONE | {
    "guarantee.view",
    "transit.view",
    "certificate.download",
    "claim.view",
    "bank.portfolio",
    # What the bank's makers and checkers say to each other stays inside the bank (and the secretariat, which
    # oversees the banks): never the principal's or customs' to read.
    "guarantee.internal_notes",
    # The guarantor is notified of every enquiry (the notice of non-discharge) and may follow it.
    "enquiry.view",
    # Exposure per forwarder, corridor and country, the ceiling over time, expiries, claims and answer times.
    "report.view",
}
_CUSTOMS_COMMON = _EVERYONE | {
    "guarantee.view",
    "guarantee.lookup",
    "transit.view",
    "certificate.download",
    "claim.view",
    "enquiry.view",
    "enquiry.open",
    "release.propose",
    "discharge.upload",
    "reconciliation.view",
    "event.refused",
    # Duties secured, open transits by age and corridor, release lead times, enquiries and claims.
    "report.view",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.FORWARDER_AGENT: frozenset(_FORWARDER_COMMON),
    Role.FORWARDER_ADMIN: frozenset(_FORWARDER_COMMON | {"organisation.invite"}),
    Role.BANK_MAKER: frozenset(_BANK_COMMON | {"guarantee.prepare", "amendment.prepare", "claim.prepare"}),
    Role.BANK_CHECKER: frozenset(
        _BANK_COMMON | {"guarantee.confirm", "guarantee.decline", "amendment.confirm", "claim.answer"}
    ),
    Role.BANK_ADMIN: frozenset(_BANK_COMMON | {"organisation.invite"}),
    Role.CUSTOMS_OFFICER: frozenset(_CUSTOMS_COMMON | {"guarantee.accept"}),
    Role.CUSTOMS_SUPERVISOR: frozenset(
        _CUSTOMS_COMMON
        | {
            "guarantee.accept",
            "guarantee.suspend",
            "guarantee.reactivate",
            "guarantee.cancel",
            "release.approve",
            "claim.issue",
            "organisation.invite",
        }
    ),
    Role.SECRETARIAT_ADMIN: frozenset(
        _EVERYONE
        | {
            "guarantee.view",
            "guarantee.internal_notes",
            "transit.view",
            "claim.view",
            "enquiry.view",
            "certificate.download",
            "bank.approve",
            "bank.ceiling",
            "reference.edit",
            "apikey.manage",
            "report.view",
            "reconciliation.view",
            "organisation.invite",
            "task.retry",
            "event.refused",
            "ledger.audit",
        }
    ),
}


def permissions_for(roles) -> frozenset[str]:
    perms: set[str] = set()
    for role in roles:
        perms |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(perms)
