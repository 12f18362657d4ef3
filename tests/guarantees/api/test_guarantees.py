"""``GET /api/v1/guarantees`` and ``GET /api/v1/guarantees/{grn}``: balance and open holds, narrowed per caller."""

import pytest

from guarantees.services.holds import hold_reserve
from tests.builders import active_guarantee

pytestmark = pytest.mark.django_db


def test_detail_has_balance_and_open_holds(world):
    hold_reserve(guarantee=world.guarantee, amount=3_000_000, reference="TG-1")
    response = world.person_client("agent").get(f"/api/v1/guarantees/{world.guarantee.grn}")
    assert response.status_code == 200
    body = response.json()
    assert body["balance"] == {"amount": 50_000_000, "held": 3_000_000, "claimed": 0, "paid": 0,
                               "available": 47_000_000}
    assert [(h["declaration_ref"], h["amount_held"], h["status"]) for h in body["open_holds"]] == [
        ("TG-1", 3_000_000, "held")
    ]
    assert body["grn"] == world.guarantee.grn and body["status"] == "active" and body["currency"] == "XOF"
    assert body["countries"] == ["BF", "ML", "NE", "TG"]
    assert body["principal"]["name"] == world.guarantee.principal.name


def test_released_holds_are_not_open(world):
    from guarantees.services.holds import hold_release

    hold_release(hold=hold_reserve(guarantee=world.guarantee, amount=1_000, reference="TG-2"))
    body = world.key_client("BF").get(f"/api/v1/guarantees/{world.guarantee.grn}").json()
    assert body["open_holds"] == [] and body["balance"]["held"] == 0


def test_grn_is_matched_whatever_its_case(world):
    assert world.key_client("BF").get(f"/api/v1/guarantees/{world.guarantee.grn.lower()}").status_code == 200


def test_list_is_narrowed_and_filtered(world):
    other = active_guarantee(world.s, amount=10_000_000)
    client = world.person_client("agent")
    body = client.get("/api/v1/guarantees").json()
    assert body["count"] == 2 and {g["grn"] for g in body["results"]} == {world.guarantee.grn, other.grn}
    assert "open_holds" not in body["results"][0] and "balance" in body["results"][0]
    assert client.get("/api/v1/guarantees", {"status": "suspended"}).json()["count"] == 0
    assert client.get("/api/v1/guarantees", {"status": "bogus"}).status_code == 400
    assert world.person_client("agent_other").get("/api/v1/guarantees").json()["count"] == 0
