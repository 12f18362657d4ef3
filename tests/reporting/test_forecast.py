"""The headroom forecast on known series, and its alert: once when the day comes within 14 days, not every day."""

import datetime

import pytest
from django.utils import timezone

from guarantees.forecast import headroom_forecast
from guarantees.models import AlertKind, GuaranteeAlert, Notification
from guarantees.operations.sweeps import headroom_alerts_sweep
from guarantees.selectors.pace import guarantees_pace
from guarantees.tasks import sweep_headroom_forecasts

TODAY = datetime.date(2026, 3, 2)


@pytest.mark.parametrize(
    ("available", "held", "released", "expected"),
    [
        # 30 000 000 net over 30 days = 1 000 000 a day: 10 000 000 lasts 10 days.
        (10_000_000, 40_000_000, 10_000_000, datetime.date(2026, 3, 12)),
        # 7 000 000 net over 30 days: 700 000 / (7 000 000 / 30) = 3 days exactly.
        (700_000, 7_000_000, 0, datetime.date(2026, 3, 5)),
        # 1 000 001 at 1 000 000 a day: the 2nd day no longer fits a day's draw; rounded down to 1 day.
        (1_000_001, 30_000_000, 0, datetime.date(2026, 3, 3)),
        # Releases keep up with holds: never runs out.
        (5_000_000, 10_000_000, 10_000_000, None),
        (5_000_000, 0, 0, None),
        (5_000_000, 10_000_000, 12_000_000, None),
        # Nothing available: out today, whatever the pace.
        (0, 0, 0, TODAY),
    ],
)
def test_forecast_on_known_series(available, held, released, expected):
    forecast = headroom_forecast(available=available, held_in_window=held, released_in_window=released, today=TODAY)
    assert forecast.runs_out_on == expected


def test_forecast_figures():
    forecast = headroom_forecast(available=10_000_000, held_in_window=40_000_000, released_in_window=10_000_000,
                                 today=TODAY)
    assert forecast.net_per_day == 1_000_000 and forecast.days_left(TODAY) == 10


@pytest.mark.django_db
def test_pace_reads_holds_and_releases_from_the_ledger(world):
    since = timezone.now() - datetime.timedelta(days=30)
    pace = guarantees_pace(guarantee_ids=[world.g1.pk, world.g2.pk], since=since)
    # G1 took 4 500 000 + 10 000 000 + 2 000 000 + 3 000 000 and gave back 4 000 000 + 3 000 000 + 500 000.
    assert pace[world.g1.pk] == (19_500_000, 7_500_000)
    assert pace[world.g2.pk] == (1_000_000, 0)
    assert guarantees_pace(guarantee_ids=[world.g1.pk], since=timezone.now() + datetime.timedelta(seconds=1)) == {}


@pytest.mark.django_db
def test_the_alert_is_given_once_and_again_after_it_clears(world, settings, django_capture_on_commit_callbacks):
    # G1: available 89 000 000 at a net 12 000 000 per 30 days → 222 days. With a 14-day horizon, no alert;
    # with 300 days, an alert to the forwarder and to the bank, once.
    assert headroom_alerts_sweep() == (0, 0)
    settings.REGISTRY_HEADROOM_ALERT_DAYS = 300
    with django_capture_on_commit_callbacks(execute=False):
        assert headroom_alerts_sweep() == (1, 0)
        assert headroom_alerts_sweep() == (0, 0)  # the next day: not again
        sweep_headroom_forecasts()
    alert = GuaranteeAlert.objects.get(kind=AlertKind.HEADROOM)
    assert alert.guarantee_id == world.g1.pk and alert.cleared_at is None
    assert alert.valid_until == timezone.now().date() + datetime.timedelta(days=89_000_000 * 30 // 12_000_000)
    notices = Notification.objects.filter(event="headroom_forecast")
    recipients = {n.recipient_id for n in notices}
    assert world.s.agent.pk in recipients and world.s.checker.pk in recipients
    assert world.s2.agent.pk not in recipients
    notice = notices.filter(recipient=world.s.agent).get()
    assert "89" in notice.body and world.g1.grn in notice.subject
    # The forecast moves beyond the horizon: cleared, and given again when it comes back.
    settings.REGISTRY_HEADROOM_ALERT_DAYS = 14
    assert headroom_alerts_sweep() == (0, 1)
    settings.REGISTRY_HEADROOM_ALERT_DAYS = 300
    with django_capture_on_commit_callbacks(execute=False):
        assert headroom_alerts_sweep() == (1, 0)
    assert GuaranteeAlert.objects.filter(kind=AlertKind.HEADROOM).count() == 2


@pytest.mark.django_db
def test_the_notice_reads_in_both_languages(world, settings):
    from django.utils import translation

    settings.REGISTRY_HEADROOM_ALERT_DAYS = 300
    headroom_alerts_sweep()
    notice = Notification.objects.filter(event="headroom_forecast", recipient=world.s.agent).get()
    with translation.override("en"):
        assert notice.subject.startswith("The guarantee")
    with translation.override("fr"):
        assert notice.subject.startswith("La garantie") or notice.subject.startswith("La caution")


def test_the_home_page_shows_the_ten_nearest_run_outs_and_how_many_more(db):
    """A large forwarder's hundreds of guarantees are on the report page; its home page lists the ten that run out
    first, and says how many more there are."""
    from django.test import Client

    from tests.accounts.helpers import give_totp, sign_in_as
    from tests.builders import active_guarantee, scene

    s = scene("BF")
    guarantees = [active_guarantee(s, amount=10_000_000 + i) for i in range(12)]
    give_totp(s.agent)
    client = sign_in_as(Client(), s.agent)
    page = client.get("/").content.decode()
    shown = [g for g in guarantees if f'data-testid="forecast-{g.pk}"' in page]
    assert len(shown) == 10
    assert 'data-testid="forecast-more"' in page and "2 autres garanties" in page
