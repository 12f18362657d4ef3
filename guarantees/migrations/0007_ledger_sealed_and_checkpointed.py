"""The ledger becomes sealed and append-only.

1. Entries get the id of the key that sealed them, and checkpoints (signed chain heads) get their table.
2. Every existing chain is checked with the formula it was written with (plain SHA-256, unkeyed), then resealed
   with HMAC-SHA256 under the configured key (``LEDGER_MAC_KEY``). A chain that does not check out stops the
   migration: resealing it would launder whatever changed it. (Run this with the production key set.)
3. On PostgreSQL, a trigger refuses UPDATE and DELETE on entries and checkpoints, whoever asks: the application never edits an
   entry, so only someone writing to the database behind it would. (TRUNCATE needs the table's owner or the
   TRUNCATE privilege, which the application's role should not have: see the README's threat model.)
"""

import datetime
import hashlib

from django.db import migrations, models

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION guarantees_ledger_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % refused on % (id %)', TG_OP, TG_TABLE_NAME, OLD.id
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'A correction is a new, reversing entry.';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON guarantees_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION guarantees_ledger_entry_append_only();
CREATE TRIGGER ledger_checkpoint_append_only BEFORE UPDATE OR DELETE ON guarantees_ledgercheckpoint
    FOR EACH ROW EXECUTE FUNCTION guarantees_ledger_entry_append_only();
"""
DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS ledger_entry_append_only ON guarantees_ledgerentry;
DROP TRIGGER IF EXISTS ledger_checkpoint_append_only ON guarantees_ledgercheckpoint;
DROP FUNCTION IF EXISTS guarantees_ledger_entry_append_only();
"""


def _unkeyed(prev_hash, guarantee_id, seq, kind, d_amount, d_held, d_claimed, d_paid, hold_id, reference, created_at):
    """The formula entries were chained with before this migration (frozen here: it is history)."""
    payload = "|".join(str(part) for part in (
        prev_hash, guarantee_id, seq, kind, d_amount, d_held, d_claimed, d_paid, hold_id or "", reference,
        created_at.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds"),
    ))
    return hashlib.sha256(payload.encode()).hexdigest()


def reseal(apps, schema_editor):
    from django.conf import settings

    from guarantees.services.ledger import entry_mac, mac_keys

    Guarantee = apps.get_model("guarantees", "Guarantee")
    LedgerEntry = apps.get_model("guarantees", "LedgerEntry")
    key_id = settings.LEDGER_MAC_KEY_ID
    key = mac_keys()[key_id]
    for guarantee in Guarantee.objects.filter(ledger_seq__gt=0).order_by("pk").iterator():
        old_prev = new_prev = ""
        for entry in LedgerEntry.objects.filter(guarantee_id=guarantee.pk).order_by("seq"):
            fields = (entry.guarantee_id, entry.seq, entry.kind, entry.d_amount, entry.d_held, entry.d_claimed,
                      entry.d_paid, entry.hold_id, entry.reference, entry.created_at)
            if entry.prev_hash != old_prev or _unkeyed(entry.prev_hash, *fields) != entry.hash:
                raise RuntimeError(
                    f"The ledger of guarantee {guarantee.grn or guarantee.pk} is broken at entry #{entry.seq}: "
                    "it is not resealed. Investigate with verify_ledger of the previous release first."
                )
            old_prev = entry.hash
            sealed = entry_mac(key=key, key_id=key_id, prev_hash=new_prev, guarantee_id=entry.guarantee_id,
                               seq=entry.seq, kind=entry.kind, d_amount=entry.d_amount, d_held=entry.d_held,
                               d_claimed=entry.d_claimed, d_paid=entry.d_paid, hold_id=entry.hold_id,
                               reference=entry.reference, created_at=entry.created_at)
            LedgerEntry.objects.filter(pk=entry.pk).update(prev_hash=new_prev, hash=sealed, key_id=key_id)
            new_prev = sealed
        if guarantee.ledger_hash != old_prev:
            raise RuntimeError(f"The chain head of guarantee {guarantee.grn or guarantee.pk} does not match its "
                               "last entry: it is not resealed.")
        Guarantee.objects.filter(pk=guarantee.pk).update(ledger_hash=new_prev)


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER_SQL, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('guarantees', '0006_transit_newest_first'),
    ]

    operations = [
        migrations.CreateModel(
            name='LedgerCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(db_index=True, verbose_name='sealed at')),
                ('document', models.TextField(verbose_name='heads (canonical JSON)')),
                ('digest', models.CharField(max_length=64, unique=True, verbose_name='SHA-256 of the document')),
                ('previous_digest', models.CharField(blank=True, max_length=64, unique=True, verbose_name='previous checkpoint')),
                ('guarantees', models.PositiveIntegerField(verbose_name='guarantees')),
                ('entries', models.BigIntegerField(verbose_name='entries')),
                ('algorithm', models.CharField(max_length=40, verbose_name='signature algorithm')),
                ('signature', models.TextField(verbose_name='signature (base64)')),
                ('certificate', models.TextField(verbose_name="signer's certificate (PEM)")),
            ],
            options={
                'verbose_name': 'ledger checkpoint',
                'verbose_name_plural': 'ledger checkpoints',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='key_id',
            field=models.CharField(default='', max_length=16),
        ),
        migrations.RunPython(reseal, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(add_trigger, drop_trigger, elidable=False),
    ]
