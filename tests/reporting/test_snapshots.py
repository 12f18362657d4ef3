"""Report snapshots (``reporting.snapshots``): a page shows figures a task read and kept, with their "as of"; they
are read again once stale, never in the request; a report nobody asked for yet is prepared in the background
while its page says so; one reader's filters or language never show another's figures."""

import base64
import json

import pytest
import redis
from django.urls import reverse

from benchmarks.releases import celery_broker
from reporting.tasks import refresh_report, refresh_report_defaults
from tests.processes import free_port, suite_redis_url
from tests.reporting.conftest import _declare

pytestmark = pytest.mark.django_db


def _available(response) -> int:
    report = response.context["report"]
    facts = {f.testid: f.value for s in report.sections for f in s.facts if f.testid}
    return facts["total-available"]


def exposure():
    return reverse("reporting:page", args=["bank-exposure"])


def test_kept_figures_are_shown_until_stale_then_read_again(world, settings):
    client = world.client(world.s.checker)
    first = client.get(exposure())
    assert first.status_code == 200 and _available(first) == 89_000_000
    assert 'data-testid="as-of"' in first.content.decode()

    _declare(world.togo, world.g1, "TG-SNAP-1", amount=1_000_000, days_ago=0)
    kept = client.get(exposure())
    assert _available(kept) == 89_000_000  # the snapshot, as of its moment
    assert kept.context["report"].as_of == first.context["report"].as_of

    settings.REPORT_SNAPSHOT_FRESH_SECONDS = 0  # every snapshot is stale: read again (here, in the request's task)
    again = client.get(exposure())
    assert _available(again) == 88_000_000
    assert again.context["report"].as_of > first.context["report"].as_of


def _taken_from_queue(client, queue: str) -> dict:
    """The next message of ``queue`` on the real broker, as a worker takes it: the task's keyword arguments."""
    raw = client.lpop(queue)
    assert raw is not None, f"nothing queued on {queue}"
    message = json.loads(raw)
    assert message["headers"]["task"] == "reporting.tasks.refresh_report"
    _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    return kwargs


def test_a_report_not_ready_says_so_and_refreshes_until_it_is(world):
    client = world.client(world.s.checker)
    redis_client = redis.Redis.from_url(suite_redis_url())
    redis_client.delete("bulk")
    with celery_broker(suite_redis_url()):  # queued to the real Redis, no worker yet
        waiting = client.get(exposure())
        assert waiting.status_code == 200 and waiting.context["report"] is None
        body = waiting.content.decode()
        assert 'data-testid="preparing"' in body and 'http-equiv="refresh"' in body
        # The export waits for it too: back to the page.
        export = client.get(reverse("reporting:export_xlsx", args=["bank-exposure"]))
        assert export.status_code == 302 and export["Location"].endswith(exposure())
        assert redis_client.llen("bulk") == 1  # one refresh at a time per snapshot, however many ask
        kwargs = _taken_from_queue(redis_client, "bulk")
    refresh_report.apply(kwargs=kwargs)  # the worker gets to it
    ready = client.get(exposure())
    assert _available(ready) == 89_000_000 and 'http-equiv="refresh"' not in ready.content.decode()
    redis_client.close()


def test_broker_down_the_page_reads_its_figures_itself(world):
    with celery_broker(f"redis://127.0.0.1:{free_port()}/0", publish_retries=0):  # nothing listens there
        response = world.client(world.s.checker).get(exposure())
    assert response.status_code == 200 and _available(response) == 89_000_000


def test_filters_and_languages_have_their_own_snapshots(world):
    client = world.client(world.s.checker, language="en")
    everyone = client.get(exposure())
    theirs = client.get(exposure(), {"principal": world.s2.forwarder.pk})  # not this bank's forwarder: refused
    assert theirs.status_code == 400
    mine = client.get(exposure(), {"principal": world.s.forwarder.pk})
    assert _available(mine) == 89_000_000 and _available(everyone) == 89_000_000
    french = world.client(world.s.checker, language="fr").get(exposure())
    assert "Disponible" in french.content.decode() and "Available" in everyone.content.decode()


def test_a_task_never_stores_under_a_key_its_reader_did_not_name(world):
    """A message naming another organisation's key (or a forged one) stores nothing."""
    from django.core.cache import cache

    refresh_report.run(slug="bank-exposure", user_id=world.s.checker.pk, language="en", params={},
                       key="report-snapshot:v1:bank-exposure:999999:en:forged")
    assert cache.get("report-snapshot:v1:bank-exposure:999999:en:forged") is None
    # Nor for a page that is not the reader's (a forwarder asking for a bank's report).
    refresh_report.run(slug="bank-exposure", user_id=world.s.agent.pk, language="en", params={},
                       key="anything")
    assert cache.get("anything") is None


def test_beat_keeps_the_opening_pages_of_banks_customs_and_the_secretariat(world):
    built = refresh_report_defaults.run()
    assert built >= 2 + 4 + 5  # a bank's two pages, a customs administration's four, the secretariat's five
    # The bank's page is there at once, read by beat: the request queues nothing.
    redis_client = redis.Redis.from_url(suite_redis_url())
    redis_client.delete("bulk", "celery")
    with celery_broker(suite_redis_url()):
        response = world.client(world.s.checker, language="fr").get(exposure())
    assert _available(response) == 89_000_000
    assert redis_client.llen("bulk") == 0 and redis_client.llen("celery") == 0
    redis_client.close()


def test_a_report_read_in_a_task_is_in_the_zone_of_its_readers_country(world):
    """Times in a snapshot are written when it is read, in a task with no request: in the zone the organisation's
    people read every other page in (Niger UTC+1, Togo UTC+0), not the worker's."""
    import datetime

    from reporting.snapshots import organisation_zone

    moment = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.timezone.utc)
    assert moment.astimezone(organisation_zone(world.niger)).utcoffset() == datetime.timedelta(hours=1)
    assert moment.astimezone(organisation_zone(world.togo)).utcoffset() == datetime.timedelta(0)
