"""The ledger against someone who can write to the database: sealed entries, an append-only table, checkpoints.

Each test is an attack: what a database writer (knowing the code, not the keys), a holder of the MAC key, or
someone deleting checkpoints could do, and how ``verify_ledger`` (or PostgreSQL itself) catches it — or, where
it cannot, says so.
"""

import datetime
import hashlib
import json
import os
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from guarantees.models import Guarantee, LedgerCheckpoint, LedgerEntry
from guarantees.services.checkpoints import (
    LedgerTampered,
    checkpoint_export,
    ledger_audit,
    ledger_checkpoint_create,
)
from guarantees.services.holds import hold_release, hold_reserve
from guarantees.services.ledger import entry_mac, mac_keys
from tests.builders import active_guarantee, scene

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("registry_signing_key")]


@pytest.fixture
def busy_guarantee():
    g = active_guarantee(scene(), amount=5_000_000)
    for i in range(4):
        hold = hold_reserve(guarantee=g, amount=100_000 * (i + 1), reference=f"T-{i}")
        if i % 2:
            hold_release(hold=hold)
    g.refresh_from_db()
    return g


def _as_superuser(*statements) -> None:
    """Run statements as a database superuser who switched the ledger's triggers off for the session."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        for sql, params in statements:
            cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def _rewrite_chain(guarantee, *, seal, opening_raise=0):
    """Raise the opening entry and reseal every entry with ``seal(entry, prev)``, then move the head and the
    balance to match: a consistent rewrite, as the code would have written it."""
    entries = list(LedgerEntry.objects.filter(guarantee=guarantee).order_by("seq"))
    prev = ""
    statements = []
    for entry in entries:
        if entry.seq == 1:
            entry.d_amount += opening_raise
        digest = seal(entry, prev)
        statements.append(("UPDATE guarantees_ledgerentry SET d_amount = %s, prev_hash = %s, hash = %s WHERE id = %s",
                           [entry.d_amount, prev, digest, entry.pk]))
        prev = digest
    statements.append(("UPDATE guarantees_guarantee SET amount = amount + %s, ledger_hash = %s WHERE id = %s",
                       [opening_raise, prev, guarantee.pk]))
    _as_superuser(*statements)


def _seal_with(key: bytes):
    def seal(entry, prev):
        return entry_mac(key=key, key_id=entry.key_id, prev_hash=prev, guarantee_id=entry.guarantee_id, seq=entry.seq,
                         kind=entry.kind, d_amount=entry.d_amount, d_held=entry.d_held, d_claimed=entry.d_claimed,
                         d_paid=entry.d_paid, hold_id=entry.hold_id, reference=entry.reference,
                         created_at=entry.created_at)
    return seal


def _unkeyed(entry, prev):
    """The formula of the code before the key: SHA-256 of the same fields."""
    payload = "|".join(str(p) for p in (
        entry.key_id, prev, entry.guarantee_id, entry.seq, entry.kind, entry.d_amount, entry.d_held, entry.d_claimed,
        entry.d_paid, entry.hold_id or "", entry.reference,
        entry.created_at.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds")))
    return hashlib.sha256(payload.encode()).hexdigest()


def _verify(capsys, *args):
    try:
        call_command("verify_ledger", *args)
    except SystemExit as exc:
        captured = capsys.readouterr()
        return exc.code, captured.out + captured.err
    captured = capsys.readouterr()
    return 0, captured.out + captured.err


# --- Sealed entries ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seal", [_unkeyed, _seal_with(b"a key the attacker guessed")], ids=["sha256", "wrong-key"])
def test_a_full_chain_rewrite_without_the_key_is_named(busy_guarantee, capsys, seal):
    _rewrite_chain(busy_guarantee, seal=seal, opening_raise=500_000_000)
    code, out = _verify(capsys)
    assert code == 1
    assert f"guarantee {busy_guarantee.grn}" in out
    assert "entry #1: entry changed" in out


def test_the_untouched_ledger_verifies(busy_guarantee, capsys):
    code, out = _verify(capsys)
    assert code == 0, out
    assert "Ledger intact" in out


def test_an_entry_sealed_with_a_key_the_registry_does_not_hold_is_a_problem(busy_guarantee, capsys):
    entry = LedgerEntry.objects.get(guarantee=busy_guarantee, seq=1)
    _as_superuser(("UPDATE guarantees_ledgerentry SET key_id = %s WHERE id = %s", ["zz", entry.pk]))
    code, out = _verify(capsys)
    assert code == 1
    assert "entry #1: sealed with a key this registry does not hold (zz)" in out


def test_entries_sealed_with_a_retired_key_verify_while_it_is_listed(settings, capsys):
    settings.LEDGER_MAC_KEY, settings.LEDGER_MAC_KEY_ID = "first-key-" + "x" * 30, "k1"
    g = active_guarantee(scene(), amount=1_000_000)
    hold_reserve(guarantee=g, amount=10_000, reference="R-OLD")
    # Rotation: a new key seals from now on; the old one stays listed to verify what it sealed.
    settings.LEDGER_MAC_KEY, settings.LEDGER_MAC_KEY_ID = "second-key-" + "y" * 30, "k2"
    settings.LEDGER_MAC_OLD_KEYS = ["k1:first-key-" + "x" * 30]
    hold_reserve(guarantee=g, amount=20_000, reference="R-NEW")
    assert list(LedgerEntry.objects.filter(guarantee=g).order_by("seq").values_list("key_id", flat=True)) == \
        ["k1", "k1", "k2"]
    assert _verify(capsys)[0] == 0
    settings.LEDGER_MAC_OLD_KEYS = []
    code, out = _verify(capsys)
    assert code == 1
    assert "sealed with a key this registry does not hold (k1)" in out


# --- PostgreSQL refuses to change the ledger ---------------------------------------------------------------

@pytest.mark.postgresql
@pytest.mark.parametrize("sql", [
    "UPDATE guarantees_ledgerentry SET d_amount = d_amount + 500000000 WHERE guarantee_id = %s AND seq = 1",
    "DELETE FROM guarantees_ledgerentry WHERE guarantee_id = %s AND seq = 1",
], ids=["update", "delete"])
def test_postgresql_refuses_to_change_an_entry(busy_guarantee, sql):
    before = list(LedgerEntry.objects.filter(guarantee=busy_guarantee).values_list("d_amount", "hash"))
    with pytest.raises(DatabaseError, match="the ledger is append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [busy_guarantee.pk])
    assert list(LedgerEntry.objects.filter(guarantee=busy_guarantee).values_list("d_amount", "hash")) == before


@pytest.mark.postgresql
def test_postgresql_refuses_to_change_a_checkpoint(busy_guarantee):
    checkpoint = ledger_checkpoint_create()
    with pytest.raises(DatabaseError, match="the ledger is append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM guarantees_ledgercheckpoint WHERE id = %s", [checkpoint.pk])


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_an_update_typed_in_psql_is_refused():
    g = active_guarantee(scene(), amount=5_000_000)
    psql = shutil.which("psql")
    assert psql, "psql (postgresql-client) is needed"
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    result = subprocess.run(
        [psql, "-h", settings["HOST"] or "127.0.0.1", "-p", str(settings["PORT"] or 5432), "-U", settings["USER"],
         "-d", settings["NAME"], "-v", "ON_ERROR_STOP=1", "-c",
         f"UPDATE guarantees_ledgerentry SET d_amount = d_amount + 500000000 WHERE guarantee_id = {g.pk}"],
        capture_output=True, text=True, env=env, timeout=30,
    )
    assert result.returncode != 0
    assert "the ledger is append-only: UPDATE refused on guarantees_ledgerentry" in result.stderr
    assert LedgerEntry.objects.get(guarantee=g, seq=1).d_amount == 5_000_000


# --- Checkpoints: the attacker holds the MAC key -----------------------------------------------------------

def test_a_checkpoint_signs_every_head_and_verifies(busy_guarantee, capsys):
    checkpoint = ledger_checkpoint_create()
    document = json.loads(checkpoint.document)
    assert [busy_guarantee.pk, busy_guarantee.grn, busy_guarantee.ledger_seq, busy_guarantee.ledger_hash] in \
        document["heads"]
    assert document["previous"] == ""
    second = ledger_checkpoint_create()
    assert json.loads(second.document)["previous"] == checkpoint.digest
    code, out = _verify(capsys)
    assert code == 0, out
    assert "latest checkpoint" in out


def test_a_rewrite_resealed_with_the_stolen_key_is_caught_by_the_checkpoint(busy_guarantee, capsys):
    ledger_checkpoint_create()
    key = mac_keys()[LedgerEntry.objects.filter(guarantee=busy_guarantee).first().key_id]
    _rewrite_chain(busy_guarantee, seal=_seal_with(key), opening_raise=500_000_000)
    assert ledger_audit().problems  # every seal checks out with the key, but not the signed head
    code, out = _verify(capsys)
    assert code == 1
    assert f"guarantee {busy_guarantee.grn}" in out
    assert "does not match the head signed by the latest checkpoint" in out
    with pytest.raises(LedgerTampered):
        ledger_checkpoint_create()  # nothing new is signed over the rewritten chain
    assert LedgerCheckpoint.objects.count() == 1


def test_what_the_checkpoint_cannot_prove_is_said(busy_guarantee, capsys):
    ledger_checkpoint_create()
    hold_reserve(guarantee=busy_guarantee, amount=7_000, reference="AFTER-1")
    hold_reserve(guarantee=busy_guarantee, amount=8_000, reference="AFTER-2")
    code, out = _verify(capsys)
    assert code == 0
    assert "NOT PROVEN: 2 entries written after the latest checkpoint" in out


def test_a_checkpoint_edited_in_the_database_fails_its_signature(busy_guarantee, capsys):
    checkpoint = ledger_checkpoint_create()
    forged = checkpoint.document.replace(busy_guarantee.ledger_hash, "0" * 64)
    _as_superuser(("UPDATE guarantees_ledgercheckpoint SET document = %s WHERE id = %s", [forged, checkpoint.pk]))
    code, out = _verify(capsys)
    assert code == 1
    assert "the signature does not match the document" in out or "does not match its digest" in out


def test_a_checkpoint_signed_with_another_key_is_not_trusted(busy_guarantee, capsys, tmp_path):
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    checkpoint = ledger_checkpoint_create()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Registre de la caution unique")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    signature = key.sign(checkpoint.document.encode(), ec.ECDSA(hashes.SHA256()))
    _as_superuser(("UPDATE guarantees_ledgercheckpoint SET algorithm = %s, signature = %s, certificate = %s "
                   "WHERE id = %s", ["ecdsa-sha256", base64.b64encode(signature).decode(),
                                     cert.public_bytes(serialization.Encoding.PEM).decode(), checkpoint.pk]))
    code, out = _verify(capsys)
    assert code == 1
    assert "not issued by a trusted root" in out


def test_a_deleted_checkpoint_is_caught_by_the_copy_kept_outside(busy_guarantee, capsys, tmp_path):
    first = ledger_checkpoint_create()
    kept = tmp_path / "checkpoint.json"
    kept.write_text(json.dumps(checkpoint_export(first)))
    key = mac_keys()[LedgerEntry.objects.filter(guarantee=busy_guarantee).first().key_id]
    # The attacker holds the MAC key and deletes every checkpoint before rewriting.
    _as_superuser(("DELETE FROM guarantees_ledgercheckpoint", []))
    _rewrite_chain(busy_guarantee, seal=_seal_with(key), opening_raise=500_000_000)
    assert _verify(capsys)[0] == 0  # nothing left in the database contradicts the rewrite...
    code, out = _verify(capsys, "--checkpoint", str(kept))
    assert code == 1  # ...but the copy the secretariat kept does
    assert "does not match the head signed by outside copy #1" in out
    assert "this checkpoint is no longer in the registry" in out


def test_a_missing_checkpoint_in_the_middle_breaks_their_chain(busy_guarantee, capsys):
    first = ledger_checkpoint_create()
    ledger_checkpoint_create()
    _as_superuser(("DELETE FROM guarantees_ledgercheckpoint WHERE id = %s", [first.pk]))
    code, out = _verify(capsys)
    assert code == 1
    assert "the checkpoint before it is missing or was replaced" in out


def test_the_checkpoint_task_fails_loudly_on_a_rewritten_chain(busy_guarantee):
    from guarantees.tasks import ledger_checkpoint

    assert ledger_checkpoint.run() is not None
    key = mac_keys()[LedgerEntry.objects.filter(guarantee=busy_guarantee).first().key_id]
    _rewrite_chain(busy_guarantee, seal=_seal_with(key), opening_raise=1_000_000)
    with pytest.raises(LedgerTampered) as caught:
        ledger_checkpoint.run()
    assert busy_guarantee.grn in str(caught.value)
    assert Guarantee.objects.get(pk=busy_guarantee.pk).ledger_seq == busy_guarantee.ledger_seq
