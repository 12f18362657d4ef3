"""factory_boy factories: one per model, valid by default, with the four covered countries seeded on demand."""

import datetime

import factory
from django.utils import timezone

from accounts.models import Membership, Organisation, User
from accounts.roles import OrganisationKind, Role
from guarantees.models import Bank, Country, Guarantee, GuaranteeStatus

COUNTRIES = {
    "ML": ("Mali", "Mali", "Africa/Bamako", "AES;UEMOA"),
    "BF": ("Burkina Faso", "Burkina Faso", "Africa/Ouagadougou", "AES;UEMOA"),
    "NE": ("Niger", "Niger", "Africa/Niamey", "AES;UEMOA"),
    "TG": ("Togo", "Togo", "Africa/Lome", "UEMOA;ECOWAS"),
}


def country(code: str = "BF") -> Country:
    name_fr, name_en, tz, member_of = COUNTRIES[code]
    obj, _ = Country.objects.get_or_create(
        code=code, defaults={"name_fr": name_fr, "name_en": name_en, "timezone": tz, "member_of": member_of}
    )
    return obj


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.FORWARDER
    name = factory.Sequence(lambda n: f"Transit Sahel {n} SARL")
    country = "BF"
    tin = factory.Sequence(lambda n: f"0001{n:05d}X")
    address = "Ouagadougou"

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        # An organisation holds its country's ISO code; tests may hand a Country (``country("TG")``): the row is
        # made on demand either way, as the registry's reference data would have it.
        code = kwargs.get("country")
        kwargs["country"] = country(code.pk if isinstance(code, Country) else code).pk
        return kwargs


class ForwarderFactory(OrganisationFactory):
    kind = OrganisationKind.FORWARDER


class BankOrganisationFactory(OrganisationFactory):
    kind = OrganisationKind.BANK
    name = factory.Sequence(lambda n: f"Banque Sahélienne {n}")


class CustomsFactory(OrganisationFactory):
    kind = OrganisationKind.CUSTOMS
    name = factory.LazyAttribute(lambda o: f"Direction générale des douanes ({getattr(o.country, 'code', o.country)})")


class SecretariatFactory(OrganisationFactory):
    kind = OrganisationKind.SECRETARIAT
    name = "Secrétariat régional de la caution unique"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    first_name = "Awa"
    last_name = factory.Sequence(lambda n: f"Ouédraogo{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


def member(organisation: Organisation, role: str, **user_fields) -> User:
    """A user holding ``role`` in ``organisation``."""
    user = UserFactory(**user_fields)
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


class BankFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bank

    organisation = factory.SubFactory(BankOrganisationFactory)
    exposure_ceiling = 10_000_000_000
    is_approved = True
    approved_at = factory.LazyFunction(timezone.now)


class GuaranteeFactory(factory.django.DjangoModelFactory):
    """A request in draft; use ``tests.builders.active_guarantee`` for one that can take holds."""

    class Meta:
        model = Guarantee

    principal = factory.SubFactory(ForwarderFactory)
    bank = factory.SubFactory(BankFactory)
    country = factory.LazyAttribute(lambda g: country(g.principal.country))
    requested_amount = 50_000_000
    valid_from = factory.LazyFunction(lambda: timezone.localdate())
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=365))
    purpose = "Transit Lomé – Ouagadougou"
    status = GuaranteeStatus.DRAFT
    requested_by = factory.LazyAttribute(lambda g: member(g.principal, Role.FORWARDER_AGENT))
