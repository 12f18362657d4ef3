"""``POST /api/v1/transits/{ref}/events``: idempotent on ``message_id``; a discharge releases the hold after the
commit; an event that arrives before its declaration is kept and applied when the declaration comes."""

import pytest
from django.utils import timezone

from guarantees.models import EventStatus, Guarantee, HoldStatus, Transit, TransitEvent, TransitStatus
from tests.guarantees.api.conftest import declaration

pytestmark = pytest.mark.django_db
REF = "TG-LOME-2026-T-004512"


def _event(message_id, type_, office, **extra):
    return {"message_id": message_id, "type": type_, "office": office,
            "occurred_at": timezone.now().replace(microsecond=0).isoformat(), **extra}


def _post(client, body, ref=REF):
    return client.post(f"/api/v1/transits/{ref}/events", body, format="json")


@pytest.fixture
def declared(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert world.key_client("TG").post("/api/v1/transits", declaration(world), format="json").status_code == 201
    return world


def _transit():
    return Transit.objects.select_related("hold").get(declaration_ref=REF)


def test_event_is_accepted_with_202_and_applied(declared, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(declared.key_client("TG"), _event("TG-1", "border_exit", "TGCINK"))
    assert response.status_code == 202 and response.json() == {"status": "accepted"}
    assert _transit().status == TransitStatus.IN_TRANSIT
    assert TransitEvent.objects.get(message_id="TG-1").status == EventStatus.APPLIED


def test_same_message_again_is_200_duplicate_and_changes_nothing(declared, django_capture_on_commit_callbacks):
    body = _event("BF-9", "discharge", "BFOUAG")
    client = declared.key_client("BF")
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, body).status_code == 202
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = _post(client, body)
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert callbacks == [] and TransitEvent.objects.count() == 1


def test_same_message_id_with_other_content_is_409(declared):
    client = declared.key_client("BF")
    assert _post(client, _event("BF-9", "arrival", "BFOUAG")).status_code == 202
    response = _post(client, _event("BF-9", "discharge", "BFOUAG"))
    assert response.status_code == 409 and response.json()["code"] == "conflict"


def test_discharge_releases_the_hold_after_commit(declared, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert _post(declared.key_client("BF"), _event("BF-1", "discharge", "BFOUAG")).status_code == 202
    assert _transit().hold.status == HoldStatus.HELD  # nothing released before the commit
    for callback in callbacks:
        callback()
    transit = _transit()
    assert transit.status == TransitStatus.DISCHARGED and transit.hold.status == HoldStatus.RELEASED
    assert Guarantee.objects.get(pk=declared.guarantee.pk).held == 0
    detail = declared.key_client("TG").get(f"/api/v1/transits/{REF}").json()
    assert detail["status"] == "discharged" and detail["hold"]["status"] == "released"
    assert [e["type"] for e in detail["events"]] == ["discharge"] and detail["events"][0]["status"] == "applied"


def test_partial_discharge_lowers_the_hold(declared, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(declared.key_client("BF"),
                         _event("BF-2", "partial_discharge", "BFOUAG", amount_released=1_500_000))
    assert response.status_code == 202
    assert _transit().hold.amount == 3_000_000
    assert Guarantee.objects.get(pk=declared.guarantee.pk).held == 3_000_000


def test_cancellation_releases_the_hold(declared, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(declared.key_client("TG"), _event("TG-C", "cancellation", "TGLOME")).status_code == 202
    assert _transit().status == TransitStatus.CANCELLED
    assert Guarantee.objects.get(pk=declared.guarantee.pk).held == 0


def test_event_before_its_declaration_is_kept_and_applied_when_it_arrives(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(world.key_client("BF"), _event("BF-EARLY", "discharge", "BFOUAG"))
    assert response.status_code == 202
    assert TransitEvent.objects.get(message_id="BF-EARLY").status == EventStatus.WAITING
    assert not Transit.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert world.key_client("TG").post("/api/v1/transits", declaration(world), format="json").status_code == 201
    transit = _transit()
    assert transit.status == TransitStatus.DISCHARGED and transit.hold.status == HoldStatus.RELEASED
    assert TransitEvent.objects.get(message_id="BF-EARLY").status == EventStatus.APPLIED
    assert Guarantee.objects.get(pk=world.guarantee.pk).held == 0


def test_office_of_another_country_is_403(declared):
    response = _post(declared.key_client("TG"), _event("TG-X", "arrival", "BFOUAG"))
    assert response.status_code == 403 and response.json()["code"] == "not_allowed"
    assert not TransitEvent.objects.exists()


def test_transit_not_crossing_the_callers_country_is_answered_like_an_unknown_one(declared):
    mali = declared.key_client("ML")
    response = _post(mali, _event("ML-X", "border_entry", "MLHERE"))
    unknown = _post(mali, _event("ML-Y", "border_entry", "MLHERE"), ref="NOT-DECLARED-YET")
    # The same answer: Mali's key cannot tell which references Togo declared.
    assert (response.status_code, response.json()) == (unknown.status_code, unknown.json()) == (202, {"status": "accepted"})
    refused = TransitEvent.objects.get(message_id="ML-X")
    assert refused.status == EventStatus.REJECTED and refused.error_code == "not_on_route"
    assert _transit().status == TransitStatus.DECLARED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "partial_discharge"}, "amount_released"),
        ({"type": "discharge", "amount_released": 100}, "amount_released"),
        ({"type": "partial_discharge", "amount_released": 10.5}, "amount_released"),
        ({"type": "teleport"}, "type"),
        ({"office": "NOPE"}, "office"),
        ({"occurred_at": "2026-03-02T09:15:00"}, "occurred_at"),
        ({"message_id": ""}, "message_id"),
    ],
)
def test_invalid_events_are_400(declared, body, field):
    event = {**_event("BF-3", "discharge", "BFOUAG"), **body}
    response = _post(declared.key_client("BF"), event)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and field in response.json()["errors"]
