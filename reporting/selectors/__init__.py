"""The reports' figures: one function per figure, each reading through the ``reporting`` database alias (the
default database unless ``REPORTING_DATABASE_URL`` names a standby) and each starting from what the reader's
organisation may see (``guarantees.selectors``), so that a report never shows more than the registry's lists.

Every figure is read live with grouped queries (a handful per page, never one per row); amounts are whole
francs summed by the database. No function here writes.
"""
