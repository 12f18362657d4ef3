"""Real Redis and real processes for the tests that need them: the suite's Redis database, a private
``redis-server`` a test may stop, and waiting for a condition with a timeout."""

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest
import redis

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def wait_until(predicate, *, timeout: float, interval: float = 0.05, message: str = "condition not met"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} after {timeout:g} s")
        time.sleep(interval)


def redis_db() -> int:
    """A dedicated database of the machine's Redis (``TEST_REDIS_DB_BASE``, default 5, + n under xdist), flushed
    around each test. Two suites run side by side on one machine set different bases."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    n = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    return (int(os.environ.get("TEST_REDIS_DB_BASE", "5")) + n) % 16


def suite_redis_url() -> str:
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db()}"


@contextmanager
def flushed_redis(url: str):
    """A client of the Redis database ``url``, emptied before and after; the test fails plainly if Redis is not
    answering."""
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not answering at {url} (make services starts it)")
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of our own on a free port, which a test may stop and start again (never the machine's)."""

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        wait_until(lambda: _pings(client), timeout=10, message="redis-server did not start")
        client.close()
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
