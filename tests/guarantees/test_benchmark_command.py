"""``manage.py benchmark holds`` on the test database: it runs, counts, and leaves every ledger intact."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from benchmarks.common import percentile

KEYS = {"benchmark", "mode", "clients", "seconds", "guarantees", "service", "sql_baseline", "ratio", "overdraws",
        "ledger_problems", "refusals", "aim"}
PHASE_KEYS = {"ops", "throughput_per_s", "p50_ms", "p99_ms", "errors"}


def _run(*args) -> dict:
    out = StringIO()
    call_command("benchmark", "holds", *args, "--use-default-db", stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("extra", "mode"),
    [(["--guarantees", "5"], "spread"), (["--hot", "--concurrency", "threads", "--rounds", "1"], "hot")],
)
def test_benchmark_holds(extra, mode):
    result = _run("--clients", "2", "--seconds", "1", "--refusal-room", "3", "--refusal-seconds", "0.5", *extra)

    assert KEYS <= result.keys()
    assert result["benchmark"] == "holds" and result["mode"] == mode
    for phase in ("service", "sql_baseline"):
        assert PHASE_KEYS <= result[phase].keys()
        assert result[phase]["ops"] > 0
        assert result[phase]["errors"] == 0, result[phase].get("error_samples")
    assert result["ratio"] > 0
    assert result["overdraws"] == 0
    assert result["ledger_problems"] == 0
    assert result["aim"]["ratio"] == (0.8 if mode == "hot" else 0.5)
    for phase in ("service", "sql_baseline"):  # room for 3 holds: 3 taken, the rest refused
        assert result["refusals"][phase]["accepted"] == 3
        assert result["refusals"][phase]["refused_insufficient"] > 0


def test_benchmark_refuses_sqlite(tmp_path):
    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("benchmark", "holds", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", stdout=StringIO())
    assert not (tmp_path / "x.db").exists()


def test_percentile():
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(map(float, range(101))), 99) == 99.0
