"""Reference data kept by the secretariat: countries, customs offices, corridors, dated rates, the tariff.

Rates are data with validity dates, never code: the amount at stake of a transit is computed from the rows
valid on the day of the declaration. Every seeded row keeps its ``source``; ``is_illustrative`` marks values
that the sources did not confirm.
"""

from datetime import date

from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Country(models.Model):
    code = models.CharField(_("ISO code"), max_length=2, primary_key=True)
    name_fr = models.CharField(_("name (French)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    timezone = models.CharField(_("time zone"), max_length=64, help_text=_("IANA zone, e.g. Africa/Niamey"))
    currency = models.CharField(_("currency"), max_length=3, default="XOF")
    member_of = models.CharField(_("member of"), max_length=100, blank=True, help_text=_("e.g. AES;UEMOA"))
    is_covered = models.BooleanField(_("covered by the caution unique"), default=True)
    source = models.TextField(_("source"), blank=True)

    class Meta:
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (translation.get_language() or "fr").startswith("en") else self.name_fr


class OfficeRole(models.TextChoices):
    DEPARTURE = "departure", pgettext_lazy("office role", "Departure")
    BORDER = "border", pgettext_lazy("office role", "Border")
    DESTINATION = "destination", pgettext_lazy("office role", "Destination")
    INLAND = "inland", pgettext_lazy("office role", "Inland")


class Office(models.Model):
    """A customs office (bureau de douane) or border post."""

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=250)
    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.PROTECT, related_name="offices")
    role = models.CharField(_("main role"), max_length=16, choices=OfficeRole.choices)
    town = models.CharField(_("town"), max_length=80, blank=True)
    paired_with = models.ForeignKey(
        "self", verbose_name=_("facing office"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_illustrative = models.BooleanField(_("unconfirmed"), default=False)
    source = models.TextField(_("source"), blank=True)

    class Meta:
        verbose_name = _("customs office")
        verbose_name_plural = _("customs offices")
        ordering = ["country_id", "code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.town or self.name}"

    @property
    def timezone(self) -> str:
        return self.country.timezone


class Corridor(models.Model):
    """An itinerary from an office of departure through border offices to a destination, with its time limit."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    distance_km = models.PositiveIntegerField(_("distance (km)"), null=True, blank=True)
    time_limit_days = models.PositiveSmallIntegerField(_("time limit (days)"), help_text=_("délai de route"))
    is_active = models.BooleanField(_("active"), default=True)
    is_illustrative = models.BooleanField(_("default value"), default=False)
    source = models.TextField(_("source"), blank=True)

    class Meta:
        verbose_name = _("corridor")
        verbose_name_plural = _("corridors")
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(time_limit_days__gte=1), name="corridor_time_limit_positive")]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    @property
    def itinerary(self) -> list[Office]:
        return [stop.office for stop in self.stops.select_related("office", "office__country").order_by("position")]


class CorridorStop(models.Model):
    corridor = models.ForeignKey(Corridor, on_delete=models.CASCADE, related_name="stops")
    position = models.PositiveSmallIntegerField(_("position"))
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("corridor stop")
        verbose_name_plural = _("corridor stops")
        ordering = ["corridor_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["corridor", "position"], name="corridor_stop_unique_position"),
        ]


class LevyKind(models.TextChoices):
    CUSTOMS_DUTY = "customs_duty", pgettext_lazy("levy kind", "Customs duty (TEC)")
    VAT = "vat", pgettext_lazy("levy kind", "Value added tax")
    STATISTICAL_FEE = "statistical_fee", pgettext_lazy("levy kind", "Statistical fee")
    SOLIDARITY_LEVY = "solidarity_levy", pgettext_lazy("levy kind", "UEMOA solidarity levy (PCS)")
    COMMUNITY_LEVY = "community_levy", pgettext_lazy("levy kind", "Community levy")
    OTHER = "other", pgettext_lazy("levy kind", "Other")


class Levy(models.Model):
    """A duty or tax at stake if goods in transit were diverted, valid between two dates.

    ``country`` empty means every covered country. Customs duty rows are the TEC bands; the band of a good
    comes from ``TariffLine``. Ad valorem rows (``rate_pct`` set) enter the amount at stake; specific ones
    (per tonne, per declaration) are kept for reference only.
    """

    country = models.ForeignKey(
        Country, verbose_name=_("country"), on_delete=models.PROTECT, null=True, blank=True, related_name="levies",
        help_text=_("Empty: every covered country."),
    )
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=250)
    kind = models.CharField(_("kind"), max_length=20, choices=LevyKind.choices)
    rate_pct = models.DecimalField(_("rate (%)"), max_digits=6, decimal_places=3, null=True, blank=True)
    base = models.CharField(_("base"), max_length=250, blank=True)
    applies_to = models.TextField(_("applies to"), blank=True)
    in_amount_at_stake = models.BooleanField(
        _("counts in the amount at stake"), default=True,
        help_text=_("Whether this levy enters the hold computed for a transit."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_illustrative = models.BooleanField(_("unconfirmed"), default=False)
    source = models.TextField(_("source"), blank=True)

    class Meta:
        verbose_name = _("levy or rate")
        verbose_name_plural = _("levies and rates")
        ordering = ["country_id", "kind", "code", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_pct__isnull=True) | (Q(rate_pct__gte=0) & Q(rate_pct__lte=100)),
                name="levy_rate_between_0_and_100",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="levy_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        where = self.country_id or _("all")
        return f"{self.code} ({where}) {self.rate_pct if self.rate_pct is not None else '—'} %"

    def is_valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class TariffLine(models.Model):
    """HS code (chapter, heading or subheading) → TEC band. The longest matching prefix wins."""

    hs_code = models.CharField(_("HS code"), max_length=12, help_text=_("Digits only: 2, 4, 6 or more."))
    description_fr = models.CharField(_("description (French)"), max_length=250)
    description_en = models.CharField(_("description (English)"), max_length=250, blank=True)
    band_pct = models.DecimalField(_("TEC band (%)"), max_digits=5, decimal_places=2)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_illustrative = models.BooleanField(_("illustrative"), default=True)
    source = models.TextField(_("source"), blank=True)

    class Meta:
        verbose_name = _("tariff line")
        verbose_name_plural = _("tariff (HS → TEC band)")
        ordering = ["hs_code"]
        constraints = [
            models.CheckConstraint(condition=Q(band_pct__in=[0, 5, 10, 20, 35]), name="tariff_band_is_a_tec_band"),
            models.CheckConstraint(condition=Q(hs_code__regex=r"^[0-9]{2,12}$"), name="tariff_hs_code_digits"),
        ]

    def __str__(self) -> str:
        return f"{self.hs_code} → {self.band_pct} %"

    @property
    def description(self) -> str:
        if (translation.get_language() or "fr").startswith("en") and self.description_en:
            return self.description_en
        return self.description_fr
