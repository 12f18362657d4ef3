"""The background work's lean world (``tests.builders.transits_world``) for the failed-jobs tests."""

import pytest

from tests.builders import World, transits_world


@pytest.fixture
def world(db) -> World:
    return transits_world()
