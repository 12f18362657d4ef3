"""``hold_reserve`` has two paths: raw SQL on PostgreSQL (``ledger_hold_postgresql``) and the ORM elsewhere.

Both must write the same ledger, refuse the same way, and keep the same backstops. Tests parametrised on
``path`` run the ORM path on any database and the PostgreSQL path (marked ``postgresql``) on PostgreSQL, where
the ORM path is forced by swapping it in for the fast one.
"""

import threading
import time

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from guarantees.errors import DomainError
from guarantees.models import Guarantee, Hold, LedgerEntry
from guarantees.services import holds
from guarantees.services.guarantees import guarantee_suspend
from guarantees.services.holds import hold_release, hold_reserve
from guarantees.services.ledger import ENTRY_COLUMNS, HOLD_COLUMNS, ledger_hold_postgresql, ledger_verify
from tests.builders import active_guarantee, scene

pytestmark = pytest.mark.django_db

PATHS = ["orm", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def use_path(settings, path: str) -> None:
    """Make ``hold_reserve`` take ``path`` (the ``REGISTRY_HAND_WRITTEN_SQL`` setting); the PostgreSQL path
    requires PostgreSQL (no silent fallback)."""
    if path == "postgresql":
        assert connection.vendor == "postgresql", "the postgresql path is tested on PostgreSQL only"
        settings.REGISTRY_HAND_WRITTEN_SQL = True
    else:
        settings.REGISTRY_HAND_WRITTEN_SQL = False


def _outcome(call):
    try:
        hold = call()
    except DomainError as exc:
        return (type(exc).__name__, exc.extra)
    stored = Hold.objects.get(pk=hold.pk)
    assert isinstance(hold, Hold) and not hold._state.adding
    assert model_to_dict(hold) == model_to_dict(stored)  # the instance returned is the row, to the microsecond
    assert hold.created_at == stored.created_at
    return ("Hold", hold.reference[3:], hold.status, hold.initial_amount, hold.amount, hold.created_by_id)


def _scenario(s, prefix: str) -> tuple[Guarantee, list]:
    g = active_guarantee(s, amount=1_000_000)
    other = active_guarantee(s, amount=1_000_000)
    by = s.agent

    def take(amount, ref, *, on=None, guarantee=g):
        return _outcome(lambda: hold_reserve(guarantee=guarantee, amount=amount, reference=prefix + ref, by=by, on=on))

    out = [
        take(300_000, "T1"),
        take(300_000, "T1"),  # replay: the same hold, nothing more taken
        take(300_001, "T1"),  # another amount: conflict
        take(300_000, "T1", guarantee=other),  # another guarantee: conflict
        take(800_000, "T2"),  # refused with the available amount
        take(700_000, "T2"),  # exactly what is left
        take(1, "T3"),
        take(1_000, "T4", on=g.valid_until.replace(year=g.valid_until.year + 1)),
    ]
    hold_release(hold=Hold.objects.get(reference=prefix + "T1"), amount=100_000, by=by)
    out.append(take(100_000, "T3"))
    hold_release(hold=Hold.objects.get(reference=prefix + "T2"), by=by)
    out.append(take(250_000, "T5"))
    guarantee_suspend(guarantee=g, by=s.supervisor, reason="Contrôle")
    out.append(take(1_000, "T6"))
    return g, out


def _ledger(g: Guarantee, prefix: str) -> dict:
    g.refresh_from_db()

    def ref(text):
        return "GRN" if text == g.grn else text.removeprefix(prefix)

    return {
        "balances": (g.amount, g.held, g.claimed, g.paid, g.ledger_seq, g.status),
        "entries": [
            (e.seq, e.kind, e.d_amount, e.d_held, e.d_claimed, e.d_paid, ref(e.reference),
             ref(e.hold.reference) if e.hold else None, e.created_by_id)
            for e in LedgerEntry.objects.filter(guarantee=g).select_related("hold").order_by("seq")
        ],
        "holds": sorted(
            (ref(h.reference), h.status, h.initial_amount, h.amount, h.claimed_amount, h.paid_amount, h.created_by_id)
            for h in g.holds.all()
        ),
    }


@pytest.mark.postgresql
def test_the_postgresql_and_orm_paths_write_identical_ledgers(settings):
    use_path(settings, "postgresql")
    s = scene()
    fast, fast_out = _scenario(s, "PG-")
    use_path(settings, "orm")
    orm, orm_out = _scenario(s, "OR-")

    assert fast_out == orm_out
    assert [o[0] for o in fast_out] == [
        "Hold", "Hold", "Conflict", "Conflict", "InsufficientBalance", "Hold", "InsufficientBalance",
        "OutsideValidity", "Hold", "Hold", "GuaranteeNotActive",
    ]
    assert fast_out[4][1] == {"available": 700_000} and fast_out[-1][1] == {"status": "suspended"}
    assert _ledger(fast, "PG-") == _ledger(orm, "OR-")
    assert _ledger(fast, "PG-")["balances"][:5] == (1_000_000, 550_000, 0, 0, 7)
    assert ledger_verify(guarantees=Guarantee.objects.filter(pk__in=[fast.pk, orm.pk])) == []


def test_the_postgresql_path_writes_every_column_of_holds_and_entries():
    # A field added to Hold or LedgerEntry must be added to ledger_hold_postgresql's SQL too (in model order).
    assert HOLD_COLUMNS == tuple(f.column for f in Hold._meta.concrete_fields)
    assert ENTRY_COLUMNS == tuple(f.column for f in LedgerEntry._meta.concrete_fields if not f.primary_key)


def test_hold_reserve_takes_the_path_of_the_database():
    g = active_guarantee(amount=1_000_000)
    with CaptureQueriesContext(connection) as ctx:
        hold = hold_reserve(guarantee=g, amount=1_000, reference="T-1")
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    if connection.vendor == "postgresql":
        assert len(statements) == 2, statements  # lock + look-up, then one write
    else:
        assert len(statements) > 2, statements
        with pytest.raises(RuntimeError), transaction.atomic():
            ledger_hold_postgresql(guarantee_id=g.pk, amount=1, reference="T-2", admit=lambda locked: None)
    assert hold.guarantee == g
    assert ledger_verify(guarantees=Guarantee.objects.filter(pk=g.pk)) == []


@pytest.mark.parametrize("path", PATHS)
def test_the_check_constraint_is_the_backstop_of_either_path(monkeypatch, settings, path):
    use_path(settings, path)
    monkeypatch.setattr(holds, "_admit", lambda locked, amount, on: None)  # a bug that forgets the rule
    g = active_guarantee(amount=1_000)
    with pytest.raises(IntegrityError):  # guarantee_never_overdrawn, not mistaken for a reference conflict
        hold_reserve(guarantee=g, amount=1_001, reference="T-1")
    g.refresh_from_db()
    assert (g.held, g.ledger_seq, g.holds.count()) == (0, 1, 0)


@pytest.mark.parametrize("path", PATHS)
def test_a_refused_hold_inside_the_callers_transaction_leaves_it_usable(settings, path):
    use_path(settings, path)
    g = active_guarantee(amount=1_000)
    with transaction.atomic():
        first = hold_reserve(guarantee=g, amount=600, reference="T-1")
        with pytest.raises(DomainError):
            hold_reserve(guarantee=g, amount=500, reference="T-2")
        with pytest.raises(DomainError):
            hold_reserve(guarantee=g, amount=601, reference="T-1")
        second = hold_reserve(guarantee=g, amount=400, reference="T-2")
    g.refresh_from_db()
    assert (g.held, g.ledger_seq) == (1_000, 3)
    assert {h.pk for h in g.holds.all()} == {first.pk, second.pk}
    assert ledger_verify(guarantees=Guarantee.objects.filter(pk=g.pk)) == []


def _wait_until_it_waits_on_me(waiter: dict, timeout: float = 10) -> None:
    """Until the waiter's backend (``waiter["pid"]``) is blocked by this connection's: ``pg_blocking_pids`` of
    that one backend, not ``pg_locks`` across the cluster (where another test's or program's lock would do)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            pid = waiter.get("pid")
            if pid is not None:
                cursor.execute("SELECT pg_backend_pid() = ANY(pg_blocking_pids(%s))", [pid])
                if cursor.fetchone()[0]:
                    return
            time.sleep(0.02)
    raise AssertionError("the second transaction never waited on the first")


def _commit_after_a_waiter(first, second) -> list:
    """Run ``first`` in a transaction held open until ``second`` (another thread) waits on it; then commit."""
    taken, results, waiter = threading.Event(), [None, None], {}

    def run(i, work):
        try:
            if i == 0:
                with transaction.atomic():
                    results[0] = work()
                    taken.set()
                    _wait_until_it_waits_on_me(waiter)
            else:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    waiter["pid"] = cursor.fetchone()[0]
                taken.wait(10)
                results[1] = work()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = exc
            taken.set()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["orm", "postgresql"])
def test_the_same_hold_committed_while_waiting_for_the_lock_is_returned(settings, path):
    use_path(settings, path)
    g = active_guarantee(amount=1_000_000)
    results = _commit_after_a_waiter(
        lambda: hold_reserve(guarantee=g.pk, amount=5_000, reference="SAME"),
        lambda: hold_reserve(guarantee=g.pk, amount=5_000, reference="SAME"),
    )
    assert all(isinstance(r, Hold) for r in results), results
    assert results[0].pk == results[1].pk
    g.refresh_from_db()
    assert (g.held, g.ledger_seq) == (5_000, 2)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["orm", "postgresql"])
def test_the_same_reference_committed_on_another_guarantee_meanwhile_is_a_conflict(settings, path):
    use_path(settings, path)
    s = scene()
    a, b = active_guarantee(s, amount=1_000_000), active_guarantee(s, amount=1_000_000)
    results = _commit_after_a_waiter(
        lambda: hold_reserve(guarantee=a.pk, amount=5_000, reference="SAME"),
        lambda: hold_reserve(guarantee=b.pk, amount=5_000, reference="SAME"),  # waits on the unique index
    )
    assert isinstance(results[0], Hold), results
    assert type(results[1]).__name__ == "Conflict", results
    b.refresh_from_db()
    assert (b.held, b.ledger_seq, b.holds.count()) == (0, 1, 0)
    assert ledger_verify(guarantees=Guarantee.objects.filter(pk__in=[a.pk, b.pk])) == []
