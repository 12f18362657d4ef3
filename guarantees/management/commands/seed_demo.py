"""Demo organisations and people, one of each role, to try the registry and to drive the browser tests.

Idempotent: rows are looked up by their natural key (organisation kind and name, user e-mail) and only
created when missing; an existing demo user keeps their password, language and TOTP device, so running the
command twice changes nothing.

Every demo user signs in with ``DEMO_PASSWORD``. Bank, customs and secretariat users are asked to set up an
authenticator app (TOTP) at their first sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Organisation, User
from accounts.roles import MFA_REQUIRED_ROLES, OrganisationKind, Role

DEMO_PASSWORD = "demo-caution-2026"

# Used only when seed_reference has not been run: the four covered countries, minimally.
_COUNTRIES = {
    "ML": ("Mali", "Mali", "Africa/Bamako", "AES;UEMOA"),
    "BF": ("Burkina Faso", "Burkina Faso", "Africa/Ouagadougou", "AES;UEMOA"),
    "NE": ("Niger", "Niger", "Africa/Niamey", "AES;UEMOA"),
    "TG": ("Togo", "Togo", "Africa/Lome", "UEMOA;ECOWAS"),
}

BANK_EXPOSURE_CEILING = 5_000_000_000


@dataclass(frozen=True)
class DemoUser:
    email: str
    first_name: str
    last_name: str
    role: str


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    kind: str
    country: str
    name: str
    short_name: str
    users: tuple[DemoUser, ...]
    address: str = ""


def _customs(country: str, name: str, short_name: str, domain: str, officer: tuple, supervisor: tuple, town: str):
    return DemoOrganisation(
        key=f"customs-{country.lower()}",
        kind=OrganisationKind.CUSTOMS,
        country=country,
        name=name,
        short_name=short_name,
        address=town,
        users=(
            DemoUser(f"officer@{domain}", *officer, Role.CUSTOMS_OFFICER),
            DemoUser(f"supervisor@{domain}", *supervisor, Role.CUSTOMS_SUPERVISOR),
        ),
    )


DEMO_ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation(
        key="secretariat",
        kind=OrganisationKind.SECRETARIAT,
        country="ML",
        name="Secrétariat régional de la caution unique",
        short_name="Secrétariat régional",
        address="Bamako",
        users=(DemoUser("admin@secretariat.aes", "Mariam", "Keïta", Role.SECRETARIAT_ADMIN),),
    ),
    _customs(
        "BF", "Direction générale des douanes du Burkina Faso", "Douanes BF", "douanes.bf",
        ("Issa", "Sawadogo"), ("Salif", "Compaoré"), "Ouagadougou",
    ),
    _customs(
        "TG", "Office togolais des recettes – Commissariat des douanes et droits indirects", "Douanes TG",
        "douanes.tg", ("Kossi", "Mensah"), ("Afi", "Agbeko"), "Lomé",
    ),
    _customs(
        "ML", "Direction générale des douanes du Mali", "Douanes ML", "douanes.ml",
        ("Moussa", "Traoré"), ("Fatoumata", "Diarra"), "Bamako",
    ),
    _customs(
        "NE", "Direction générale des douanes du Niger", "Douanes NE", "douanes.ne",
        ("Ibrahim", "Moussa"), ("Aïssata", "Maïga"), "Niamey",
    ),
    DemoOrganisation(
        key="bank-bf",
        kind=OrganisationKind.BANK,
        country="BF",
        name="Banque Sahélienne de Commerce et d'Industrie",
        short_name="Banque Sahel",
        address="Avenue Kwame Nkrumah, Ouagadougou",
        users=(
            DemoUser("maker@banque-sahel.bf", "Aminata", "Ouédraogo", Role.BANK_MAKER),
            DemoUser("checker@banque-sahel.bf", "Boukary", "Zongo", Role.BANK_CHECKER),
            DemoUser("admin@banque-sahel.bf", "Rasmané", "Kaboré", Role.BANK_ADMIN),
        ),
    ),
    DemoOrganisation(
        key="bank-tg",
        kind=OrganisationKind.BANK,
        country="TG",
        name="Banque du Golfe pour le Commerce",
        short_name="Banque du Golfe",
        address="Boulevard du 13 Janvier, Lomé",
        users=(
            DemoUser("maker@banque-golfe.tg", "Yawa", "Amegah", Role.BANK_MAKER),
            DemoUser("checker@banque-golfe.tg", "Komlan", "Adjovi", Role.BANK_CHECKER),
            DemoUser("admin@banque-golfe.tg", "Edem", "Kpodar", Role.BANK_ADMIN),
        ),
    ),
    DemoOrganisation(
        key="forwarder-bf",
        kind=OrganisationKind.FORWARDER,
        country="BF",
        name="Transit Sahel SARL",
        short_name="Transit Sahel",
        address="Zone industrielle de Kossodo, Ouagadougou",
        users=(
            DemoUser("agent@transit-sahel.bf", "Awa", "Ouédraogo", Role.FORWARDER_AGENT),
            DemoUser("admin@transit-sahel.bf", "Hamidou", "Tall", Role.FORWARDER_ADMIN),
        ),
    ),
    DemoOrganisation(
        key="forwarder-tg",
        kind=OrganisationKind.FORWARDER,
        country="TG",
        name="Lomé Transit Express SA",
        short_name="Lomé Transit",
        address="Port autonome de Lomé",
        users=(
            DemoUser("agent@lome-transit.tg", "Ama", "Lawson", Role.FORWARDER_AGENT),
            DemoUser("admin@lome-transit.tg", "Sena", "Akakpo", Role.FORWARDER_ADMIN),
        ),
    ),
)


def demo_user(role: str, organisation_key: str | None = None) -> DemoUser:
    """The first demo user holding ``role`` (in the organisation ``organisation_key`` when given)."""
    for organisation in DEMO_ORGANISATIONS:
        if organisation_key and organisation.key != organisation_key:
            continue
        for user in organisation.users:
            if user.role == role:
                return user
    raise LookupError(role)


def demo_organisation_of(email: str) -> DemoOrganisation:
    for organisation in DEMO_ORGANISATIONS:
        if any(user.email == email for user in organisation.users):
            return organisation
    raise LookupError(email)


def _country(code: str):
    from guarantees.models import Country

    name_fr, name_en, tz, member_of = _COUNTRIES[code]
    country, _created = Country.objects.get_or_create(
        code=code, defaults={"name_fr": name_fr, "name_en": name_en, "timezone": tz, "member_of": member_of}
    )
    return country


def _user(spec: DemoUser) -> User:
    from allauth.account.models import EmailAddress

    user = User.objects.filter(email__iexact=spec.email).first()
    if user is None:
        user = User(email=spec.email, first_name=spec.first_name, last_name=spec.last_name, language="fr")
        user.set_password(DEMO_PASSWORD)
        user.save()
    if not EmailAddress.objects.filter(user=user, email__iexact=spec.email).exists():
        EmailAddress.objects.create(user=user, email=spec.email, verified=True, primary=True)
    return user


def seed_demo(stdout=None) -> list[tuple[DemoUser, DemoOrganisation]]:
    """Create whatever demo row is missing; return every demo login with its organisation."""
    from guarantees.models import Bank

    logins: list[tuple[DemoUser, DemoOrganisation]] = []
    with transaction.atomic():
        secretariat_admin = None
        for spec in DEMO_ORGANISATIONS:
            organisation, _created = Organisation.objects.get_or_create(
                kind=spec.kind,
                name=spec.name,
                defaults={
                    "short_name": spec.short_name,
                    "country": _country(spec.country),
                    "address": spec.address,
                    "email": spec.users[0].email,
                },
            )
            for user_spec in spec.users:
                user = _user(user_spec)
                Membership.objects.get_or_create(
                    user=user, role=user_spec.role, defaults={"organisation": organisation}
                )
                if user_spec.role == Role.SECRETARIAT_ADMIN and secretariat_admin is None:
                    secretariat_admin = user
                logins.append((user_spec, spec))
            if spec.kind == OrganisationKind.BANK:
                Bank.objects.get_or_create(
                    organisation=organisation,
                    defaults={
                        "exposure_ceiling": BANK_EXPOSURE_CEILING,
                        "is_approved": True,
                        "approved_at": timezone.now(),
                        "approved_by": secretariat_admin,
                        "approval_reference": "DEMO",
                    },
                )
        seed_demo_guarantees(stdout)
    return logins


def seed_demo_guarantees(stdout) -> None:
    """Demo guarantees, transits and holds.

    Deliberately empty for now: the guarantee services come in a later change, which fills this in (using
    those services, so the ledger stays consistent) and keeps it idempotent like the rest of this command.
    """


class Command(BaseCommand):
    help = "Create demo organisations and users (idempotent). Password of every demo user: " + DEMO_PASSWORD

    def handle(self, *args, **options):
        logins = seed_demo(self.stdout)
        rows = [
            (
                user.email,
                Role(user.role).label,
                organisation.short_name,
                "TOTP" if user.role in MFA_REQUIRED_ROLES else "",
            )
            for user, organisation in logins
        ]
        headers = ("E-mail", "Role", "Organisation", "2FA")
        widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
        line = "  ".join("{:<%d}" % width for width in widths)
        self.stdout.write(self.style.SUCCESS("Demo logins"))
        self.stdout.write(line.format(*headers))
        self.stdout.write(line.format(*("-" * width for width in widths)))
        for row in rows:
            self.stdout.write(line.format(*row))
        self.stdout.write("")
        self.stdout.write(f"Password of every demo user: {DEMO_PASSWORD}")
        self.stdout.write(
            "Bank, customs and secretariat users (2FA: TOTP) are asked to set up an authenticator app "
            "at their first sign-in; the page shows the secret key to type into the app."
        )
