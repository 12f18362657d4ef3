import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from django.utils import timezone

from guarantees.templatetags.registry import can, fcfa, in_zone, reader_zone, url_if_exists, when

NNBSP = "\u202f"
NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0, f"0{NBSP}FCFA"),
        (1, f"1{NBSP}FCFA"),
        (1000, f"1{NNBSP}000{NBSP}FCFA"),
        (12_500_000, f"12{NNBSP}500{NNBSP}000{NBSP}FCFA"),
        (-5000, f"-5{NNBSP}000{NBSP}FCFA"),
        (None, "—"),
        (Decimal("5000000000"), f"5{NNBSP}000{NNBSP}000{NNBSP}000{NBSP}FCFA"),
    ],
)
def test_fcfa_groups_thousands_with_narrow_no_break_spaces(amount, shown):
    assert fcfa(amount) == shown


def test_fcfa_is_the_same_in_english():
    with translation.override("en"):
        assert fcfa(12_500_000) == f"12{NNBSP}500{NNBSP}000{NBSP}FCFA"


def test_in_zone_shows_niamey_one_hour_ahead_of_ouagadougou():
    moment = datetime.datetime(2026, 3, 28, 23, 30, tzinfo=datetime.timezone.utc)
    with translation.override("fr"):
        assert in_zone(moment, "Africa/Niamey") == "29/03/2026 00:30, heure de Niamey (UTC+1)"
        assert in_zone(moment, "Africa/Ouagadougou") == "28/03/2026 23:30, heure de Ouagadougou (UTC+0)"
        assert in_zone(moment, "UTC") == "28/03/2026 23:30 UTC"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_dates_read_day_month_year_on_a_24_hour_clock_in_both_languages(language):
    """English pages used Django's American formats: 12/06/2026 11:54 p.m. beside 07/12/2026 elsewhere."""
    moment = datetime.datetime(2026, 12, 6, 23, 54, tzinfo=datetime.timezone.utc)
    with translation.override(language), timezone.override(datetime.timezone.utc):
        assert when(moment) == "06/12/2026 23:54"
        assert Template('{{ m|date:"SHORT_DATETIME_FORMAT" }} {{ d|date }}').render(
            Context({"m": moment, "d": datetime.date(2026, 12, 7)})) == "06/12/2026 23:54 07/12/2026"


def test_when_shows_the_readers_zone_and_the_page_names_it_once():
    moment = datetime.datetime(2026, 3, 28, 23, 30, tzinfo=datetime.timezone.utc)
    with translation.override("en"), timezone.override("Africa/Niamey"):
        assert when(moment) == "29/03/2026 00:30"
        assert reader_zone() == "Niamey time (UTC+1)"
    with translation.override("fr"), timezone.override("Africa/Lome"):
        assert when(moment) == "28/03/2026 23:30"
        assert reader_zone() == "heure de Lomé (UTC+0)"


def test_in_zone_accepts_an_object_with_a_timezone():
    class Office:
        timezone = "Africa/Niamey"

    moment = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)
    with translation.override("fr"):
        assert in_zone(moment, Office()).startswith("01/01/2026 13:00")


def test_in_zone_without_a_value_shows_a_dash():
    assert in_zone(None, "Africa/Lome") == "—"


def test_can_filter_follows_the_role_table(forwarder_agent, forwarder_admin):
    assert can(forwarder_agent, "guarantee.request")
    assert not can(forwarder_agent, "organisation.invite")
    assert can(forwarder_admin, "organisation.invite")
    rendered = Template('{% load registry %}{% if user|can:"organisation.invite" %}yes{% else %}no{% endif %}').render(
        Context({"user": forwarder_agent})
    )
    assert rendered == "no"


def test_url_if_exists_is_empty_for_a_url_that_does_not_exist():
    assert url_if_exists("home") == "/"
    assert url_if_exists("guarantees:does_not_exist") == ""
    rendered = Template('{% load registry %}{% url_if_exists "nope:nothing" as u %}[{{ u }}]').render(Context())
    assert rendered == "[]"
