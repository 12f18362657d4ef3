"""Rate limits of the API, counted in Django's cache (Redis in production, LocMem in tests).

DRF's ``SimpleRateThrottle`` keeps the timestamp of every request in the window, which costs a list of
thousands of floats per call at the rates a customs system sends. This throttle keeps one counter per caller
and fixed window instead (``guarantees.counters``: one round trip to Redis).
"""

import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from accounts.network import client_ip
from guarantees.counters import counter_incr

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"2000/s"`` → ``(2000, 1)``; ``None`` or ``""`` → no limit."""
    if not rate:
        return None
    number, _slash, period = rate.partition("/")
    return int(number), _PERIODS[period.strip()[0].lower()]


class CallerRateThrottle(BaseThrottle):
    """Per caller: an API key (``API_THROTTLE_RATES["api_key"]``) or a person (``["user"]``)."""

    def __init__(self):
        self.wait_seconds: float | None = None

    def _scope_and_ident(self, request) -> tuple[str, str]:
        user = request.user
        ident = getattr(user, "throttle_ident", None)
        if ident:
            return "api_key", ident
        if user is not None and user.is_authenticated:
            return "user", f"user:{user.pk}"
        # DRF's get_ident() believes whatever X-Forwarded-For the client sends: one reading of the address for
        # the whole site instead, behind REGISTRY_TRUSTED_PROXY_COUNT proxies.
        return "anon", f"anon:{client_ip(request)}"

    def allow_request(self, request, view) -> bool:
        scope, ident = self._scope_and_ident(request)
        parsed = parse_rate(settings.API_THROTTLE_RATES.get(scope))
        if parsed is None:
            return True
        limit, period = parsed
        now = time.time()
        window = int(now // period)
        count = counter_incr(f"api-throttle:{scope}:{ident}:{period}:{window}", timeout=period + 1)
        if count > limit:
            self.wait_seconds = max(1.0, (window + 1) * period - now)
            return False
        return True

    def wait(self) -> float | None:
        return self.wait_seconds
