"""``manage.py benchmark releases``, briefly: it starts its worker, measures, and every hold it took is released
exactly once in an intact ledger, in a database of its own that it drops at the end.

The run is given the suite's own Redis database (flushed around the test), as every worker test here: it needs
nothing the rest of the suite does not, so it always runs. The private ``redis-server`` a run starts when no
``--redis-url`` is given is tested apart."""

import json
from io import StringIO

import psycopg
import pytest
import redis
from django.core.management import call_command
from django.db import connection

from benchmarks.common import psycopg_params
from benchmarks.releases import private_redis
from guarantees.models import Hold

from tests.processes import flushed_redis, suite_redis_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]


@pytest.fixture
def redis_url():
    url = suite_redis_url()
    with flushed_redis(url):
        yield url


def test_benchmark_releases_runs_and_releases_every_hold_once(tmp_path, monkeypatch, redis_url):
    monkeypatch.setenv("BENCHMARK_LOG_DIR", str(tmp_path))
    monkeypatch.setenv("BENCHMARK_WORKER_SETTINGS", "config.settings.test")
    out = StringIO()
    call_command("benchmark", "releases", "--redis-url", redis_url, "--rate", "20", "--seconds", "1",
                 "--senders", "1", "--guarantees", "2", "--file-lines", "300", "--file-path", "both",
                 "--legacy-lines", "20", "--timeout", "60", stdout=out, stderr=StringIO())
    result = json.loads(out.getvalue())

    assert result["benchmark"] == "releases"
    latency = result["latency"]
    assert latency["accepted"] == latency["released"] == 20 and latency["not_released"] == 0
    assert 0 <= latency["p50_ms"] <= latency["p95_ms"] <= latency["p99_ms"]
    files = {f["path"]: f for f in result["files"]}
    assert files["bulk"]["lines"] == 300 and files["bulk"]["throughput_per_s"] > 0
    assert files["legacy"]["lines"] == 20 and files["legacy"]["not_released"] == 0
    assert result["checks"] == {"holds": 340, "released_twice": 0, "overdraws": 0, "ledger_problems": 0}
    assert {"p95_met", "file_met"} <= result["aim"].keys()

    # The run's database is gone, and none of its rows came here.
    with psycopg.connect(**{**psycopg_params(connection.settings_dict), "dbname": "postgres"}) as server:
        left = server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [result["database"]["name"]]).fetchone()
    assert left is None
    assert not Hold.objects.exists()


def test_a_run_without_a_redis_url_has_a_redis_server_of_its_own(tmp_path):
    with private_redis(tmp_path) as url:
        assert url is not None, "redis-server is not installed (the benchmark would fall back to the shared Redis)"
        client = redis.Redis.from_url(url)
        assert client.ping() and client.dbsize() == 0
    with pytest.raises(redis.ConnectionError):  # stopped with the run
        client.ping()
    client.close()
