"""``manage.py benchmark api``: gunicorn starts, declarations go through, nothing overdrawn; the database's CPU is
that of the run's own backends, whatever another program does on the same PostgreSQL."""

import json
import os
import threading
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from benchmarks.common import BackendCpu, create_database, drop_database, own_database_name, psycopg_params

KEYS = {"benchmark", "clients", "seconds", "http", "sql_ceiling", "ratio", "aim", "gunicorn_workers", "overdraws",
        "ledger_problems"}
PHASE_KEYS = {"requests", "throughput_per_s", "p50_ms", "p99_ms", "errors", "status_counts"}
# CPU of a query summing a million integers: about 0.25 s on this machine, whatever its load (CPU, not wall time).
BURN = "SELECT sum(g) FROM generate_series(1, 1000000) g"
SHORT_BURN = "SELECT sum(g) FROM generate_series(1, 100000) g"


class Churn:
    """Another program on the same PostgreSQL: opens a session on another database, works, leaves; again and
    again until stopped. Summing every postgres process counted part of its work as the benchmark's, and went
    below zero when one of its sessions ended between two samples. On a busy machine neither is sure to show in
    one short run: ``test_backend_cpu_counts_the_sessions_of_its_database_and_no_other`` proves the sampling."""

    def __init__(self, params: dict):
        self.params, self.sessions, self.error = params, 0, None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        try:
            while not self.stop.is_set():
                with psycopg.connect(**self.params, autocommit=True) as conn:
                    conn.execute(BURN)
                self.sessions += 1
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)


def _database_exists(name: str) -> bool:
    with psycopg.connect(**{**psycopg_params(connection.settings_dict), "dbname": "postgres"}) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_benchmark_api_while_another_program_comes_and_goes_on_the_same_postgresql():
    out = StringIO()
    # The other program works on another database of the cluster: the test database, which the run never uses.
    with Churn(psycopg_params(connection.settings_dict)) as churn:
        call_command("benchmark", "api", "--clients", "2", "--seconds", "1", "--guarantees", "3", "--workers", "2",
                     stdout=out, stderr=StringIO())
    assert churn.error is None and churn.sessions > 2, (churn.error, churn.sessions)
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
    assert result["transits_recorded"]["match"]  # every 201 is a transit in the run's database
    # Where the CPU went, per declaration: gunicorn always; PostgreSQL on this machine (as in make test). A
    # declaration is six statements: about 3 ms of the server's CPU, never less than nothing.
    cpu = result["cpu_ms_per_declaration"]
    assert cpu["application"] > 0, cpu
    assert 0 < cpu["database"] < 15, cpu
    assert not _database_exists(result["database"]["name"])  # dropped at the end


def _cpu_seconds(session) -> float:
    """What a session's backend used so far, read as the test's own witness (the same /proc fields)."""
    pid = session.execute("SELECT pg_backend_pid()").fetchone()[0]
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_backend_cpu_counts_the_sessions_of_its_database_and_no_other():
    other = psycopg_params(connection.settings_dict)  # the test database: another database of the cluster
    own = {**connection.settings_dict, "NAME": own_database_name(connection.settings_dict["NAME"], "cpu")}
    create_database(own, log=lambda _m: None)
    try:
        with psycopg.connect(**psycopg_params(own), autocommit=True) as mine, \
                psycopg.connect(**other, autocommit=True) as theirs:
            backends = BackendCpu(own)
            try:
                assert backends.local  # PostgreSQL runs on this machine in the suite

                # Another database's session works, another comes and goes; one of ours, busy before, ends.
                leaving = psycopg.connect(**psycopg_params(own), autocommit=True)
                leaving.execute(BURN)
                theirs_before = _cpu_seconds(theirs)
                before = backends.sample()
                theirs.execute(BURN)
                leaving.close()
                with psycopg.connect(**other, autocommit=True) as passing:
                    passing.execute(SHORT_BURN)
                idle = BackendCpu.seconds(before, backends.sample())
                assert _cpu_seconds(theirs) - theirs_before >= 0.05  # the other program did work meanwhile
                assert 0 <= idle < 0.03, idle  # none of it counted, and nothing went below zero

                # Our session works, and one begins and works between the samples: both counted, exactly.
                mine_before = _cpu_seconds(mine)
                before = backends.sample()
                mine.execute(BURN)
                with psycopg.connect(**psycopg_params(own), autocommit=True) as arriving:
                    arriving.execute(BURN)
                    busy = BackendCpu.seconds(before, backends.sample())
                    witness = (_cpu_seconds(mine) - mine_before) + _cpu_seconds(arriving)
                assert witness >= 0.1
                assert witness - 0.03 <= busy <= witness + 0.03, (busy, witness)
            finally:
                backends.close()
    finally:
        drop_database(own, log=lambda _m: None)
    assert not _database_exists(own["NAME"])


def test_benchmark_api_refuses_sqlite(tmp_path):
    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("benchmark", "api", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", stdout=StringIO())
    assert not (tmp_path / "x.db").exists()
