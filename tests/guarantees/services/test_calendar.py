"""Working-day deadlines: weekends and public holidays (data, per country) are skipped."""

import datetime

import pytest
from django.core.management import call_command

from guarantees.models import PublicHoliday
from guarantees.reference.importer import reference_import
from guarantees.reference.holidays import holidays_seed
from guarantees.services.calendar import is_working_day, working_days_add, working_deadline
from guarantees.services.claims import claim_issue
from guarantees.services.enquiries import enquiry_open
from tests.factories import country

pytestmark = pytest.mark.django_db

UTC = datetime.timezone.utc
D = datetime.date


@pytest.fixture
def bf_holiday():
    country("BF"), country("TG")
    return PublicHoliday.objects.create(country_id="BF", date=D(2026, 12, 11), name="Fête nationale",
                                        recurs_yearly=True)


def test_weekends_are_skipped():
    country("BF")
    # Thursday 3 Dec 2026 + 5 working days: Fri 4, Mon 7, Tue 8, Wed 9, Thu 10.
    assert working_days_add(country="BF", start=D(2026, 12, 3), days=5) == D(2026, 12, 10)
    # From a Saturday, the first working day is Monday.
    assert working_days_add(country="BF", start=D(2026, 12, 5), days=1) == D(2026, 12, 7)
    assert working_days_add(country="BF", start=D(2026, 12, 5), days=0) == D(2026, 12, 5)


def test_a_public_holiday_and_a_weekend_are_skipped(bf_holiday):
    # Wednesday 9 Dec 2026 + 5: Thu 10, (Fri 11 national day, Sat, Sun), Mon 14, Tue 15, Wed 16, Thu 17.
    assert working_days_add(country="BF", start=D(2026, 12, 9), days=5) == D(2026, 12, 17)
    assert not is_working_day(country="BF", day=D(2026, 12, 11))
    # Togo's calendar does not have Burkina Faso's national day.
    assert working_days_add(country="TG", start=D(2026, 12, 9), days=5) == D(2026, 12, 16)


def test_a_yearly_holiday_recurs_in_later_years(bf_holiday):
    PublicHoliday.objects.create(country_id="BF", date=D(2026, 1, 1), name="Jour de l'An", recurs_yearly=True)
    # Wed 30 Dec 2026 + 2: Thu 31, (Fri 1 Jan 2027, weekend), Mon 4 Jan 2027.
    assert working_days_add(country="BF", start=D(2026, 12, 30), days=2) == D(2027, 1, 4)
    # The national day on weekdays of later years is no working day; the weekdays around it are.
    assert not is_working_day(country="BF", day=D(2028, 12, 11))  # a Monday, the national day
    assert not is_working_day(country="BF", day=D(2029, 12, 11))  # a Tuesday, the national day
    assert not is_working_day(country="BF", day=D(2027, 1, 1))  # a Friday, New Year's day
    assert is_working_day(country="BF", day=D(2028, 12, 12))  # the Tuesday after
    assert is_working_day(country="BF", day=D(2029, 12, 10))  # the Monday before
    assert is_working_day(country="TG", day=D(2028, 12, 11))  # Burkina Faso's day, not Togo's


def test_a_movable_holiday_counts_only_in_its_year():
    country("ML")
    PublicHoliday.objects.create(country_id="ML", date=D(2026, 5, 27), name="Tabaski")  # a Wednesday
    assert not is_working_day(country="ML", day=D(2026, 5, 27))
    assert is_working_day(country="ML", day=D(2027, 5, 27))


def test_the_deadline_is_the_end_of_the_last_working_day_in_the_country_zone(bf_holiday):
    niger = country("NE")
    due, deadline = working_deadline(country=niger, at=datetime.datetime(2026, 12, 9, 23, 30, tzinfo=UTC), days=1)
    # 23:30 UTC on the 9th is already the 10th in Niamey (UTC+1): the first working day after is Friday 11.
    assert due == D(2026, 12, 11)
    assert deadline == datetime.datetime(2026, 12, 11, 23, 0, tzinfo=UTC)


def test_a_claim_issued_before_a_holiday_weekend_gets_five_working_days(world, bf_holiday):
    issued = datetime.datetime(2026, 12, 9, 10, 0, tzinfo=UTC)  # a Wednesday
    transit = world.declare(declared_at=issued - datetime.timedelta(days=90))
    enquiry_open(transit=transit, by=world.s.officer, ground="overdue", reason="x",
                 now=issued - datetime.timedelta(days=45))
    claim = claim_issue(transit=transit, by=world.s.supervisor, grounds="x", now=issued)
    assert claim.examination_due == D(2026, 12, 17)  # the bank is in Burkina Faso
    assert claim.examination_deadline == datetime.datetime(2026, 12, 18, 0, 0, tzinfo=UTC)


def test_the_seed_creates_the_illustrative_holidays_once(db):
    reference_import()
    created = holidays_seed()
    assert created >= 20
    assert PublicHoliday.objects.filter(country_id="BF", date=D(2026, 12, 11), is_illustrative=True).exists()
    assert PublicHoliday.objects.filter(country_id="ML", date=D(2026, 9, 22)).exists()
    assert PublicHoliday.objects.filter(country_id="NE", date=D(2026, 12, 18)).exists()
    assert PublicHoliday.objects.filter(country_id="TG", date=D(2026, 4, 27)).exists()
    call_command("seed_holidays", verbosity=0)
    assert PublicHoliday.objects.count() == created
