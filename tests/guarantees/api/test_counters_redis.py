"""The counters behind the API's limits (``guarantees/counters.py``) on the real Redis, as in production: the
rate limit per key and the wrong access codes, each one round trip, expiring, exact under concurrency.

The rest of the suite caches in LocMem (config/settings/test.py), which takes the generic path; these tests
run the Redis path (pipeline INCR + EXPIRE NX, MGET) against the machine's Redis, in a database of its own.
"""

import os
import threading

import pytest
from django.core.cache import caches
from django.test import override_settings

from guarantees.counters import counter_get, counter_incr
from tests.guarantees.api.conftest import declaration
from tests.processes import flushed_redis

pytestmark = pytest.mark.django_db

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _url() -> str:
    """A database of the machine's Redis for these tests (``TEST_REDIS_DB_BASE`` + 7, default 12, + n under
    xdist), never the broker's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    n = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    base = REDIS.rsplit("/", 1)[0] if REDIS.count("/") >= 3 else REDIS
    return f"{base}/{(int(os.environ.get('TEST_REDIS_DB_BASE', '5')) + 7 + n) % 16}"


@pytest.fixture
def redis_cache():
    url = _url()
    with flushed_redis(url) as client, override_settings(CACHES={"default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}):
        caches["default"]  # noqa: B018 - the overridden backend, fresh for this test
        yield client


def test_a_counter_counts_and_expires(redis_cache):
    assert [counter_incr("c", timeout=30) for _ in range(3)] == [1, 2, 3]
    key = caches["default"].make_and_validate_key("c")
    assert 0 < redis_cache.ttl(key) <= 30
    # The expiry is set once, by the call that created the counter: later calls do not push it back.
    redis_cache.expire(key, 5)
    counter_incr("c", timeout=30)
    assert redis_cache.ttl(key) <= 5
    assert counter_get("c") == (4, redis_cache.ttl(key)) and counter_get("absent") == (0, None)


def test_a_counter_is_exact_under_concurrent_callers(redis_cache):
    def hit():
        for _ in range(50):
            counter_incr("busy", timeout=30)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter_get("busy").count == 400


@override_settings(API_THROTTLE_RATES={"api_key": "3/m", "user": "3/m", "anon": "3/m"})
def test_the_rate_limit_counts_in_redis(world, redis_cache):
    client = world.key_client("TG")
    for _ in range(3):
        assert client.get("/api/v1/transits").status_code == 200
    response = client.get("/api/v1/transits")
    assert response.status_code == 429 and response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert world.key_client("BF").get("/api/v1/transits").status_code == 200


@override_settings(REGISTRY_ACCESS_CODE_MAX_FAILURES=3, REGISTRY_ACCESS_CODE_WINDOW_SECONDS=600)
def test_wrong_access_codes_count_in_redis(world, redis_cache):
    client = world.key_client("TG")
    wrong = "ZZZZ" if world.code != "ZZZZ" else "YYYY"
    for i in range(3):
        response = client.post("/api/v1/transits", data=declaration(world, declaration_ref=f"TG-R-{i}", access_code=wrong),
                               content_type="application/json")
        assert response.status_code == 404
    # Now this key is refused on this GRN even with the right code, for the time its counter has left...
    redis_cache.expire(caches["default"].make_and_validate_key(_caller_key(world, "TG")), 77)
    response = client.post("/api/v1/transits", data=declaration(world, declaration_ref="TG-R-OK", access_code=world.code),
                           content_type="application/json")
    assert response.status_code == 429 and response.json()["code"] == "too_many_attempts"
    assert response["Retry-After"] == "77" and response.json()["retry_after"] == 77
    # ... and another administration's key with the right code is not.
    response = world.key_client("ML").post(
        "/api/v1/guarantees/" + world.guarantee.grn + "/check", {"access_code": world.code}, format="json")
    assert response.status_code == 200
    # One counter for this caller on this GRN, one for the GRN (alerts only) and the set of who tried.
    keys = [key.decode() for key in redis_cache.keys("*access-code-failures*")]
    assert len(keys) == 3 and all(0 < redis_cache.ttl(key) <= 600 for key in keys)


def _caller_key(world, country: str) -> str:
    from guarantees.grn import grn_normalise
    from guarantees.services.access_codes import _caller_key as key

    return key(grn=grn_normalise(world.guarantee.grn), caller=f"apikey:{world.keys[country].pk}")
