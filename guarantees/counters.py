"""Counters in Django's cache that expire: rate limits of the API and wrong access codes.

``counter_incr`` adds one and returns the new count, starting the count (with its expiry) when there is none.
On Redis it is one round trip (``INCR`` and ``EXPIRE ... NX`` in one pipeline, atomic enough: the expiry is set
by whichever call created the key); Django's generic ``add`` then ``incr`` takes three on Redis, since its
``incr`` first asks whether the key exists. Other caches (LocMem in tests, the database cache of ``make run``)
use the generic path, which keeps each counter's end time beside it so that ``counter_get`` can say how long
it has left, as Redis's ``TTL`` does.

Redis down never fails a request: the counters go on in an in-process cache (``guarantees.cache``: per process,
with a warning in the log, until Redis answers again), so limits stay limits while it is away.
"""

import time
from typing import NamedTuple

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from guarantees.cache import REDIS_DOWN, local_counters, outage_of


class Counter(NamedTuple):
    count: int
    seconds_left: int | None  # None: unknown (no such counter, or a cache that cannot tell)


def _redis(backend: RedisCache):
    """One client per cache backend (per thread, as Django's caches are), kept: Django's ``get_client`` builds a
    new ``redis.Redis`` for every call, about 0.5 ms of CPU spent filling its table of reply parsers."""
    client = getattr(backend, "_counters_client", None)
    if client is None:
        client = backend._counters_client = backend._cache.get_client(None, write=True)
    return client


def _on_redis(backend, run):
    """``run(client)`` on the backend's Redis; ``None`` when Redis is down (the caller then counts locally)."""
    outage = outage_of(backend)
    if not outage.usable():
        return None
    try:
        result = run(_redis(backend))
    except REDIS_DOWN as exc:
        outage.failed(exc)
        return None
    outage.recovered()
    return result


def _backend():
    """``(backend, redis)``: the default cache, and whether to try its Redis first."""
    backend = caches["default"]
    return backend, isinstance(backend, RedisCache)


def counter_incr(key: str, *, timeout: int) -> int:
    """Add one to the counter ``key`` (created with ``timeout`` seconds to live) and return its value."""
    backend, on_redis = _backend()
    if on_redis:
        full_key = backend.make_and_validate_key(key)

        def incr(client):
            pipeline = client.pipeline(transaction=False)
            pipeline.incr(full_key)
            pipeline.expire(full_key, timeout, nx=True)
            return int(pipeline.execute()[0])

        count = _on_redis(backend, incr)
        if count is not None:
            return count
        backend = local_counters(backend)
    return _generic_incr(backend, key, timeout)


def _until(key: str) -> str:
    return f"{key}:until"


def _generic_incr(cache, key: str, timeout: int) -> int:
    if cache.add(key, 1, timeout=timeout):
        cache.set(_until(key), time.time() + timeout, timeout=timeout)
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        cache.set(_until(key), time.time() + timeout, timeout=timeout)
        return 1


def counter_get(key: str) -> Counter:
    """The counter ``key`` (0 when there is none) and the seconds it has left to live, in one round trip."""
    backend, on_redis = _backend()
    if on_redis:
        full_key = backend.make_and_validate_key(key)

        def read(client):
            pipeline = client.pipeline(transaction=False)
            pipeline.get(full_key)
            pipeline.ttl(full_key)
            return pipeline.execute()

        found = _on_redis(backend, read)
        if found is not None:
            value, ttl = found
            return Counter(int(value or 0), ttl if value is not None and ttl >= 0 else None)
        backend = local_counters(backend)
    values = backend.get_many([key, _until(key)])
    count = int(values.get(key) or 0)
    until = values.get(_until(key))
    return Counter(count, max(0, round(until - time.time())) if count and until is not None else None)


def members_add(key: str, member: str, *, timeout: int) -> None:
    """Add ``member`` to the set ``key`` (created with ``timeout`` seconds to live; later additions do not push
    the end back). Atomic on Redis; elsewhere a read and a write, which may lose one of two concurrent
    additions — these sets only name who is counted, for an alert."""
    backend, on_redis = _backend()
    if on_redis:
        full_key = backend.make_and_validate_key(key)

        def add(client):
            pipeline = client.pipeline(transaction=False)
            pipeline.sadd(full_key, member)
            pipeline.expire(full_key, timeout, nx=True)
            return pipeline.execute()

        if _on_redis(backend, add) is not None:
            return
        backend = local_counters(backend)
    members = set(backend.get(key) or ())
    if member not in members:
        members.add(member)
        backend.set(key, members, timeout=timeout)


def members_get(key: str) -> set[str]:
    """The members of the set ``key`` (empty when there is none)."""
    backend, on_redis = _backend()
    if on_redis:
        full_key = backend.make_and_validate_key(key)
        found = _on_redis(backend, lambda client: client.smembers(full_key))
        if found is not None:
            return {m.decode() if isinstance(m, bytes) else m for m in found}
        backend = local_counters(backend)
    return set(backend.get(key) or ())
