"""A small world for the background work: reference data, a forwarder's active guarantee issued in Burkina Faso,
the customs of Togo (departure) and Burkina Faso (destination), the secretariat; helpers to declare transits
and report their events as the customs systems do; and, for the worker tests, the real Redis and a real
Celery worker process."""

import datetime
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.roles import OrganisationKind, Role
from benchmarks.releases import WorkerProcess, celery_broker, database_url
from guarantees.models import Guarantee
from guarantees.reference.importer import reference_import
from guarantees.services.transits import transit_declare
from tests.builders import Scene, active_guarantee, declare_as_of, scene
from tests.factories import CustomsFactory, SecretariatFactory, country, member

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


@dataclass
class World:
    s: Scene
    guarantee: Guarantee
    togo: Organisation
    togo_officer: User
    secretariat: User

    @property
    def burkina(self) -> Organisation:
        return self.s.customs


def give_totp(user):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def make_world(amount: int = 100_000_000) -> World:
    reference_import()
    s = scene("BF")
    togo = (Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country="TG").first()
            or CustomsFactory(country=country("TG")))
    togo_officer = member(togo, Role.CUSTOMS_OFFICER)
    secretariat = member(SecretariatFactory(country=country("BF")), Role.SECRETARIAT_ADMIN)
    for user in (s.maker, s.checker, s.officer, s.supervisor, togo_officer, secretariat):
        give_totp(user)
    return World(s=s, guarantee=active_guarantee(s, amount=amount), togo=togo, togo_officer=togo_officer,
                 secretariat=secretariat)


@pytest.fixture
def world(db) -> World:
    return make_world()


def declaration(ref: str, *, amount: int = 4_500_000, declared_at=None, **over) -> dict:
    data = {
        "declaration_ref": ref, "office_of_departure": "TGLOME", "office_of_destination": "BFOUAG",
        "route": ["TGCINK", "BFCINK"], "corridor": None,
        "declared_at": declared_at or (timezone.now() - datetime.timedelta(hours=2)).replace(microsecond=0),
        "amount": amount, "goods": [], "transport": {"vehicle": "BF-1234-AB"},
    }
    data.update(over)
    return data


def declare(w: World, ref: str, **over):
    transit, _ = declare_as_of(sender=w.togo, guarantee=w.guarantee, data=declaration(ref, **over))
    return transit


def event(ref: str, message_id: str, type: str = "discharge", office: str = "BFOUAG", at=None, **over) -> dict:
    at = at or timezone.now().replace(microsecond=0)
    return {"message_id": message_id, "declaration_ref": ref, "type": type, "office": office,
            "occurred_at": at.isoformat(), **over}


def wait_until(predicate, *, timeout: float, interval: float = 0.05, message: str = "condition not met"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} after {timeout:g} s")
        time.sleep(interval)


# --- Real Redis, real worker -----------------------------------------------------------------------------

def _redis_db() -> int:
    """A dedicated database of the machine's Redis (``TEST_REDIS_DB_BASE``, default 5, + n under xdist), flushed
    around each test. Two suites run side by side on one machine set different bases."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    n = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    return (int(os.environ.get("TEST_REDIS_DB_BASE", "5")) + n) % 16


@pytest.fixture
def broker(transactional_db):
    """This test process queues tasks to the real Redis (not eagerly) for the length of the test."""
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{_redis_db()}"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not running on {REDIS_HOST}:{REDIS_PORT} (make services starts it)")
    client.flushdb()
    with celery_broker(url):
        yield url
    client.flushdb()
    client.close()


@pytest.fixture
def start_worker(tmp_path):
    """``start_worker(broker_url, pool=..., beat=..., env=...)`` starts a Celery worker process on the test
    database; every worker started is stopped (SIGKILL if need be) when the test ends, pass or fail."""
    started: list[WorkerProcess] = []

    def start(broker_url: str, **kwargs) -> WorkerProcess:
        worker = WorkerProcess(database=database_url(django_settings.DATABASES["default"]), broker=broker_url,
                               log_dir=tmp_path, **kwargs)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.kill()


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


@pytest.fixture
def own_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()
