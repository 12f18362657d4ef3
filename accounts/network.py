"""The client's address, read one way everywhere: sign-in throttling, the API's limits, the verify page.

Behind ``REGISTRY_TRUSTED_PROXY_COUNT`` reverse proxies, each of which appends the address it received the
request from to ``X-Forwarded-For``, the client is the rightmost address that no trusted proxy wrote:
``X-Forwarded-For[-count]``. Anything to the left of it was written by the client itself and proves nothing
(a spoofed header changes nothing). With no trusted proxy (the default) the header is ignored and the client is
the peer of the socket (``REMOTE_ADDR``).
"""

import ipaddress

from django.conf import settings


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # "192.0.2.1:443"
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's address as the trusted proxies saw it; ``"unknown"`` if none can be read."""
    peer = _clean(request.META.get("REMOTE_ADDR"))
    count = getattr(settings, "REGISTRY_TRUSTED_PROXY_COUNT", 0)
    if count > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= count:
            # Our nearest proxy wrote hops[-1], the one before it hops[-2]...: the count-th from the right is the
            # address the outermost trusted proxy received the request from.
            return _clean(hops[-count]) or peer or "unknown"
        # Fewer hops than proxies: the request did not come through them all (a misconfiguration, or a request
        # reaching the application directly). The peer is the only address not written by the client.
    return peer or "unknown"
