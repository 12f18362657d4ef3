"""Amounts and moments as the registry writes them (``guarantees.formats``)."""

import datetime
import zoneinfo

import pytest
from django.utils import formats, translation
from hypothesis import given, settings
from hypothesis import strategies as st

from guarantees.formats import _strftime_pattern, format_fcfa, format_moment

NIAMEY = zoneinfo.ZoneInfo("Africa/Niamey")


@pytest.mark.parametrize("language", ["fr", "en"])
@settings(max_examples=200, deadline=None)
@given(moment=st.datetimes(min_value=datetime.datetime(1, 1, 2), max_value=datetime.datetime(2200, 1, 1),
                           timezones=st.just(datetime.timezone.utc)))
def test_a_moment_reads_as_djangos_own_formatting_of_the_language(language, moment):
    with translation.override(language):
        expected = formats.date_format(moment.astimezone(NIAMEY), "SHORT_DATETIME_FORMAT")
        assert format_moment(moment, NIAMEY) == expected


def test_a_format_only_django_knows_is_left_to_django():
    assert _strftime_pattern("d/m/Y H:i") == "%d/%m/%Y %H:%M"
    assert _strftime_pattern("d.m.Y à H\\hi") is None  # an escape
    assert _strftime_pattern("j N Y, P") is None  # letters strftime writes otherwise
    assert _strftime_pattern("d/m/Y 100%") == "%d/%m/%Y 100%%"
    moment = datetime.datetime(2026, 12, 7, 9, 5, tzinfo=datetime.timezone.utc)
    assert format_moment(moment, NIAMEY) == "07/12/2026 10:05"


def test_amounts_whole_francs_with_narrow_spaces():
    assert format_fcfa(12_500_000) == "12\u202f500\u202f000\u00a0FCFA"
    assert format_fcfa(-1500) == "-1\u202f500\u00a0FCFA"
    assert format_fcfa("7000") == "7\u202f000\u00a0FCFA"
    assert format_fcfa(None) == "—"
