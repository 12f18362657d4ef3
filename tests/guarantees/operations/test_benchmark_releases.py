"""``manage.py benchmark releases`` on the test database, briefly: it starts its worker and its own Redis, measures,
and every hold it took is released exactly once in an intact ledger."""

import json
import shutil
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_benchmark_releases_runs_and_releases_every_hold_once(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHMARK_LOG_DIR", str(tmp_path))
    monkeypatch.setenv("BENCHMARK_WORKER_SETTINGS", "config.settings.test")
    out = StringIO()
    call_command("benchmark", "releases", "--use-default-db", "--rate", "20", "--seconds", "1", "--senders", "1",
                 "--guarantees", "2", "--file-lines", "300", "--file-path", "both", "--legacy-lines", "20",
                 "--timeout", "60", stdout=out, stderr=StringIO())
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
