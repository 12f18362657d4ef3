"""Counters in Django's cache that expire: rate limits of the API and wrong access codes.

``counter_incr`` adds one and returns the new count, starting the count (with its expiry) when there is none.
On Redis it is one round trip (``INCR`` and ``EXPIRE ... NX`` in one pipeline, atomic enough: the expiry is set
by whichever call created the key); Django's generic ``add`` then ``incr`` takes three on Redis, since its
``incr`` first asks whether the key exists. Other caches (LocMem in tests, the database cache of ``make run``)
use the generic path.
"""

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache


def _redis(backend: RedisCache):
    """One client per cache backend (per thread, as Django's caches are), kept: Django's ``get_client`` builds a
    new ``redis.Redis`` for every call, about 0.5 ms of CPU spent filling its table of reply parsers."""
    client = getattr(backend, "_counters_client", None)
    if client is None:
        client = backend._counters_client = backend._cache.get_client(None, write=True)
    return client


def counter_incr(key: str, *, timeout: int) -> int:
    """Add one to the counter ``key`` (created with ``timeout`` seconds to live) and return its value."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        pipeline = _redis(backend).pipeline(transaction=False)
        pipeline.incr(full_key)
        pipeline.expire(full_key, timeout, nx=True)
        count, _expiry_set = pipeline.execute()
        return int(count)
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


def counters_get(keys: list[str]) -> list[int]:
    """The current values of the counters ``keys`` (0 for those that do not exist), in one round trip."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        values = _redis(backend).mget([backend.make_and_validate_key(key) for key in keys])
        return [int(value or 0) for value in values]
    found = cache.get_many(keys)
    return [int(found.get(key) or 0) for key in keys]
