import io
import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from accounts.models import Membership, Organisation, User
from guarantees.management.commands.seed_demo import DEMO_ORGANISATIONS, DEMO_PASSWORD
from guarantees.models import Bank

pytestmark = pytest.mark.django_db


def _snapshot():
    return {
        "users": sorted(User.objects.values_list("email", "password", "first_name", "language")),
        "memberships": sorted(Membership.objects.values_list("user__email", "organisation__name", "role")),
        "organisations": sorted(Organisation.objects.values_list("kind", "name", "country")),
        "emails": sorted(EmailAddress.objects.values_list("email", "verified", "primary")),
        "banks": sorted(Bank.objects.values_list("organisation__name", "exposure_ceiling", "is_approved")),
    }


def test_seed_demo_twice_changes_nothing(capsys):
    call_command("seed_demo")
    first = _snapshot()
    call_command("seed_demo")
    assert _snapshot() == first
    assert len(first["users"]) == sum(len(o.users) for o in DEMO_ORGANISATIONS)
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out and "agent@transit-sahel.bf" in out and "TOTP" in out


def test_demo_users_are_verified_and_sign_in_with_the_demo_password():
    call_command("seed_demo")
    for organisation in DEMO_ORGANISATIONS:
        for spec in organisation.users:
            user = User.objects.get(email=spec.email)
            assert user.check_password(DEMO_PASSWORD)
            assert EmailAddress.objects.get(user=user).verified
            assert user.roles == {spec.role}
            assert user.organisation.kind == organisation.kind


def test_demo_banks_are_approved_with_a_ceiling_of_five_billion():
    call_command("seed_demo")
    banks = Bank.objects.all()
    assert banks.count() == 2
    assert all(b.is_approved and b.exposure_ceiling == 5_000_000_000 for b in banks)
    assert {b.organisation.country for b in banks} == {"BF", "TG"}


@pytest.mark.django_db
def test_demo_guarantees_cover_every_stage_and_keep_the_ledger_intact():
    from django.core.management import call_command

    from guarantees.models import Guarantee, Transit
    from guarantees.reference.importer import reference_import
    from guarantees.services.ledger import ledger_verify

    reference_import()
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    statuses = sorted(Guarantee.objects.values_list("status", flat=True))
    assert statuses == ["active", "active", "bank_confirmed", "prepared", "submitted"]
    assert sorted(Transit.objects.values_list("status", flat=True)) == ["declared", "discharged", "in_transit"]
    assert ledger_verify() == []
