"""The worlds of the other folders, reused: the background work's (operations)."""

from tests.guarantees.operations.conftest import _fresh_cache, world  # noqa: F401
