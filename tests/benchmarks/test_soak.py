"""``manage.py benchmark soak``, briefly (10 s at a low rate): gunicorn, a Celery worker with beat and a private
redis-server are started, the open-loop load runs (declarations, their discharges, pages, a discharge file), and
the report says every declaration answered 201 was stored with one hold entry, every discharge answered 202
released its hold exactly once, the file's lines too, and the ledger is intact — in a database of its own,
dropped at the end."""

import json
import os
import shutil
from io import StringIO

import pytest
from django.core.management import call_command

from benchmarks.common import cpu_seconds_between, cpu_ticks_by_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_a_short_soak_loses_nothing_and_doubles_nothing(tmp_path, monkeypatch, registry_signing_key):
    monkeypatch.setenv("BENCHMARK_LOG_DIR", str(tmp_path))
    out = StringIO()
    call_command("benchmark", "soak", "--minutes", str(10 / 60), "--rate", "3", "--page-rate", "1",
                 "--discharge-after", "1", "--file-lines", "20", "--guarantees", "5", "--web-workers", "2",
                 "--worker-concurrency", "1", "--threads", "8", "--drain-timeout", "120", stdout=out, stderr=StringIO())
    result = json.loads(out.getvalue())
    checks = result["checks"]
    assert checks["clean"], checks
    assert checks["declarations_answered_201"] == result["kinds"]["declaration"]["ok"] > 0
    assert checks["discharges_answered_202"] == result["kinds"]["event"]["ok"] > 0
    assert checks["holds_released"] == checks["discharges_answered_202"]
    assert checks["file_holds_released"] == 20
    # From the file sent to its last line's release (the holds' own moment, not when the check came to look).
    assert 0 <= result["releases"]["file_seconds_to_last_release"] < 120
    assert result["kinds"]["page"]["ok"] > 0 and result["kinds"]["page"]["errors"] == 0
    assert result["kinds"]["declaration"]["p50_ms"] is not None
    # Memory of every process it started, at the start of the load and at its end.
    assert {"gunicorn", "celery"} <= set(result["memory"]["rss_kb_start"])
    assert set(result["memory"]["rss_kb_end"]) >= set(result["memory"]["rss_kb_start"])
    assert "replaced_during_load" in result["memory"]
    # Where the CPU went: the processes it started and the whole machine, per declaration too.
    cpu = result["cpu"]
    assert cpu["seconds"]["web_children"] > 0 and cpu["seconds"]["worker_children"] > 0
    assert cpu["seconds"]["machine"] >= cpu["seconds"]["web_children"]
    assert cpu["ms_per_declaration"]["machine"] > 0
    # "processes" is what the processes it measured used in all (exact), whatever the machine's ticks missed.
    assert cpu["seconds"]["processes"] >= cpu["seconds"]["web_children"] + cpu["seconds"]["worker_children"]
    # /metrics of the multiprocess directory: the holds counted across the gunicorn workers.
    assert result["metrics"]['caution_ledger_entries_total{kind="hold"}'] >= checks["declarations_answered_201"]
    assert result["database"]["kept"] is False


def test_cpu_between_two_readings_counts_new_processes_and_ended_children_where_they_belong():
    ticks = os.sysconf("SC_CLK_TCK")
    # (pid, start) -> (name, parent, own ticks, waited-for children's ticks)
    before = {(10, 1): ("master", 1, 100, 0), (11, 2): ("child", 10, 50, 0), (20, 3): ("other", 1, 7, 0)}
    # Child 11 ended (waited for by the master: its 80 ticks in all, 30 of them since ``before``); 12 started.
    after = {(10, 1): ("master", 1, 110, 80), (12, 4): ("child", 10, 40, 0), (20, 3): ("other", 1, 9, 0)}

    def classify(pid, name, ppid):
        return {"master": "main", "child": "children"}.get(name)

    seconds = cpu_seconds_between(before, after, classify, reaped=lambda pid, name, ppid: "children")
    # The master's own 10; children: 40 of the new one and 30 of the ended one (its whole life of 80 is added to
    # the parent's count when it ends, less the 50 it had used before); "other" is left out.
    assert seconds == {"main": round(10 / ticks, 2), "children": round(70 / ticks, 2)}
    assert cpu_ticks_by_process()  # this machine's /proc reads
