"""The newest-first indexes of transits carry the columns the lists filter on (issue #13).

A list of a bank's or a forwarder's transits walks ``transit_newest_first`` and keeps the rows whose guarantee is
theirs; page 50 of the API walks ~28 000 rows for its 50 at a million transits. Reading each row's
``guarantee_id`` from the table cost 105 ms; with ``guarantee_id``, ``corridor_id`` and ``status`` in the index
(``INCLUDE``) the walk is an index-only scan: 22 ms. Likewise the open transits' partial index carries
``deadline`` and ``status``: counting Togo's overdue transits read 25 000 rows from the table (113 ms), now from
the index (42 ms, most of it probing each one's route). PostgreSQL only (SQLite has no ``INCLUDE``; the plain
index stays there). Same names, so the model state (plain indexes) still names them rightly.
"""

from django.db import migrations

from guarantees.dbops import PostgreSQLOnly


class Migration(migrations.Migration):

    dependencies = [
        ("guarantees", "0055_statement_per_language"),
    ]

    operations = [
        PostgreSQLOnly(
            sql=[
                "DROP INDEX IF EXISTS transit_newest_first",
                "CREATE INDEX transit_newest_first ON guarantees_transit (declared_at DESC, id DESC) "
                "INCLUDE (guarantee_id, corridor_id, status)",
                "DROP INDEX IF EXISTS transit_open_newest_first",
                "CREATE INDEX transit_open_newest_first ON guarantees_transit (declared_at DESC, id DESC) "
                "INCLUDE (deadline, status, guarantee_id, corridor_id) "
                "WHERE status IN ('declared', 'in_transit', 'arrived', 'overdue')",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS transit_newest_first",
                "CREATE INDEX transit_newest_first ON guarantees_transit (declared_at DESC, id DESC)",
                "DROP INDEX IF EXISTS transit_open_newest_first",
                "CREATE INDEX transit_open_newest_first ON guarantees_transit (declared_at DESC, id DESC) "
                "WHERE status IN ('declared', 'in_transit', 'arrived', 'overdue')",
            ],
        ),
    ]
