"""The guarantees' tests: ``world`` is the world of enquiries, releases and claims (``tests.builders.cases_world``);
the background work's folder and the modules that need the lean world (``transits_world``) say so."""

import pytest
from django.core.cache import cache

from benchmarks.releases import celery_broker
from tests.builders import World, cases_world
from tests.processes import flushed_redis, suite_redis_url


@pytest.fixture
def world(db, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return cases_world()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle, access-code and outage counters live in the cache (LocMem in tests): no test inherits another's.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def broker(transactional_db):
    """This test process queues tasks to the real Redis (not eagerly) for the length of the test; no worker takes
    them unless the test starts one (``start_worker``) or runs them itself."""
    url = suite_redis_url()
    with flushed_redis(url), celery_broker(url):
        yield url
