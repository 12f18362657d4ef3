"""No N+1 on the report pages: the number of queries of each page is bounded, and stays the same when the world
grows (more guarantees, forwarders and transits)."""

import dataclasses

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from tests.builders import active_guarantee
from tests.factories import ForwarderFactory, country, member
from tests.reporting.conftest import _declare

pytestmark = pytest.mark.django_db

PAGES = [
    ("checker", "bank-exposure", 24), ("checker", "bank-claims", 18),
    ("tg_officer", "customs-duties", 18), ("tg_officer", "customs-open", 18),
    ("tg_officer", "customs-release-times", 18), ("tg_officer", "customs-cases", 18),
    ("agent", "forwarder", 22), ("secretariat", "system", 24),
]


def _user(world, who):
    return {"checker": world.s.checker, "tg_officer": world.tg_officer, "agent": world.s.agent,
            "secretariat": world.secretariat}[who]


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(("who", "slug", "most"), PAGES)
def test_report_page_queries_are_bounded_and_do_not_grow(world, who, slug, most, django_assert_max_num_queries,
                                                         settings):
    # Every request reads its report afresh (its snapshot is stale at once; the task runs in the request here), so
    # that what is counted is the report's reading, not the snapshot kept.
    settings.REPORT_SNAPSHOT_FRESH_SECONDS = 0
    client = world.client(_user(world, who))
    url = reverse("reporting:page", args=[slug])
    client.get(url)  # warm the per-process caches (country names, event rules)
    with django_assert_max_num_queries(most):
        client.get(url)
    before = _count(client, url)
    # More of everything: three more guarantees of the same forwarder and bank, two other forwarders at that bank,
    # transits on each.
    for n in range(3):
        g = active_guarantee(world.s, amount=20_000_000)
        _declare(world.togo, g, f"TG-MORE-{n}", amount=1_000_000, days_ago=n + 1)
    for n in range(2):
        forwarder = ForwarderFactory(country=country("BF"))
        s = dataclasses.replace(world.s, forwarder=forwarder, agent=member(forwarder, Role.FORWARDER_AGENT))
        other = active_guarantee(s, amount=10_000_000)
        _declare(world.togo, other, f"TG-OTHER-{n}", amount=500_000, days_ago=1, corridor="LOM-NIA",
                 destination="NENIAM")
    assert _count(client, url) == before, slug
