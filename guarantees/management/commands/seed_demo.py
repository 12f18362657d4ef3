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
                    "country": _country(spec.country).pk,
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
    """Demo guarantees at every stage, and transits on the active one, built through the services so the
    ledger, versions and audit trail are those the application itself produces.

    Idempotent: each demo guarantee is recognised by its purpose (``DEMO …``) and skipped when it exists.
    Needs the reference data (offices, corridors) for transits; without it only guarantees are created.
    """
    import datetime

    from guarantees.models import Bank, Guarantee, Office, Transit, TransitEvent
    from guarantees.services.amendments import amendment_request
    from guarantees.services.guarantees import (
        guarantee_accept,
        guarantee_confirm,
        guarantee_prepare,
        guarantee_request,
    )
    from guarantees.services.events import transit_event_apply, transit_event_receive
    from guarantees.services.transits import transit_declare
    from guarantees.terms import guarantee_terms

    def user(email):
        return User.objects.get(email=email)

    def org(key):
        spec = next(o for o in DEMO_ORGANISATIONS if o.key == key)
        return Organisation.objects.get(kind=spec.kind, name=spec.name)

    today = timezone.now().date()
    plans = [
        # (purpose, forwarder, agent, bank, maker, checker, customs officer, amount, stage)
        ("DEMO 1 — Lomé – Ouagadougou, céréales", "forwarder-bf", "agent@transit-sahel.bf", "bank-bf",
         "maker@banque-sahel.bf", "checker@banque-sahel.bf", "officer@douanes.bf", 150_000_000, "active"),
        ("DEMO 2 — Lomé – Niamey, matériaux", "forwarder-bf", "agent@transit-sahel.bf", "bank-bf",
         "maker@banque-sahel.bf", "checker@banque-sahel.bf", "officer@douanes.bf", 80_000_000, "confirmed"),
        ("DEMO 3 — Lomé – Bamako, intrants agricoles", "forwarder-bf", "agent@transit-sahel.bf", "bank-bf",
         "maker@banque-sahel.bf", "checker@banque-sahel.bf", "officer@douanes.bf", 60_000_000, "prepared"),
        ("DEMO 4 — Nouvelle demande", "forwarder-bf", "agent@transit-sahel.bf", "bank-bf",
         "maker@banque-sahel.bf", "checker@banque-sahel.bf", "officer@douanes.bf", 40_000_000, "submitted"),
        ("DEMO 5 — Port de Lomé, transit vers le Sahel", "forwarder-tg", "agent@lome-transit.tg", "bank-tg",
         "maker@banque-golfe.tg", "checker@banque-golfe.tg", "officer@douanes.tg", 250_000_000, "active"),
    ]
    made = 0
    for purpose, fwd, agent, bank_key, maker, checker, officer, amount, stage in plans:
        principal = org(fwd)
        if Guarantee.objects.filter(principal=principal, purpose=purpose).exists():
            continue
        bank = Bank.objects.get(organisation=org(bank_key))
        g = guarantee_request(
            principal=principal, bank=bank, requested_amount=amount, valid_from=today,
            valid_until=today + datetime.timedelta(days=365), purpose=purpose, by=user(agent), submit=True,
        )
        if stage in ("prepared", "confirmed", "active"):
            g = guarantee_prepare(guarantee=g, by=user(maker), comment="Dossier complet.")
        if stage in ("confirmed", "active"):
            g = guarantee_confirm(guarantee=g, by=user(checker), expected=guarantee_terms(g))
        if stage == "active":
            g = guarantee_accept(guarantee=g, by=user(officer))
            # A demo guarantee in force for a month already (a request starts today at the earliest), so that the
            # demo's transits are declared within its validity, as the registry requires.
            start = today - datetime.timedelta(days=30)
            Guarantee.objects.filter(pk=g.pk).update(valid_from=start)
            g.versions.update(valid_from=start)
        made += 1

    first = Guarantee.objects.filter(purpose=plans[0][0], status="active").first()
    togo = Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country="TG").first()
    burkina = Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country="BF").first()
    if first and togo and burkina and Office.objects.filter(code="TGLOME").exists():
        if first.holds.count() == 0:
            amendment_request(guarantee=first, by=user("agent@transit-sahel.bf"), new_amount=200_000_000,
                              new_valid_until=first.valid_until, reason="Hausse saisonnière des volumes.")
        now = timezone.now()
        transits = [
            ("TG-LOME-DEMO-T-0001", 4, {"amount": 4_500_000}),
            ("TG-LOME-DEMO-T-0002", 2, {"goods": [{"hs_code": "100630", "description": "Riz",
                                                    "customs_value": 25_000_000, "gross_mass_kg": 30000}]}),
            ("TG-LOME-DEMO-T-0003", 1, {"amount": 7_250_000}),
        ]
        for ref, days_ago, amount in transits:
            if Transit.objects.filter(declaration_ref=ref).exists():
                continue
            declared_at = now - datetime.timedelta(days=days_ago)
            transit_declare(sender=togo, guarantee=first, data={
                "declaration_ref": ref, "office_of_departure": "TGLOME", "office_of_destination": "BFOUAG",
                "route": [], "corridor": "LOM-OUA", "declared_at": declared_at, "amount": amount.get("amount"),
                "goods": amount.get("goods", []), "transport": {"vehicle": "BF-1234-AB", "seals": ["TG000123"]},
            })
        # The first transit crossed the border, arrived and was discharged; the second crossed the border.
        for message_id, ref, sender, kind, office, days_ago in [
            ("DEMO-M-1", "TG-LOME-DEMO-T-0001", togo, "border_exit", "TGCINK", 3),
            ("DEMO-M-2", "TG-LOME-DEMO-T-0001", burkina, "border_entry", "BFCINK", 3),
            ("DEMO-M-3", "TG-LOME-DEMO-T-0001", burkina, "arrival", "BFOUAG", 2),
            ("DEMO-M-4", "TG-LOME-DEMO-T-0001", burkina, "discharge", "BFOUAG", 2),
            ("DEMO-M-5", "TG-LOME-DEMO-T-0002", togo, "border_exit", "TGCINK", 1),
        ]:
            if TransitEvent.objects.filter(sender=sender, message_id=message_id).exists():
                continue
            event, created = transit_event_receive(sender=sender, data={
                "message_id": message_id, "declaration_ref": ref, "type": kind, "office": office,
                "occurred_at": (now - datetime.timedelta(days=days_ago)).isoformat(),
            })
            transit_event_apply(event_id=event.pk)
    if stdout is not None and made:
        stdout.write(f"Demo guarantees created: {made}")


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
