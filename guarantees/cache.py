"""Redis being down costs a request milliseconds and a warning in the log, never an error.

The cache (rate limits of the API and of sign-in, wrong access codes, the verify page's limit, allauth's
one-time TOTP marks and locks) and the Celery broker live in Redis; PostgreSQL is the source of truth. When
Redis stops answering, each process keeps going on its own:

* ``ResilientRedisCache`` (the default cache when ``REDIS_URL`` is set) serves every operation from a small
  in-process cache (``LocMemCache``) until Redis answers again. Limits keep counting, per process, instead of
  turning off: an attacker who could stop Redis would otherwise get unlimited guesses of access codes. Keys
  written during the outage are forgotten when Redis is back, which only ever lets a request through.
* ``Outage`` is the breaker behind it (and behind ``guarantees.counters`` and the publishing of tasks in
  ``config.celery``): after a failure, Redis is left alone for ``REDIS_OUTAGE_RETRY_SECONDS``, so a dead or
  frozen server costs one short socket timeout per process and period, not one per request; the warning is
  logged when the outage starts, then at most once every ``REDIS_OUTAGE_LOG_SECONDS``, and its end is logged.
"""

import logging
import re
import threading
import time

import redis
from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

# What an unreachable, restarting or frozen Redis raises (BusyLoadingError is a ConnectionError).
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

FALLBACK_MAX_ENTRIES = 10_000


def redacted(url: str) -> str:
    """A server's address for the log, without its password."""
    return re.sub(r"//[^@/]*@", "//***@", url)


class Outage:
    """What this process knows of one server being unreachable; shared by every thread of the process."""

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()
        self._retry_at = 0.0  # monotonic time before which the server is not tried again
        self._since: float | None = None
        self._logged_at = 0.0
        self._failures = 0

    def usable(self) -> bool:
        """Whether to try the server now: it is up, or the pause after its last failure is over."""
        return time.monotonic() >= self._retry_at

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            self._retry_at = now + getattr(settings, "REDIS_OUTAGE_RETRY_SECONDS", 5)
            self._failures += 1
            first = self._since is None
            if first:
                self._since = now
            if not first and now - self._logged_at < getattr(settings, "REDIS_OUTAGE_LOG_SECONDS", 60):
                return
            self._logged_at = now
            failures, self._failures = self._failures, 0
            since = now - self._since
        if first:
            logger.warning("%s is unreachable (%s: %s); going on without it", self.name, type(exc).__name__, exc)
        else:
            logger.warning("%s still unreachable after %.0f s (%s failure(s) since the last report; %s: %s)",
                           self.name, since, failures, type(exc).__name__, exc)

    def recovered(self) -> None:
        if self._since is None:  # the usual case, without taking the lock
            return
        with self._lock:
            if self._since is None:
                return
            down_for, self._since, self._failures = time.monotonic() - self._since, None, 0
            self._retry_at = 0.0
        logger.warning("%s answers again after %.0f s", self.name, down_for)

    def reset(self) -> None:
        """Forget any outage (tests)."""
        with self._lock:
            self._retry_at, self._since, self._failures = 0.0, None, 0


_outages: dict[str, Outage] = {}
_outages_lock = threading.Lock()


def outage_for(name: str) -> Outage:
    """The one ``Outage`` of this process for ``name`` (a server's role and redacted address)."""
    with _outages_lock:
        return _outages.setdefault(name, Outage(name))


_plain_fallbacks: dict[str, LocMemCache] = {}


def outages_forget() -> None:
    """Forget every outage this process knows of (tests that stop and start servers)."""
    with _outages_lock:
        for outage in _outages.values():
            outage.reset()


def _fallback_for(name: str, params: dict) -> LocMemCache:
    # LocMemCache instances of one name share their storage: every thread of the process sees the same counts.
    return LocMemCache(f"redis-fallback:{name}", {
        "TIMEOUT": params.get("TIMEOUT", 300), "KEY_PREFIX": params.get("KEY_PREFIX", ""),
        "VERSION": params.get("VERSION", 1), "KEY_FUNCTION": params.get("KEY_FUNCTION"),
        "OPTIONS": {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES},
    })


def local_counters(backend) -> LocMemCache:
    """The in-process cache that stands in for ``backend``'s Redis: its own fallback when it has one (this
    module's backend), else one per server for a plain ``RedisCache``."""
    fallback = getattr(backend, "fallback", None)
    if fallback is not None:
        return fallback
    name = redacted(backend._servers[0])
    if name not in _plain_fallbacks:
        _plain_fallbacks[name] = _fallback_for(name, {})
    return _plain_fallbacks[name]


def outage_of(backend) -> Outage:
    outage = getattr(backend, "outage", None)
    return outage if outage is not None else outage_for(f"Redis cache {redacted(backend._servers[0])}")


class ResilientRedisCache(RedisCache):
    """Django's ``RedisCache``, served from an in-process cache while Redis is unreachable (see the module)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        name = redacted(self._servers[0])
        self.outage = outage_for(f"Redis cache {name}")
        self.fallback = _fallback_for(name, params)

    def _either(self, operation: str, *args, **kwargs):
        if self.outage.usable():
            try:
                result = getattr(RedisCache, operation)(self, *args, **kwargs)
            except REDIS_DOWN as exc:
                self.outage.failed(exc)
            else:
                self.outage.recovered()
                return result
        return getattr(self.fallback, operation)(*args, **kwargs)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._either("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._either("delete", key, version)

    def get_many(self, keys, version=None):
        return self._either("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._either("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._either("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._either("delete_many", keys, version)

    def clear(self):
        self.fallback.clear()
        return self._either("clear")
