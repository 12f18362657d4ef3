"""``manage.py seed_scale`` writes a consistent registry (every ledger verifies, balances are the sums of their
entries and holds, every transit has its route and its hold) into a database of its own that it keeps, refuses
SQLite, and ``manage.py benchmark pages --seeded`` measures the lists on it as each role."""

import json
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from benchmarks.api import database_url
from benchmarks.common import drop_database, psycopg_params
from guarantees.models import Guarantee, Transit


def _kept(name: str):
    return psycopg.connect(**{**psycopg_params(connection.settings_dict), "dbname": name}, autocommit=True)


def _call(*args) -> dict:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


@pytest.mark.django_db(transaction=True)
def test_seed_scale_writes_a_registry_that_verifies_and_benchmark_pages_measures_it():
    result = _call("seed_scale", "--transits", "2000", "--guarantees", "25", "--banks", "3", "--verify",
                   "--database-url", database_url(connection.settings_dict))
    name = result["database"]["name"]
    try:
        assert result["database"]["kept"]
        assert result["transits"] == result["holds"] == 2000 and result["guarantees"] == 25
        assert result["ledger_problems"] == 0, result.get("ledger_problem_samples")
        # One opening per active-ish guarantee, one HOLD per transit, and the releases, claims and payments.
        assert result["ledger_entries"] > 2000 + result["transits"] * 0.8
        with _kept(name) as db:
            q = lambda sql: db.execute(sql).fetchall()
            statuses = dict(q("SELECT status, count(*) FROM guarantees_transit GROUP BY status"))
            assert statuses["discharged"] > 1000 and {"in_transit", "cancelled"} <= statuses.keys()
            assert len(q("SELECT DISTINCT corridor_id FROM guarantees_transit")) >= 4
            years = q("SELECT DISTINCT extract(year FROM declared_at) FROM guarantees_transit")
            assert len(years) >= 3  # three years of declarations
            # Every transit has its route: departure first, destination last, through the corridor's offices.
            assert q("SELECT count(*) FROM guarantees_transit t WHERE NOT EXISTS (SELECT 1 FROM "
                     "guarantees_transitstop s WHERE s.transit_id = t.id AND s.role = 'departure') OR NOT EXISTS "
                     "(SELECT 1 FROM guarantees_transitstop s WHERE s.transit_id = t.id AND s.role = 'destination' "
                     "AND s.office_id = t.office_of_destination_id)") == [(0,)]
            # Each transit's hold is its own, on its guarantee, for its amount; held only while it is open.
            assert q("SELECT count(*) FROM guarantees_transit t JOIN guarantees_hold h ON h.id = t.hold_id "
                     "WHERE h.guarantee_id <> t.guarantee_id OR h.reference <> t.declaration_ref "
                     "OR h.initial_amount <> t.amount_held OR (t.status = 'discharged' AND h.status <> 'released') "
                     "OR (t.status IN ('declared', 'in_transit', 'arrived') AND h.status <> 'held')") == [(0,)]
            # Balances are the sums of the holds, and nothing is overdrawn.
            assert q("SELECT count(*) FROM guarantees_guarantee g WHERE g.held <> (SELECT coalesce(sum(amount), 0) "
                     "FROM guarantees_hold h WHERE h.guarantee_id = g.id) OR g.amount < g.held + g.claimed + g.paid"
                     ) == [(0,)]
            claims = dict(q("SELECT status, count(*) FROM guarantees_claim GROUP BY status"))
            enquiries = q("SELECT count(*) FROM guarantees_enquiry")[0][0]
            assert enquiries >= sum(claims.values()) > 0
        assert Transit.objects.count() == 0 and Guarantee.objects.count() == 0  # not in the test database

        pages = _call("benchmark", "pages", "--seeded", name, "--repeat", "2", "--warmup", "0",
                      "--only", "transits", "--database-url", database_url(connection.settings_dict))
        assert set(pages["results"]) == {"forwarder", "bank_checker", "customs_TG", "secretariat"}
        for role, urls in pages["results"].items():
            assert urls["transits"]["status"] == 200, (role, urls["transits"])
            for label, figures in urls.items():
                if figures["status"] == 200:
                    assert figures["p95_ms"] >= figures["p50_ms"] > 0 and figures["queries"] > 0, (role, label)
                    assert figures["sql_p50_ms"] > 0 and "sql_error" not in figures, (role, label, figures)
        assert pages["data"]["transits"] > 0 and pages["pages_measured"] >= 4 * 8
        with _kept(name) as db:  # the seeded database was used as it was: neither dropped nor re-seeded
            assert db.execute("SELECT count(*) FROM guarantees_transit").fetchone()[0] == 2000
    finally:
        drop_database({**connection.settings_dict, "NAME": name}, log=lambda _m: None)


def test_seed_scale_refuses_sqlite(tmp_path):
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("seed_scale", "--transits", "10", "--database-url", f"sqlite:///{tmp_path}/x.sqlite3",
                     stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db(transaction=True)
def test_benchmark_pages_refuses_a_database_that_does_not_exist():
    with pytest.raises(CommandError, match="seeded database"):
        call_command("benchmark", "pages", "--seeded", "caution_no_such_database_here",
                     "--database-url", database_url(connection.settings_dict), stdout=StringIO(), stderr=StringIO())
