"""No N+1 on any list: every list page and API list, as each role, sends as many queries for page 50 as for page 1
(and no more than a small budget), on a registry written by ``benchmarks.seed`` (1 500 transits: 60 pages)."""

import datetime
import math

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks.seed import seed, sign_in_users
from guarantees.selectors.guarantees import guarantees_visible_to
from tests.accounts.helpers import sign_in_as

# The registry is written by seed_scale's COPY, which only PostgreSQL has (the lists' queries are the same on both).
pytestmark = pytest.mark.postgresql

BUDGET = 16  # queries per list page: session, user, memberships, MFA, the count, the page, the filters' choices…
DETAIL_BUDGET = 24  # a guarantee's page: three paged lists (count and page each), versions, trail, amendments…
TODAY = timezone.now().date()

# (path, query, page parameter): every list of the registry, first and filtered.
LISTS = [
    ("/", {}, None),
    ("/guarantees/", {}, "page"),
    ("/guarantees/", {"status": "active"}, "page"),
    ("/transits/", {}, "page"),
    ("/transits/", {"q": "T-0"}, "page"),
    ("/transits/", {"office": "BFOUAG"}, "page"),
    ("/transits/", {"corridor": "LOM-OUA"}, "page"),
    ("/transits/", {"declared_after": (TODAY - datetime.timedelta(days=400)).isoformat(),
                    "declared_before": TODAY.isoformat()}, "page"),
    ("/transits/", {"overdue": "on"}, "page"),
    ("/transits/", {"status": "discharged"}, "page"),
    ("/enquiries/", {}, "page"),
    ("/claims/", {}, "page"),
    ("/notifications/", {}, "page"),
    ("/bank/queue/", {}, "to_prepare_page"),
    ("/bank/portfolio/", {}, "page"),
    ("/customs/queue/", {}, "page"),
    ("/events/refused/", {}, "page"),
    ("/secretariat/banks/", {}, "page"),
    ("/secretariat/api-keys/", {}, "page"),
    ("/secretariat/failed-tasks/", {}, "page"),
    ("/secretariat/ledger/", {}, "page"),
    ("/discharges/", {}, "page"),
    ("/reconciliations/", {}, "page"),
    ("/guarantees/{busiest}/", {}, "closed_holds_page"),
    ("/guarantees/{busiest}/", {}, "entries_page"),
    ("/api/v1/transits", {"page_size": 25}, "page"),
    ("/api/v1/transits", {"page_size": 25, "overdue": "true"}, "page"),
    ("/api/v1/transits", {"page_size": 25, "office": "BFOUAG"}, "page"),
    ("/api/v1/guarantees", {"page_size": 2}, "page"),
]


@pytest.fixture
def registry(db):
    seed(transits=1500, guarantees=16, banks=4, forwarders=3, log=lambda _m: None)
    return sign_in_users()


def _client(user) -> Client:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    if not Authenticator.objects.filter(user=user).exists():
        TOTP.activate(user, generate_totp_secret())
    client = Client()
    sign_in_as(client, user)
    return client


def _get(client, path, query):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, query, HTTP_ACCEPT="application/json" if path.startswith("/api/") else "*/*")
    return response, len(captured)


@pytest.mark.parametrize("role", ["forwarder", "bank_checker", "customs_TG", "secretariat"])
def test_every_list_sends_as_many_queries_for_page_50_as_for_page_1(registry, role, django_assert_max_num_queries):
    client = _client(registry[role])
    visible = guarantees_visible_to(user=registry[role])
    busiest = visible.order_by("-ledger_seq").values_list("pk", flat=True).first()
    measured = 0
    for path, query, page_param in LISTS:
        budget = DETAIL_BUDGET if "{busiest}" in path else BUDGET
        if busiest is None and "{busiest}" in path:
            continue
        path = path.format(busiest=busiest)
        first, first_count = _get(client, path, query)
        if first.status_code == 403:
            continue  # not this role's list
        assert first.status_code == 200, (role, path, query, first.status_code)
        assert first_count <= budget, (role, path, query, first_count)
        measured += 1
        if page_param is None:
            continue
        page = 50
        if path.startswith("/api/"):  # DRF answers 404 past the last page: the furthest page up to 50
            body = first.json()
            page = max(1, min(50, math.ceil(body["count"] / query["page_size"])))
        with django_assert_max_num_queries(first_count):
            far, far_count = _get(client, path, {**query, page_param: page})
        assert far.status_code == 200, (role, path, query, far.status_code)
        assert far_count == first_count, (role, path, query, first_count, far_count)
    assert measured >= 8


def test_the_busiest_lists_really_have_50_pages(registry):
    client = _client(registry["customs_TG"])
    response = client.get("/transits/", {"page": 50})
    page = response.context["page"]
    assert page.number == 50 and len(page.object_list) == 25
    body = client.get("/api/v1/transits", {"page_size": 25, "page": 50}, HTTP_ACCEPT="application/json").json()
    assert len(body["results"]) == 25 and body["count"] == 1500 and body["count_capped"] is False
