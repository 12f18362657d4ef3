"""Signals other parts of the registry listen to (certificates render a new version after commit)."""

from django.dispatch import Signal

# Sent inside the transaction that creates a new version of a guarantee (activation or amendment).
version_created = Signal()
