"""The background work: the lean world (``tests.builders.transits_world``), and, for the worker tests, a real
Celery worker process (the real Redis: ``broker``, in ``tests/guarantees/conftest.py``)."""

import shutil

import pytest
from django.conf import settings as django_settings

from benchmarks.releases import WorkerProcess, database_url
from tests.builders import World, transits_world
from tests.processes import RedisServer


@pytest.fixture
def world(db) -> World:
    return transits_world()


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


@pytest.fixture
def own_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()
