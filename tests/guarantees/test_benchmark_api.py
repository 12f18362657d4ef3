"""``manage.py benchmark api`` on the test database: gunicorn starts, declarations go through, nothing overdrawn."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

KEYS = {"benchmark", "clients", "seconds", "http", "sql_ceiling", "ratio", "aim", "gunicorn_workers", "overdraws",
        "ledger_problems"}
PHASE_KEYS = {"requests", "throughput_per_s", "p50_ms", "p99_ms", "errors", "status_counts"}


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_benchmark_api():
    out = StringIO()
    call_command("benchmark", "api", "--clients", "2", "--seconds", "1", "--guarantees", "3", "--workers", "2",
                 "--use-default-db", stdout=out, stderr=StringIO())
    result = json.loads(out.getvalue())

    assert KEYS <= result.keys()
    assert result["benchmark"] == "api"
    assert result["clients"] == 2 and result["gunicorn_workers"] == 2
    for phase in ("http", "sql_ceiling"):
        assert PHASE_KEYS <= result[phase].keys()
        assert result[phase]["requests"] > 0
        assert result[phase]["errors"] == 0, result[phase]
    assert set(result["http"]["status_counts"]) == {"201"}
    assert result["ratio"] > 0
    assert result["aim"]["ratio"] == 0.2 and result["aim"]["p99_ms"] == 100 and isinstance(result["aim"]["met"], bool)
    assert result["overdraws"] == 0
    assert result["ledger_problems"] == 0
    assert result["transits_recorded"]["match"]  # every 201 is a transit in the database
    # Where the CPU went, per declaration: gunicorn always; PostgreSQL on this machine (as in make test)
    cpu = result["cpu_ms_per_declaration"]
    assert cpu["application"] > 0 and cpu["database"] > 0, cpu


def test_benchmark_api_refuses_sqlite(tmp_path):
    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("benchmark", "api", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", stdout=StringIO())
    assert not (tmp_path / "x.db").exists()
