"""Public holidays per country, as data the secretariat keeps: the calendars that working-day deadlines count on.

A holiday is a dated row (``date``) or, for fixed-date holidays such as 1 January, a row that ``recurs_yearly``
on the same day and month. Weekends are a setting (``REGISTRY_WEEKEND_DAYS``). Movable feasts (Tabaski,
Ramadan's end, Maouloud, Easter Monday…) must be entered each year, once their dates are announced.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PublicHoliday(models.Model):
    country = models.ForeignKey(
        "guarantees.Country", verbose_name=_("country"), on_delete=models.CASCADE, related_name="public_holidays"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=120)
    recurs_yearly = models.BooleanField(
        _("every year on this day"), default=False,
        help_text=_("Tick for a fixed-date holiday (e.g. 1 January); leave unticked for a movable feast."),
    )
    is_illustrative = models.BooleanField(_("unconfirmed"), default=False)
    source = models.TextField(_("source"), blank=True)

    class Meta:
        verbose_name = _("public holiday")
        verbose_name_plural = _("public holidays")
        ordering = ["country_id", "date"]
        constraints = [models.UniqueConstraint(fields=["country", "date"], name="public_holiday_unique_day")]

    def __str__(self) -> str:
        return f"{self.country_id} {self.date.isoformat()} {self.name}"
