"""Is this process ready to serve? The checks behind ``/readyz`` (``guarantees.web.probes``).

Each check answers ``True`` or raises; ``readiness`` runs them side by side in threads and gives up on any that is
not done within ``HEALTH_CHECK_TIMEOUT_SECONDS`` (below one second), so a dead or frozen PostgreSQL or Redis turns
the probe to 503 quickly instead of hanging it. What is checked, and nothing more is said outside (no host name,
no error text: the probe is public to whoever reaches the port):

- ``database``: a connection of its own to the default database (not the request's: a probe never waits behind a
  transaction) and every migration on disk applied (the leaf migrations of each app, read once per process);
- ``redis``: PING on the cache's Redis and on the broker's when it is another one (not used: the embedded default);
- ``signing_key``: the certificate signing key and the offline (QR, status list) key load (``documents.signing``,
  ``documents.offline_keys``, cached per process) and the ledger's MAC key is set.
"""

from __future__ import annotations

import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor, wait

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

_pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="readyz")


@functools.lru_cache(maxsize=1)
def _migration_leaves() -> frozenset[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
    return frozenset(loader.graph.leaf_nodes())


def _timeout() -> float:
    return float(getattr(settings, "HEALTH_CHECK_TIMEOUT_SECONDS", 0.8))


def check_database() -> bool:
    """A fresh connection (connect timeout 2 s, libpq's shortest; the caller stops waiting before), then the
    applied migrations."""
    db = connections["default"].settings_dict
    if db["ENGINE"].endswith("postgresql"):
        import psycopg

        with psycopg.connect(
            host=db.get("HOST") or None, port=db.get("PORT") or None, dbname=db["NAME"], user=db.get("USER") or None,
            password=db.get("PASSWORD") or None, connect_timeout=2, application_name="readyz",
            options=f"-c statement_timeout={int(_timeout() * 1000)}", autocommit=True,
        ) as conn:
            applied = set(conn.execute("SELECT app, name FROM django_migrations").fetchall())
    else:
        connection = connections.create_connection("default")
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT app, name FROM django_migrations")
                applied = {tuple(row) for row in cursor.fetchall()}
        finally:
            connection.close()
    missing = _migration_leaves() - applied
    if missing:
        raise RuntimeError(f"{len(missing)} migration(s) not applied")
    return True


def _redis_urls() -> list[str]:
    urls = []
    for url in (getattr(settings, "REDIS_URL", None), getattr(settings, "CELERY_BROKER_URL", None)):
        if url and url.startswith(("redis://", "rediss://", "unix://")) and url not in urls:
            urls.append(url)
    return urls


def check_redis() -> bool | None:
    """PING each Redis the process uses; ``None`` when it uses none (the embedded default)."""
    import redis

    urls = _redis_urls()
    if not urls:
        return None
    for url in urls:
        client = redis.Redis.from_url(url, socket_connect_timeout=_timeout(), socket_timeout=_timeout())
        try:
            client.ping()
        finally:
            client.close()
    return True


def check_signing_key() -> bool:
    from guarantees.documents.offline_keys import offline_signing_key
    from guarantees.documents.signing import signing_key

    signing_key()
    offline_signing_key()
    if getattr(settings, "LEDGER_MAC_KEY_ID", "") != "dev" and not getattr(settings, "LEDGER_MAC_KEY", ""):
        raise RuntimeError("LEDGER_MAC_KEY is not set")
    return True


CHECKS = {"database": check_database, "redis": check_redis, "signing_key": check_signing_key}


def readiness() -> tuple[bool, dict[str, str]]:
    """``(ready, {check: "ok" | "fail" | "timeout" | "unused"})``; ready when no check failed or timed out."""
    started = time.monotonic()
    futures = {name: _pool.submit(check) for name, check in CHECKS.items()}
    wait(futures.values(), timeout=_timeout())
    results: dict[str, str] = {}
    for name, future in futures.items():
        if not future.done():
            results[name] = "timeout"
            continue
        try:
            outcome = future.result()
        except Exception as exc:  # noqa: BLE001 - reported as a failed check
            logger.warning("readiness: %s failed (%s)", name, type(exc).__name__)
            results[name] = "fail"
            continue
        results[name] = "unused" if outcome is None else "ok"
    ready = all(value in ("ok", "unused") for value in results.values())
    if not ready:
        logger.warning("readiness: not ready after %.0f ms: %s", (time.monotonic() - started) * 1000, results)
    return ready, results
