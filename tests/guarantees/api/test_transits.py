"""``POST /api/v1/transits`` (declaration and hold), ``GET /api/v1/transits`` and ``GET /api/v1/transits/{ref}``."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from guarantees.models import Country, Guarantee, Hold, LedgerEntry, Transit, TransitStatus
from guarantees.services.guarantees import guarantee_suspend
from guarantees.services.holds import hold_reserve
from tests.guarantees.api.conftest import declaration

pytestmark = pytest.mark.django_db


def _declare(world, country="TG", **overrides):
    return world.key_client(country).post("/api/v1/transits", declaration(world, **overrides), format="json")


def _held(world) -> int:
    return Guarantee.objects.get(pk=world.guarantee.pk).held


def test_declaration_takes_the_hold_and_answers_201(world):
    body = declaration(world)
    response = world.key_client("TG").post("/api/v1/transits", body, format="json")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert set(answer) == {"declaration_ref", "status", "amount_held", "deadline", "guarantee"}
    declared_at = parse_datetime(body["declared_at"])
    assert answer == {
        "declaration_ref": "TG-LOME-2026-T-004512",
        "status": "declared",
        "amount_held": 4_500_000,
        "deadline": (declared_at + datetime.timedelta(days=5)).isoformat().replace("+00:00", "Z"),
        "guarantee": {"grn": world.guarantee.grn, "available": 45_500_000},
    }
    transit = Transit.objects.get(declaration_ref="TG-LOME-2026-T-004512")
    assert transit.hold.amount == 4_500_000 and _held(world) == 4_500_000
    assert transit.declared_by == world.customs["TG"] and transit.api_key == world.keys["TG"]
    assert [s.office.code for s in transit.stops.order_by("position")] == ["TGLOME", "TGCINK", "BFCINK", "BFOUAG"]
    assert transit.goods[0]["hs_code"] == "100630" and transit.transport["vehicle"] == "BF-1234-AB"


def test_replay_with_the_same_body_answers_200_with_the_same_body_and_takes_nothing_more(world):
    client = world.key_client("TG")
    body = declaration(world)
    first = client.post("/api/v1/transits", body, format="json")
    entries = LedgerEntry.objects.count()
    second = client.post("/api/v1/transits", body, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert _held(world) == 4_500_000 and Hold.objects.count() == 1 and Transit.objects.count() == 1
    assert LedgerEntry.objects.count() == entries


def test_replay_answers_the_same_body_even_after_other_holds(world):
    client = world.key_client("TG")
    body = declaration(world)
    first = client.post("/api/v1/transits", body, format="json").json()
    hold_reserve(guarantee=world.guarantee, amount=1_000_000, reference="OTHER-1")
    again = client.post("/api/v1/transits", body, format="json")
    assert again.status_code == 200 and again.json() == first


def test_same_reference_with_other_content_is_409_conflict(world):
    client = world.key_client("TG")
    assert client.post("/api/v1/transits", declaration(world), format="json").status_code == 201
    response = client.post("/api/v1/transits", declaration(world, amount=4_600_000), format="json")
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert _held(world) == 4_500_000


def test_same_reference_from_another_administration_is_409(world):
    body = declaration(world)
    assert world.key_client("TG").post("/api/v1/transits", body, format="json").status_code == 201
    response = world.key_client("BF").post("/api/v1/transits", body, format="json")
    assert response.status_code == 409 and response.json()["code"] == "conflict"


def test_insufficient_balance_is_409_with_available(world):
    response = _declare(world, amount=60_000_000)
    assert response.status_code == 409
    assert response.json() == {"code": "insufficient_balance", "detail": response.json()["detail"],
                               "available": 50_000_000}
    assert _held(world) == 0 and not Transit.objects.exists()


def test_guarantee_not_active_is_409(world):
    guarantee_suspend(guarantee=world.guarantee, by=world.s.supervisor, reason="Enquête")
    response = _declare(world)
    assert response.status_code == 409 and response.json()["code"] == "guarantee_not_active"


def test_country_not_covered_is_409(world):
    Country.objects.filter(code="NE").update(is_covered=False)
    response = _declare(world, office_of_destination="NENIAM", route=["TGCINK", "BFCINK", "BFKANT", "NEMAKA"],
                        corridor="LOM-NIA")
    assert response.status_code == 409 and response.json()["code"] == "country_not_covered"
    assert _held(world) == 0


def test_office_of_departure_of_another_country_is_403(world):
    response = _declare(world, country="BF")  # a Burkina key declaring a departure from Lomé
    assert response.status_code == 403 and response.json()["code"] == "not_allowed"
    assert not Transit.objects.exists()


def test_neither_amount_nor_goods_is_refused(world):
    response = _declare(world, amount=None, goods=[])
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "amount" in response.json()["errors"]
    assert _held(world) == 0


def test_amount_at_stake_is_computed_from_the_goods_when_absent(world):
    response = _declare(world, amount=...)
    assert response.status_code == 201, response.content
    transit = Transit.objects.get()
    assert transit.amount_source == "computed" and transit.amount_held == response.json()["amount_held"] > 0
    assert transit.amount_breakdown["amount"] == transit.amount_held
    detail = world.key_client("TG").get(f"/api/v1/transits/{transit.declaration_ref}").json()
    assert detail["amount_source"] == "computed" and detail["amount_breakdown"]["amount"] == transit.amount_held


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"office_of_departure": "XXLOME"}, "office_of_departure"),
        ({"office_of_destination": "BFNONE"}, "office_of_destination"),
        ({"route": ["TGCINK", "ZZZZ"]}, "route"),
        ({"corridor": "NOWHERE"}, "corridor"),
        ({"declaration_ref": "has space"}, "declaration_ref"),
        ({"declaration_ref": "x" * 65}, "declaration_ref"),
        ({"declared_at": "2999-01-01T00:00:00Z"}, "declared_at"),
        ({"goods": [{"hs_code": "abc", "customs_value": 10}]}, "goods.0.hs_code"),
        ({"transport": {"containers": "MSCU1234567"}}, "transport.containers"),
    ],
)
def test_invalid_declarations_are_400_with_the_field(world, overrides, field):
    response = _declare(world, **overrides)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and field in response.json()["errors"], response.json()


def test_route_comes_from_the_corridor_when_absent(world):
    response = _declare(world, route=...)
    assert response.status_code == 201
    detail = world.key_client("TG").get("/api/v1/transits/TG-LOME-2026-T-004512").json()
    assert detail["route"] == ["TGCINK", "BFCINK"] and detail["corridor"] == "LOM-OUA"


def test_wrong_access_code_is_the_same_404_as_an_unknown_grn(world):
    wrong = "ZZZZ" if world.code != "ZZZZ" else "YYYY"
    bad_code = _declare(world, access_code=wrong)
    bad_grn = _declare(world, grn="26BF999999999999-00")
    assert bad_code.status_code == bad_grn.status_code == 404
    assert bad_code.content == bad_grn.content
    check = world.key_client("TG").post("/api/v1/guarantees/26BF999999999999-00/check", {"access_code": "ZZZZ"},
                                        format="json")
    assert check.content == bad_code.content
    assert _held(world) == 0


@override_settings(REGISTRY_ACCESS_CODE_MAX_FAILURES=2)
def test_wrong_access_codes_on_declarations_are_counted_for_the_429(world):
    wrong = "ZZZZ" if world.code != "ZZZZ" else "YYYY"
    assert _declare(world, access_code=wrong).status_code == 404
    assert _declare(world, access_code=wrong).status_code == 404
    response = _declare(world)
    assert response.status_code == 429 and response.json()["code"] == "too_many_attempts"


# --- Reading ------------------------------------------------------------------------------------------------

@pytest.fixture
def three_transits(world):
    client = world.key_client("TG")
    now = timezone.now()
    refs = {
        "A": dict(declaration_ref="T-A", declared_at=(now - datetime.timedelta(days=1)).isoformat()),
        "B": dict(declaration_ref="T-B", declared_at=(now - datetime.timedelta(days=4)).isoformat(), amount=1000),
        "C": dict(declaration_ref="T-C", declared_at=(now - datetime.timedelta(hours=1)).isoformat(), amount=2000,
                  office_of_destination="NENIAM", route=["TGCINK", "BFCINK", "BFFADA", "BFKANT", "NEMAKA"],
                  corridor="LOM-NIA"),
    }
    for overrides in refs.values():
        assert client.post("/api/v1/transits", declaration(world, **overrides), format="json").status_code == 201
    # T-B came 20 days ago and is overdue now: a declaration whose time limit has passed is refused today, so it is
    # declared within its limit and moved back.
    from django.db.models import F

    from guarantees.models import Transit

    back = datetime.timedelta(days=16)
    Transit.objects.filter(declaration_ref="T-B").update(declared_at=F("declared_at") - back,
                                                         deadline=F("deadline") - back)
    return world


def _refs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [t["declaration_ref"] for t in response.json()["results"]]


def test_list_is_paginated_newest_first(three_transits):
    client = three_transits.key_client("TG")
    body = client.get("/api/v1/transits").json()
    assert body["count"] == 3 and body["previous"] is None
    assert [t["declaration_ref"] for t in body["results"]] == ["T-C", "T-A", "T-B"]
    page = client.get("/api/v1/transits", {"page_size": 2, "page": 2}).json()
    assert [t["declaration_ref"] for t in page["results"]] == ["T-B"]
    assert client.get("/api/v1/transits", {"page": 9}).status_code == 404


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "declared"}, ["T-C", "T-A", "T-B"]),
        ({"status": "discharged"}, []),
        ({"office": "NEMAKA"}, ["T-C"]),
        ({"office": "bfouag"}, ["T-A", "T-B"]),
        ({"corridor": "LOM-NIA"}, ["T-C"]),
        ({"overdue": "true"}, ["T-B"]),
        ({"overdue": "false"}, ["T-C", "T-A"]),
    ],
)
def test_list_filters(three_transits, params, expected):
    assert _refs(three_transits.key_client("TG").get("/api/v1/transits", params)) == expected


def test_list_filters_by_guarantee_and_dates(three_transits):
    client = three_transits.key_client("TG")
    grn = three_transits.guarantee.grn
    assert len(_refs(client.get("/api/v1/transits", {"guarantee": grn}))) == 3
    assert _refs(client.get("/api/v1/transits", {"guarantee": "26BF999999999999-00"})) == []
    since = (timezone.now() - datetime.timedelta(days=2)).isoformat()
    assert _refs(client.get("/api/v1/transits", {"declared_after": since})) == ["T-C", "T-A"]
    assert _refs(client.get("/api/v1/transits", {"declared_before": since})) == ["T-B"]


def test_date_filters_accept_any_offset(three_transits):
    # Python accepts offsets PostgreSQL refuses (beyond ±15:59): the filter turns them into UTC first.
    client = three_transits.key_client("TG")
    assert _refs(client.get("/api/v1/transits", {"declared_after": "2000-01-01T00:00:00-22:00"})) == [
        "T-C", "T-A", "T-B"
    ]


# (A valid RFC 3339 bound beyond what UTC holds is the latest instant, not an error:
# tests/guarantees/api/contract/test_schema_contract.py.)
@pytest.mark.parametrize("params", [{"status": "nope"}, {"declared_after": "yesterday"}, {"overdue": "maybe"},
                                    {"declared_after": "2026-03-01"}, {"status": ""}])
def test_bad_filters_are_400(three_transits, params):
    response = three_transits.key_client("TG").get("/api/v1/transits", params)
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_list_item_fields(three_transits):
    item = three_transits.key_client("TG").get("/api/v1/transits", {"office": "NEMAKA"}).json()["results"][0]
    assert item["overdue"] is False and item["guarantee"] == {"grn": three_transits.guarantee.grn}
    assert item["office_of_departure"] == "TGLOME" and item["office_of_destination"] == "NENIAM"
    assert item["route"] == ["TGCINK", "BFCINK", "BFFADA", "BFKANT", "NEMAKA"] and item["amount_held"] == 2000
    assert item["status"] == TransitStatus.DECLARED


def test_detail_has_route_hold_and_events(three_transits):
    detail = three_transits.key_client("TG").get("/api/v1/transits/T-A").json()
    assert detail["hold"]["status"] == "held" and detail["hold"]["amount_held"] == 4_500_000
    assert detail["events"] == []
    assert [s["role"] for s in detail["stops"]] == ["departure", "border", "border", "destination"]
    assert three_transits.key_client("TG").get("/api/v1/transits/T-NONE").status_code == 404
