import pytest
from django.core.management import call_command
from django.db import connection

from guarantees.services.holds import hold_release, hold_reserve
from guarantees.services.ledger import ledger_verify
from tests.builders import active_guarantee, scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_guarantee():
    g = active_guarantee(scene(), amount=5_000_000)
    for i in range(4):
        hold = hold_reserve(guarantee=g, amount=100_000 * (i + 1), reference=f"T-{i}")
        if i % 2:
            hold_release(hold=hold)
    g.refresh_from_db()
    return g


def _behind_the_application(sql: str, params: list) -> None:
    """Write to the database as an attacker with the database's own rights would: on PostgreSQL the ledger's
    append-only trigger refuses UPDATE and DELETE, so a superuser first switches triggers off for the session."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def _verify_exit(capsys):
    try:
        call_command("verify_ledger")
    except SystemExit as exc:
        return exc.code, capsys.readouterr().err
    return 0, capsys.readouterr().out


def test_balances_are_the_sum_of_the_entries(busy_guarantee):
    g = busy_guarantee
    assert g.held == sum(g.entries.values_list("d_held", flat=True)) == 100_000 + 300_000
    assert ledger_verify() == []


def test_verify_ledger_passes_on_an_untouched_ledger(busy_guarantee, capsys):
    code, out = _verify_exit(capsys)
    assert code == 0
    assert "Ledger intact" in out


def test_a_changed_entry_is_named(busy_guarantee, capsys):
    _behind_the_application(
        "UPDATE guarantees_ledgerentry SET d_held = d_held + 1 WHERE guarantee_id = %s AND seq = 3",
        [busy_guarantee.pk],
    )
    code, err = _verify_exit(capsys)
    assert code == 1
    assert f"guarantee {busy_guarantee.grn}" in err
    assert "entry #3: entry changed" in err


def test_a_deleted_entry_is_named(busy_guarantee, capsys):
    _behind_the_application("DELETE FROM guarantees_ledgerentry WHERE guarantee_id = %s AND seq = 2",
                            [busy_guarantee.pk])
    code, err = _verify_exit(capsys)
    assert code == 1
    assert "entry #2: entry missing" in err


def test_a_balance_changed_behind_the_ledger_is_named(busy_guarantee, capsys):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE guarantees_guarantee SET held = held - 1 WHERE id = %s", [busy_guarantee.pk])
    code, err = _verify_exit(capsys)
    assert code == 1
    assert "held is 399999 but the entries add up to 400000" in err


def test_a_rewritten_entry_resealed_without_the_key_is_named(busy_guarantee, capsys):
    from guarantees.models import LedgerEntry
    from guarantees.services.ledger import entry_mac

    entry = LedgerEntry.objects.get(guarantee=busy_guarantee, seq=2)
    forged = entry_mac(key=b"a key the attacker made up", key_id=entry.key_id, prev_hash=entry.prev_hash,
                       guarantee_id=entry.guarantee_id, seq=2, kind=entry.kind, d_amount=0, d_held=entry.d_held - 1,
                       d_claimed=0, d_paid=0, hold_id=entry.hold_id, reference=entry.reference,
                       created_at=entry.created_at)
    _behind_the_application("UPDATE guarantees_ledgerentry SET d_held = d_held - 1, hash = %s WHERE id = %s",
                            [forged, entry.pk])
    code, err = _verify_exit(capsys)
    assert code == 1
    assert "entry #2: entry changed" in err
    assert "entry #3: chain broken" in err


def test_entries_cannot_be_edited_or_deleted_through_the_orm(busy_guarantee):
    entry = busy_guarantee.entries.first()
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()
