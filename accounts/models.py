"""People and the organisations they act for. Everything a user may see or do follows from their memberships.

A user belongs to one organisation (a forwarder, a bank, a customs administration or the secretariat) and holds
one or more roles in it; ``accounts.roles`` says what each role may do.
"""

from functools import cached_property

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.roles import MFA_REQUIRED_ROLES, OrganisationKind, Role, permissions_for


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person, signing in with an e-mail address."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="fr")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @cached_property
    def active_memberships(self) -> list["Membership"]:
        return list(self.memberships.select_related("organisation").filter(organisation__is_active=True))

    @property
    def organisation(self) -> "Organisation | None":
        memberships = self.active_memberships
        return memberships[0].organisation if memberships else None

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(m.role for m in self.active_memberships)

    @property
    def registry_permissions(self) -> frozenset[str]:
        return permissions_for(self.roles)

    def can(self, permission: str) -> bool:
        return self.is_active and permission in self.registry_permissions

    @property
    def mfa_required(self) -> bool:
        """Must enrol TOTP before anything else: roles that reach money or customs decisions, and every staff
        member or superuser (the admin reads and changes everything), whatever their memberships."""
        return self.is_staff or self.is_superuser or bool(self.roles & MFA_REQUIRED_ROLES)


class Organisation(models.Model):
    """A forwarder, a guarantor bank, a national customs administration or the regional secretariat."""

    kind = models.CharField(_("kind"), max_length=16, choices=OrganisationKind.choices)
    name = models.CharField(_("legal name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    # The ISO 3166 code (BF, ML, NE, TG): the registry's countries are reference data of the guarantees app, which
    # accounts does not import; the column keeps its name from when it was a foreign key.
    country = models.CharField(
        _("country"), max_length=2, db_column="country_id", db_index=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", _("An ISO 3166 country code of two capital letters."))],
        help_text=_("ISO 3166 code, e.g. BF"),
    )
    tin = models.CharField(_("tax id (NIF)"), max_length=40, blank=True)
    trade_register = models.CharField(_("trade register number (RCCM)"), max_length=60, blank=True)
    address = models.TextField(_("address"), blank=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    approval_number = models.CharField(_("approval number"), max_length=60, blank=True)
    approved_from = models.DateField(_("approved from"), null=True, blank=True)
    approved_until = models.DateField(_("approved until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["country"],
                condition=models.Q(kind="customs"),
                name="one_customs_administration_per_country",
            ),
            models.CheckConstraint(condition=models.Q(country__regex=r"^[A-Z]{2}$"), name="organisation_country_iso_code"),
            models.CheckConstraint(
                condition=models.Q(approved_until__isnull=True)
                | models.Q(approved_from__isnull=True)
                | models.Q(approved_until__gte=models.F("approved_from")),
                name="organisation_approval_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


class Membership(models.Model):
    """One role of one user in one organisation. A user holds roles in a single organisation."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="membership_unique_role_per_user")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} ({self.organisation})"


class Invitation(models.Model):
    """An organisation admin's invitation to a colleague; accepting it creates the account and membership."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        User, verbose_name=_("invited by"), on_delete=models.PROTECT, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"


class SignInAttempt(models.Model):
    """Every sign-in, successful or not, for the security record and the slow-down of repeated failures."""

    email = models.CharField(_("e-mail entered"), max_length=254, db_index=True)
    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    succeeded = models.BooleanField(_("succeeded"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("sign-in attempt")
        verbose_name_plural = _("sign-in attempts")
        ordering = ["-created_at"]


class ApiKey(models.Model):
    """A key issued by the secretariat to one customs administration's system (ASYCUDA / SIDONIA World).

    The key is ``cu_<prefix>_<secret>``; only the prefix (to find the row) and a SHA-256 of the whole key are
    stored. It acts only for its administration's country.
    """

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("customs administration"), on_delete=models.PROTECT, related_name="api_keys",
        limit_choices_to={"kind": "customs"},
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        User, verbose_name=_("issued by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
