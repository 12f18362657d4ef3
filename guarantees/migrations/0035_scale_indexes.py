"""Indexes for lists at a million transits (issue #13).

* ``enquiry_newest_first``, ``claim_newest_first``: the lists' own order, so a page reads the first rows of an
  index instead of sorting the table.
* ``transit_open_newest_first``: the open transits (a few percent of all) newest first, partial; the "overdue"
  filter (``overdue_condition``) and the filters by an open status walk it.
* Trigram indexes (``pg_trgm``, GIN) on ``UPPER(declaration_ref)`` and ``UPPER(grn)``: they serve Django's
  ``icontains`` (``UPPER(col::text) LIKE UPPER('%…%')``), i.e. a search by any part of a reference of three
  characters or more — what a customs officer types is often the end of a declaration number, which a prefix
  (B-tree) index cannot serve. PostgreSQL only: on SQLite (``make run``) the operation does nothing and the
  search scans, as before. The extension needs the right to create it (a superuser, or pg_trgm trusted, which it
  is since PostgreSQL 13 for a database owner).
"""

from django.conf import settings
from django.db import migrations, models

from guarantees.dbops import PostgreSQLOnly


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_organisation_country_code'),
        ('guarantees', '0030_headroom_alerts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='claim',
            index=models.Index(fields=['-issued_at', '-id'], name='claim_newest_first'),
        ),
        migrations.AddIndex(
            model_name='enquiry',
            index=models.Index(fields=['-opened_at', '-id'], name='enquiry_newest_first'),
        ),
        migrations.AddIndex(
            model_name='transit',
            index=models.Index(condition=models.Q(('status__in', ['declared', 'in_transit', 'arrived', 'overdue'])),
                               fields=['-declared_at', '-id'], name='transit_open_newest_first'),
        ),
        PostgreSQLOnly(
            sql=[
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                "CREATE INDEX transit_ref_trgm ON guarantees_transit USING gin (UPPER(declaration_ref::text) gin_trgm_ops)",
                "CREATE INDEX guarantee_grn_trgm ON guarantees_guarantee USING gin (UPPER(grn::text) gin_trgm_ops)",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS guarantee_grn_trgm",
                "DROP INDEX IF EXISTS transit_ref_trgm",
                # The extension stays: another schema object may use it by now.
            ],
        ),
    ]
