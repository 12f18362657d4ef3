"""Where a version stands, in order of precedence: closed, cancelled, superseded, suspended, expired, not yet
in force, valid."""

import datetime

import pytest

from guarantees.models import GuaranteeStatus
from guarantees.services.certificates import Standing, version_standing
from tests.guarantees.documents.conftest import amend

pytestmark = pytest.mark.django_db

S = GuaranteeStatus


def _standing(g, number=None, today=None):
    return version_standing(guarantee=g, number=number, today=today).standing


def test_precedence(s, guarantee):
    today = guarantee.valid_from
    assert _standing(guarantee, 1, today) == Standing.VALID
    assert _standing(guarantee, 1, today - datetime.timedelta(days=1)) == Standing.NOT_YET_VALID
    assert _standing(guarantee, 1, guarantee.valid_until + datetime.timedelta(days=1)) == Standing.EXPIRED
    guarantee.status = S.SUSPENDED
    assert _standing(guarantee, 1, guarantee.valid_until + datetime.timedelta(days=1)) == Standing.SUSPENDED
    guarantee.status = S.EXPIRED
    assert _standing(guarantee, 1, today) == Standing.EXPIRED

    guarantee.status = S.ACTIVE
    guarantee.save(update_fields=["status"])
    g = amend(s, guarantee, amount=60_000_000)
    assert _standing(g, 1, today) == Standing.SUPERSEDED
    assert _standing(g, 2, today) == Standing.VALID
    g.status = S.SUSPENDED
    assert _standing(g, 1, today) == Standing.SUPERSEDED  # a newer version outranks the suspension
    g.status = S.CANCELLED
    assert _standing(g, 1, today) == Standing.CANCELLED
    g.status = S.CLOSED
    assert _standing(g, 2, today) == Standing.CLOSED


def test_current_by_default_and_none_for_an_unknown_version(guarantee):
    standing = version_standing(guarantee=guarantee)
    assert standing.version.number == 1 and standing.is_current and standing.is_valid
    assert version_standing(guarantee=guarantee, number=5) is None
