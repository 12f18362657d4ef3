"""``manage.py benchmark holds``: it runs, counts and leaves every ledger intact, in a database of its own that it
drops at the end (also when stopped), never touching the database it was pointed at."""

import json
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models.signals import pre_migrate

from accounts.models import Organisation, User
from accounts.roles import OrganisationKind
from benchmarks.api import database_url
from benchmarks.common import drop_database, own_database_name, percentile, psycopg_params
from guarantees.models import Bank, Guarantee, Hold, LedgerEntry
from tests.factories import country

KEYS = {"benchmark", "mode", "clients", "seconds", "guarantees", "service", "sql_baseline", "ratio", "overdraws",
        "ledger_problems", "refusals", "aim"}
PHASE_KEYS = {"ops", "throughput_per_s", "p50_ms", "p99_ms", "errors"}
TABLES = (Organisation, User, Bank, Guarantee, Hold, LedgerEntry)


def _run(*args) -> dict:
    out = StringIO()
    call_command("benchmark", "holds", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def _counts() -> dict:
    return {model.__name__: model.objects.count() for model in TABLES}


def _server(dbname: str = "postgres"):
    return psycopg.connect(**{**psycopg_params(connection.settings_dict), "dbname": dbname}, autocommit=True)


def _database_exists(name: str) -> bool:
    with _server() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


@pytest.mark.django_db(transaction=True)
def test_benchmark_holds_leaves_the_database_it_was_given_as_it_was():
    Organisation.objects.create(kind=OrganisationKind.FORWARDER, name="Already here", country=country("BF").pk)
    before = _counts()
    test_database = connection.settings_dict["NAME"]

    # Pointed at this very database (as DATABASE_URL points the README's command at the developer's).
    result = _run("--clients", "2", "--seconds", "1", "--refusal-room", "3", "--refusal-seconds", "0.5",
                  "--guarantees", "5", "--database-url", database_url(connection.settings_dict))

    assert result["database"]["name"].startswith(f"{test_database}_bench_") and not result["database"]["kept"]
    assert not _database_exists(result["database"]["name"])
    assert connection.settings_dict["NAME"] == test_database  # Django's connection is back where it was
    assert _counts() == before

    assert KEYS <= result.keys()
    assert result["benchmark"] == "holds" and result["mode"] == "spread"
    for phase in ("service", "sql_baseline"):
        assert PHASE_KEYS <= result[phase].keys()
        assert result[phase]["ops"] > 0
        assert result[phase]["errors"] == 0, result[phase].get("error_samples")
    assert result["ratio"] > 0
    assert result["overdraws"] == 0
    assert result["ledger_problems"] == 0
    assert result["aim"]["ratio"] == 0.5
    for phase in ("service", "sql_baseline"):  # room for 3 holds: 3 taken, the rest refused
        assert result["refusals"][phase]["accepted"] == 3
        assert result["refusals"][phase]["refused_insufficient"] > 0


@pytest.mark.django_db(transaction=True)
def test_benchmark_holds_hot_with_keep_leaves_its_database_for_inspection():
    result = _run("--clients", "2", "--seconds", "1", "--refusal-room", "3", "--refusal-seconds", "0.5",
                  "--hot", "--concurrency", "threads", "--rounds", "1", "--keep")
    name = result["database"]["name"]
    try:
        assert result["database"]["kept"] and _database_exists(name)
        with _server(name) as kept:
            guarantees = kept.execute("SELECT count(*) FROM guarantees_guarantee WHERE grn LIKE %s",
                                      [f"BENCH-{result['run']}-%"]).fetchone()[0]
            holds = kept.execute("SELECT count(*) FROM guarantees_hold").fetchone()[0]
    finally:
        drop_database({**connection.settings_dict, "NAME": name}, log=lambda _m: None)
    assert guarantees == 1 and holds == result["service"]["ops"] + result["sql_baseline"]["ops"] + 6
    assert Guarantee.objects.count() == 0  # none in the test database

    assert result["mode"] == "hot" and result["aim"]["ratio"] == 0.8
    for phase in ("service", "sql_baseline"):
        assert result[phase]["ops"] > 0 and result[phase]["errors"] == 0, result[phase].get("error_samples")
        assert result["refusals"][phase]["accepted"] == 3
    assert result["overdraws"] == 0 and result["ledger_problems"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_benchmark_stopped_midway_drops_its_database():
    seen = {}

    def ctrl_c(**kwargs):
        # The run's database exists and Django works in it: Ctrl-C now.
        seen["name"] = connection.settings_dict["NAME"]
        seen["exists"] = _database_exists(seen["name"])
        raise KeyboardInterrupt

    test_database = connection.settings_dict["NAME"]
    pre_migrate.connect(ctrl_c, dispatch_uid="benchmark-ctrl-c")
    try:
        with pytest.raises(KeyboardInterrupt):
            _run("--clients", "1", "--database-url", database_url(connection.settings_dict))
    finally:
        pre_migrate.disconnect(dispatch_uid="benchmark-ctrl-c")

    assert seen["name"].startswith(f"{test_database}_bench_") and seen["exists"]
    assert not _database_exists(seen["name"])
    assert connection.settings_dict["NAME"] == test_database  # Django's connection is back where it was
    assert Guarantee.objects.count() == 0


def test_benchmark_refuses_sqlite(tmp_path):
    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("benchmark", "holds", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", stdout=StringIO())
    assert not (tmp_path / "x.db").exists()


def test_own_database_name_fits_postgresql():
    assert own_database_name("caution_bench", "1a2b3c4d") == "caution_bench_bench_1a2b3c4d"
    long = own_database_name("é" * 60, "1a2b3c4d")
    assert len(long.encode()) <= 63 and long.endswith("_bench_1a2b3c4d")


def test_percentile():
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(map(float, range(101))), 99) == 99.0


def test_benchmark_refuses_to_run_under_an_event_loop():
    """With a loop running (Playwright's sync API leaves one), Django keeps connections where forked clients do
    not look: they would measure another database. The command says so instead of reporting zero operations."""
    import asyncio

    async def under_a_loop():
        call_command("benchmark", "holds", "--database-url", "postgres://postgres@127.0.0.1:5432/x",
                     stdout=StringIO())

    with pytest.raises(CommandError, match="event loop"):
        asyncio.run(under_a_loop())
