"""The organisation's country became its ISO code (``0002`` now adds a plain column): databases migrated while it
was a foreign key to ``guarantees.Country`` still carry that constraint; drop it, so that accounts depends on no
other app in the database either. (On SQLite the constraint is part of the table's definition; it is left, harmless:
every code it names exists.) A CHECK keeps the column an ISO code, whatever writes it."""

from django.db import migrations, models

FIND = """
SELECT con.conname FROM pg_constraint con
JOIN pg_class rel ON rel.oid = con.conrelid
JOIN pg_attribute att ON att.attrelid = rel.oid AND att.attnum = ANY (con.conkey)
WHERE rel.relname = 'accounts_organisation' AND con.contype = 'f' AND att.attname = 'country_id'
"""


def drop_foreign_key(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FIND)
        for (name,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE accounts_organisation DROP CONSTRAINT "{name}"')


class Migration(migrations.Migration):

    dependencies = [("accounts", "0004_mfa_secrets_encrypted")]

    operations = [
        migrations.RunPython(drop_foreign_key, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="organisation",
            constraint=models.CheckConstraint(condition=models.Q(("country__regex", "^[A-Z]{2}$")),
                                              name="organisation_country_iso_code"),
        ),
    ]
