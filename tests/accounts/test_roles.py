from accounts.roles import MFA_REQUIRED_ROLES, ROLE_PERMISSIONS, ROLES_BY_KIND, OrganisationKind, Role


def test_every_role_of_every_kind_has_permissions():
    for kind, roles in ROLES_BY_KIND.items():
        for role in roles:
            assert ROLE_PERMISSIONS.get(role), f"{role} ({kind}) grants nothing"


def test_every_role_belongs_to_exactly_one_kind_of_organisation():
    for role in Role.values:
        kinds = [kind for kind, roles in ROLES_BY_KIND.items() if role in roles]
        assert len(kinds) == 1, role


def test_every_kind_of_organisation_has_roles():
    assert set(ROLES_BY_KIND) == set(OrganisationKind.values)


def test_bank_customs_and_secretariat_roles_require_mfa_and_forwarders_do_not():
    for kind in (OrganisationKind.BANK, OrganisationKind.CUSTOMS, OrganisationKind.SECRETARIAT):
        assert ROLES_BY_KIND[kind] <= MFA_REQUIRED_ROLES
    assert not (ROLES_BY_KIND[OrganisationKind.FORWARDER] & MFA_REQUIRED_ROLES)


def test_every_kind_has_a_role_that_may_invite_colleagues():
    for kind, roles in ROLES_BY_KIND.items():
        assert any("organisation.invite" in ROLE_PERMISSIONS[role] for role in roles), kind
