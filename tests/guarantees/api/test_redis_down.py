"""Redis down (nothing listening on its port): the cache, the counters under the API's limits and the publishing of
tasks go on without it, each with one warning in the log, and no request fails.

Before, the counters called Redis on every request and let its ``ConnectionError`` through: every API call was a
500. The limits do not turn off meanwhile: they count in process memory (``guarantees.cache``).
"""

import logging
import socket
import time

import pytest
from django.core.cache import cache, caches
from django.test import override_settings

from guarantees.cache import outages_forget
from config.settings.base import redis_cache
from guarantees.counters import counter_get, counter_incr, members_add, members_get
from tests.guarantees.api.conftest import declaration

pytestmark = pytest.mark.django_db


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again: connecting is refused


@pytest.fixture
def redis_down():
    outages_forget()
    with override_settings(CACHES={"default": redis_cache(f"redis://127.0.0.1:{_dead_port()}/0")},
                           REDIS_OUTAGE_RETRY_SECONDS=60, REDIS_OUTAGE_LOG_SECONDS=60):
        yield caches["default"]
    outages_forget()


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "guarantees.cache" and r.levelno == logging.WARNING]


def test_counters_count_in_process_memory_with_one_warning(redis_down, caplog):
    caplog.set_level(logging.WARNING, logger="guarantees.cache")
    started = time.monotonic()
    assert [counter_incr("c", timeout=30) for _ in range(200)] == list(range(1, 201))
    count, left = counter_get("c")
    assert count == 200 and 29 <= left <= 30
    members_add("m", "apikey:1", timeout=30)
    members_add("m", "user:2", timeout=30)
    assert members_get("m") == {"apikey:1", "user:2"}
    # Redis was tried once, then left alone: 200 increments cost milliseconds, and the log says it once.
    assert time.monotonic() - started < 1
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "unreachable" in warnings[0]


def test_the_cache_falls_back_to_process_memory(redis_down, caplog):
    caplog.set_level(logging.WARNING, logger="guarantees.cache")
    assert cache.add("lock", 1, timeout=10) is True and cache.add("lock", 1, timeout=10) is False
    cache.set("k", {"a": 1}, timeout=10)
    assert cache.get("k") == {"a": 1} and cache.get_many(["k", "absent"]) == {"k": {"a": 1}}
    assert cache.incr("lock") == 2
    with pytest.raises(ValueError):
        cache.incr("absent")  # as on Redis: a missing key is the caller's to handle
    cache.delete("k")
    assert cache.get("k", "default") == "default"
    assert len(_warnings(caplog)) == 1


def test_the_warning_is_repeated_at_most_once_a_period(redis_down, caplog, settings):
    settings.REDIS_OUTAGE_RETRY_SECONDS = 0  # try Redis on every call, to show the logging is what is limited
    settings.REDIS_OUTAGE_LOG_SECONDS = 3600
    caplog.set_level(logging.WARNING, logger="guarantees.cache")
    for _ in range(50):
        counter_incr("c", timeout=30)
    assert len(_warnings(caplog)) == 1


@override_settings(API_THROTTLE_RATES={"api_key": "3/m", "user": "3/m", "anon": "3/m"})
def test_the_api_answers_and_its_rate_limit_still_holds(world, redis_down):
    client = world.key_client("TG")
    for _ in range(3):
        assert client.get("/api/v1/transits").status_code == 200
    response = client.get("/api/v1/transits")
    assert response.status_code == 429 and response.json()["code"] == "throttled"
    assert world.key_client("BF").get("/api/v1/transits").status_code == 200


@override_settings(REGISTRY_ACCESS_CODE_MAX_FAILURES=3)
def test_declarations_go_through_and_wrong_codes_are_still_slowed_down(world, redis_down):
    client = world.key_client("TG")
    response = client.post("/api/v1/transits", declaration(world), format="json")
    assert response.status_code == 201, response.content
    wrong = "ZZZZ" if world.code != "ZZZZ" else "YYYY"
    statuses = [client.post(f"/api/v1/guarantees/{world.guarantee.grn}/check", {"access_code": wrong},
                            format="json").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    assert world.key_client("ML").post(f"/api/v1/guarantees/{world.guarantee.grn}/check",
                                       {"access_code": world.code}, format="json").status_code == 200


def test_publishing_to_a_dead_broker_fails_fast_after_the_first_try(caplog, settings):
    """The broker is Redis too: after one failed publish, tasks are not even tried for a few seconds (the
    stored rows wait for the sweeps), so each request that queues work does not pay the broker's timeouts."""
    from kombu.exceptions import OperationalError

    from benchmarks.releases import celery_broker
    from guarantees.queue import BrokerUnavailable
    from guarantees.tasks import apply_transit_event

    settings.REDIS_OUTAGE_RETRY_SECONDS = 60
    caplog.set_level(logging.WARNING, logger="guarantees.cache")
    outages_forget()
    with celery_broker(f"redis://127.0.0.1:{_dead_port()}/0", publish_retries=0):
        with pytest.raises(OperationalError):
            apply_transit_event.delay(1)
        started = time.monotonic()
        for _ in range(100):
            with pytest.raises(BrokerUnavailable):
                apply_transit_event.delay(1)
        assert time.monotonic() - started < 0.5
    outages_forget()
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "Celery broker" in warnings[0]
