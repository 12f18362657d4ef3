"""Who reaches which endpoint: one caller × endpoint matrix over the whole API.

No or revoked credentials → 401; a caller without the permission → 403; an office that is not the caller's
country's → 403 ``not_allowed``; another organisation's object → 404; otherwise the success status. Each row
is asserted whole, so a failure shows every caller's status at once.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create, api_key_revoke
from guarantees.models import EventStatus, TransitEvent
from tests.guarantees.api.conftest import declaration

pytestmark = pytest.mark.django_db

CALLERS = (
    "anonymous", "revoked_key", "key_tg", "key_bf", "key_ml", "agent", "agent_other", "checker", "checker_other",
    "officer", "officer_tg", "officer_ml", "secretariat",
)
KEYS = {"key_tg": "TG", "key_bf": "BF", "key_ml": "ML"}
PEOPLE = ("agent", "agent_other", "checker", "checker_other", "officer", "officer_tg", "officer_ml", "secretariat")
REF = "TG-LOME-2026-T-000001"


@pytest.fixture
def matrix(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = world.key_client("TG").post("/api/v1/transits", declaration(world, declaration_ref=REF),
                                               format="json")
    assert response.status_code == 201
    job = world.key_client("TG").post("/api/v1/discharges/files", data=b"message_id\n", content_type="text/csv")
    revoked, raw = api_key_create(organisation=world.customs["TG"], name="old")
    api_key_revoke(api_key=revoked)

    def client_for(caller: str) -> APIClient:
        if caller == "anonymous":
            return APIClient()
        if caller == "revoked_key":
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
            return client
        if caller in KEYS:
            return world.key_client(KEYS[caller])
        return world.person_client(caller)

    world.client_for = client_for
    world.job_id = job.json()["job"]
    return world


def _row(matrix, call) -> dict[str, int]:
    return {caller: call(matrix.client_for(caller), caller) for caller in CALLERS}


def _expect(default: int, **overrides) -> dict[str, int]:
    row = {caller: default for caller in CALLERS}
    row.update(anonymous=401, revoked_key=401)
    row.update(overrides)
    return row




def test_guarantee_detail(matrix):
    grn = matrix.guarantee.grn
    row = _row(matrix, lambda c, _who: c.get(f"/api/v1/guarantees/{grn}").status_code)
    # Issued in Burkina Faso by bank X for forwarder A: A, X, the customs of BF and the secretariat see it.
    assert row == _expect(404, key_bf=200, agent=200, checker=200, officer=200, secretariat=200)


def test_guarantee_list(matrix):
    def call(client, _who):
        response = client.get("/api/v1/guarantees")
        return response.json()["count"] if response.status_code == 200 else response.status_code

    assert _row(matrix, call) == _expect(0, key_bf=1, agent=1, checker=1, officer=1, secretariat=1)


def test_guarantee_check(matrix):
    grn, code = matrix.guarantee.grn, matrix.code
    row = _row(matrix, lambda c, _who: c.post(f"/api/v1/guarantees/{grn}/check", {"access_code": code},
                                             format="json").status_code)
    # Any customs system or officer may check with the code (it is how a border post sees a foreign guarantee).
    assert row == _expect(403, key_tg=200, key_bf=200, key_ml=200, officer=200, officer_tg=200, officer_ml=200)


def test_transit_declaration(matrix):
    def call(client, who):
        body = declaration(matrix, declaration_ref=f"T-{who}", amount=1000)
        return client.post("/api/v1/transits", body, format="json").status_code

    # Only customs systems declare, and only from their own country's offices (departure Lomé: Togo).
    assert _row(matrix, call) == _expect(403, key_tg=201)


def test_transit_list(matrix):
    def call(client, _who):
        response = client.get("/api/v1/transits")
        return response.json()["count"] if response.status_code == 200 else response.status_code

    # The route Lomé → Ouagadougou crosses Togo and Burkina Faso, not Mali.
    assert _row(matrix, call) == _expect(
        0, key_tg=1, key_bf=1, agent=1, checker=1, officer=1, officer_tg=1, secretariat=1
    )


def test_transit_detail(matrix):
    row = _row(matrix, lambda c, _who: c.get(f"/api/v1/transits/{REF}").status_code)
    assert row == _expect(404, key_tg=200, key_bf=200, agent=200, checker=200, officer=200, officer_tg=200,
                          secretariat=200)


def test_transit_events(matrix):
    offices = {"key_tg": "TGCINK", "key_bf": "BFCINK", "key_ml": "MLHERE"}

    def call(client, who):
        body = {"message_id": f"M-{who}", "type": "border_entry", "office": offices.get(who, "BFCINK"),
                "occurred_at": timezone.now().isoformat()}
        return client.post(f"/api/v1/transits/{REF}/events", body, format="json").status_code

    # Mali's system, with a Malian office, names a transit that never crosses Mali: answered as for a transit not
    # declared yet (202: nothing tells it the reference exists), kept refused, never applied.
    assert _row(matrix, call) == _expect(403, key_tg=202, key_bf=202, key_ml=202)
    refused = TransitEvent.objects.get(message_id="M-key_ml")
    assert refused.status == EventStatus.REJECTED and refused.error_code == "not_on_route"


def test_transit_event_with_an_office_of_another_country(matrix):
    body = {"message_id": "M-x", "type": "arrival", "office": "BFOUAG", "occurred_at": timezone.now().isoformat()}
    for caller in ("key_tg", "key_ml"):
        response = matrix.client_for(caller).post(f"/api/v1/transits/{REF}/events", body, format="json")
        assert (response.status_code, response.json()["code"]) == (403, "not_allowed")


def test_discharge_files(matrix):
    def call(client, _who):
        upload = SimpleUploadedFile("d.csv", b"message_id,declaration_ref\n")
        return client.post("/api/v1/discharges/files", {"file": upload}, format="multipart").status_code

    assert _row(matrix, call) == _expect(
        403, key_tg=202, key_bf=202, key_ml=202, officer=202, officer_tg=202, officer_ml=202
    )


def test_job(matrix):
    row = _row(matrix, lambda c, _who: c.get(f"/api/v1/jobs/{matrix.job_id}").status_code)
    # Sent by Togo's system: Togo's administration (its key and its officers) sees it, no one else.
    assert row == _expect(403, key_tg=200, key_bf=404, key_ml=404, officer=404, officer_tg=200, officer_ml=404)
