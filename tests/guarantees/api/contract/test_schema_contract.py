"""What the schema promises is what the server does, case by case (the fuzzing in test_schemathesis.py finds the
rest): one English schema; every 400 with ``errors``; JSON 404s; pagination's bounds; the headers it sends; enums
for statuses, codes and reasons; typed bodies; the rules on office and HS codes; discharge files checked at
upload; the bearer form of the key; descriptions written for integrators."""

import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from guarantees.api.error_codes import EVENT_REFUSAL_REASONS, HANDLER_CODES, error_codes
from guarantees.models import DischargeFile, Transit, TransitStatus
from tests.guarantees.api.conftest import declaration

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[4]


def _schema(client, **headers) -> dict:
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json", **headers)
    assert response.status_code == 200
    return response.json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


# --- One English schema ------------------------------------------------------------------------------------

def test_the_schema_is_english_whatever_the_language_asked(client):
    english = _schema(client, HTTP_ACCEPT_LANGUAGE="en")
    assert _schema(client) == english  # French is the site's default language
    assert _schema(client, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9") == english
    client.cookies["django_language"] = "fr"
    assert client.get("/api/v1/schema/?lang=fr", HTTP_ACCEPT="application/vnd.oai.openapi+json").json() == english
    text = json.dumps(english, ensure_ascii=False)
    for french in ("Statut", "Numéro", "résultats", "Bureaux de passage", "Montant"):
        assert french not in text


def test_components_and_fields_are_described_for_integrators(client):
    schemas = _schema(client)["components"]["schemas"]
    for name, component in schemas.items():
        # (The offline verification's public documents are described on their operations: README, "Offline
        # verification".)
        if "enum" in component or name.startswith("Offline"):
            continue
        assert component.get("description"), name
        assert "DRF" not in component["description"] and "deep-cop" not in component["description"], name
        if name.startswith("Paginated"):
            continue
        for field, prop in component.get("properties", {}).items():
            described = prop.get("description") or "$ref" in prop or "allOf" in prop or prop.get("items", {}).get("$ref")
            assert described, f"{name}.{field}"


# --- Errors ----------------------------------------------------------------------------------------------------

def test_every_400_is_documented_with_errors_and_an_unparsable_body_has_them(world, client):
    schema = _schema(client)
    assert "errors" in schema["components"]["schemas"]["ValidationErrorOut"]["required"]
    for path, method, operation in _operations(schema):
        if "400" in operation["responses"]:
            ref = operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ValidationErrorOut"), (path, method)
    api = world.key_client("TG")
    for path in ("/api/v1/transits", f"/api/v1/guarantees/{world.guarantee.grn}/check", "/api/v1/reconciliations"):
        response = api.post(path, data=b'{"declaration_ref": ', content_type="application/json")
        assert response.status_code == 400, path
        body = response.json()
        assert body["code"] == "parse_error" and body["errors"]["non_field_errors"], body


def test_each_status_lists_the_codes_the_handler_gives(client):
    schemas = _schema(client)["components"]["schemas"]
    for status, component in ((400, "ValidationErrorOut"), (401, "UnauthenticatedErrorOut"),
                              (403, "ForbiddenErrorOut"), (404, "NotFoundErrorOut"), (409, "ConflictErrorOut"),
                              (429, "ThrottledErrorOut")):
        code = schemas[component]["properties"]["code"]
        enum = schemas[code["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"] if "allOf" in code else code["enum"]
        assert set(HANDLER_CODES[status]) <= set(enum) == set(error_codes(status)), status
    assert {"conflict", "insufficient_balance", "guarantee_not_active", "country_not_covered"} <= set(
        error_codes(409))
    assert "event_refused" in error_codes(403)


def test_every_event_refusal_reason_in_the_code_is_in_the_schema():
    source = "\n".join(path.read_text() for path in (ROOT / "guarantees").rglob("*.py"))
    raised = set(re.findall(r'EventRefused\(\s*"([a-z_]+)"', source))
    assert raised and raised <= set(EVENT_REFUSAL_REASONS)


def test_a_path_holding_a_newline_is_a_json_404(world):
    api = world.key_client("TG")
    # Percent-encoded: the test client (urllib) drops a raw newline from a URL; the server sees it decoded.
    for path in ("/api/v1/transits/T-1%0AX", "/api/v1/%0A", "/api/v1/guarantees%0A", "/api/v1/jobs/1%0A",
                 "/api/v1/transits%0A/events"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json" and response.json()["code"] == "not_found"


# --- Pagination --------------------------------------------------------------------------------------------------

def test_pages_are_bounded_as_documented(world, client):
    schema = _schema(client)
    for path in ("/api/v1/transits", "/api/v1/guarantees"):
        operation = schema["paths"][path]["get"]
        parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
        assert parameters["page"]["minimum"] == 1 and parameters["page_size"] == {"type": "integer", "minimum": 1,
                                                                                    "maximum": 200}
        assert "404" in operation["responses"] and "400" in operation["responses"]
    api = world.key_client("BF")
    for query in ({"page": 0}, {"page": -1}, {"page": "x"}, {"page_size": 0}, {"page_size": 201}, {"page": ""}):
        response = api.get("/api/v1/guarantees", query)
        assert response.status_code == 400 and response.json()["code"] == "invalid", query
        assert set(response.json()["errors"]) == set(query)
    assert api.get("/api/v1/guarantees", {"page": 1}).status_code == 200
    past = api.get("/api/v1/guarantees", {"page": 2})
    assert past.status_code == 404 and past.json()["code"] == "not_found"
    empty = world.key_client("ML").get("/api/v1/transits", {"page": 1})
    assert empty.status_code == 200 and empty.json()["results"] == []


def test_a_blank_or_malformed_filter_is_refused(world):
    api = world.key_client("TG")
    for query in ({"status": ""}, {"overdue": "1"}, {"declared_after": "2026-03-01"}, {"office": "X" * 13}):
        response = api.get("/api/v1/transits", query)
        assert response.status_code == 400 and set(response.json()["errors"]) == set(query), query
    for bound in ("9999-12-31T23:59:59-23:00", "0001-01-01T00:00:00+23:00"):
        assert api.get("/api/v1/transits", {"declared_before": bound}).status_code == 200


# --- Headers ---------------------------------------------------------------------------------------------------

def test_the_headers_sent_are_declared(world, client, django_capture_on_commit_callbacks):
    schema = _schema(client)
    for path, method, operation in _operations(schema):
        for status, header in (("429", "Retry-After"), ("401", "WWW-Authenticate")):
            if status in operation["responses"]:
                assert header in operation["responses"][status]["headers"], (path, method)
        if operation.get("security") and {} not in operation["security"]:  # the authenticated operations
            assert {"429", "401"} <= set(operation["responses"]), (path, method)
    for path in ("/api/v1/discharges/files", "/api/v1/reconciliations"):
        assert schema["paths"][path]["post"]["responses"]["202"]["headers"]["Location"]["required"] is True
    api = world.key_client("TG")
    response = api.post("/api/v1/reconciliations", {"transits": []}, format="json")
    assert response.status_code == 202 and response["Location"].startswith("/api/v1/reconciliations/")


# --- Bodies ----------------------------------------------------------------------------------------------------

def test_corridor_is_nullable_and_null_without_a_corridor(world, client):
    schema = _schema(client)
    assert schema["components"]["schemas"]["TransitOut"]["properties"]["corridor"]["nullable"] is True
    api = world.key_client("TG")
    body = declaration(world, declaration_ref="NO-CORRIDOR", corridor=None)
    assert api.post("/api/v1/transits", body, format="json").status_code == 201
    assert api.get("/api/v1/transits/NO-CORRIDOR").json()["corridor"] == "LOM-OUA"  # found from the route
    # A transit on a route no corridor runs (or one whose corridor was retired) has none.
    Transit.objects.filter(declaration_ref="NO-CORRIDOR").update(corridor=None)
    assert api.get("/api/v1/transits/NO-CORRIDOR").json()["corridor"] is None
    assert api.get("/api/v1/transits").json()["results"][0]["corridor"] is None


def test_statuses_codes_and_reasons_are_enums_and_bodies_are_typed(client):
    schemas = _schema(client)["components"]["schemas"]

    def enum_of(component, field):
        prop = schemas[component]["properties"][field]
        if "items" in prop:
            prop = prop["items"]
        refs = [p["$ref"] for p in prop.get("allOf", prop.get("oneOf", [prop])) if "$ref" in p]
        return set().union(*(schemas[r.rsplit("/", 1)[1]].get("enum", []) for r in refs)) | set(prop.get("enum", []))

    assert enum_of("TransitEventOut", "status") == {"received", "waiting", "applied", "rejected"}
    assert set(EVENT_REFUSAL_REASONS) <= enum_of("TransitEventOut", "error_code")
    assert enum_of("ForbiddenErrorOut", "reason") == set(EVENT_REFUSAL_REASONS)
    assert enum_of("ReconciliationOut", "status") == {"received", "done", "failed"}
    assert "insufficient_balance" in enum_of("GuaranteeCheckOut", "reasons")
    assert enum_of("TransitStopOut", "role") == {"departure", "border", "destination"}
    detail = schemas["TransitDetailOut"]["properties"]
    assert detail["goods"]["items"]["$ref"].endswith("/GoodsLineOut")
    assert detail["transport"]["allOf"][0]["$ref"].endswith("/TransportOut") or detail["transport"]["$ref"]
    assert "AmountBreakdownOut" in json.dumps(detail["amount_breakdown"])


@pytest.mark.parametrize(("hs_code", "taken"), [
    ("100630", True), ("1006.30", True), ("1006 30 00 00", True), ("1006300000", True),
    ("10063", False), ("10063000001", False), ("1006a0", False), ("1006\t30", False), ("", False),
])
def test_the_hs_code_pattern_is_the_rule_the_server_applies(world, client, hs_code, taken):
    pattern = _schema(client)["components"]["schemas"]["GoodsLineInRequest"]["properties"]["hs_code"]["pattern"]
    assert bool(re.fullmatch(pattern, hs_code)) is taken
    goods = [{"hs_code": hs_code, "customs_value": 1_000_000}]
    response = world.key_client("TG").post("/api/v1/transits", declaration(world, amount=None, goods=goods),
                                           format="json")
    assert ("goods.0.hs_code" not in response.json().get("errors", {})) is taken, response.json()


@pytest.mark.parametrize(("office", "taken"), [("BFOUAG", True), ("tglome", True), ("B", False),
                                                ("BF-OUAG", False), ("ABCDEFGHIJKLM", False), (" BFOUAG", False)])
def test_the_office_code_pattern_is_the_rule_the_server_applies(world, client, office, taken):
    prop = _schema(client)["components"]["schemas"]["TransitEventInRequest"]["properties"]["office"]
    assert bool(re.fullmatch(prop["pattern"], office) and len(office) <= prop["maxLength"]) is taken
    body = {"message_id": f"M-{office}", "type": "arrival", "office": office,
            "occurred_at": timezone.now().isoformat()}
    response = world.key_client("BF").post("/api/v1/transits/T-X/events", body, format="json")
    assert ("office" not in response.json().get("errors", {})) is taken, response.json()


def test_a_number_is_not_taken_for_a_string(world):
    response = world.key_client("TG").post("/api/v1/reconciliations", {"transits": [{"declaration_ref": 123}]},
                                           format="json")
    assert response.status_code == 400 and "transits.0.declaration_ref" in response.json()["errors"]


# --- Discharge files -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "content_type"), [
    (b'{"not": "a list"}', "application/json"),
    (b"[]", "application/json"),
    (b'{"events": []}', "application/json"),
    (b'[1, 2]', "application/json"),
    (b'[{"message_id": "M-1"}]', "application/json"),
    (b'[{"message_id": "M-1", "declaration_ref": "T", "office": "BFOUAG", "occurred_at": "x", "type": {}}]',
     "application/json"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "text/csv"),
    ("message_id;declaration_ref\nM-1;T-1\n".encode(), "text/csv"),
    ("message_id,declaration_ref,office,occurred_at\nM-1,T-1,BFOUAG,é\n".encode("latin-1"), "text/csv"),
])
def test_a_file_that_cannot_be_taken_is_refused_at_once(world, content, content_type):
    response = world.key_client("BF").post("/api/v1/discharges/files", data=content, content_type=content_type)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_file" and response.json()["errors"]["file"]
    assert not DischargeFile.objects.exists()


def test_a_png_sent_as_a_multipart_file_is_refused(world):
    png = SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png")
    response = world.key_client("BF").post("/api/v1/discharges/files", {"file": png}, format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "invalid_file"
    assert not DischargeFile.objects.exists()


@pytest.mark.parametrize("wrapped", [False, True])
def test_json_lines_without_type_are_discharges_as_in_csv(world, django_capture_on_commit_callbacks, wrapped):
    assert world.key_client("TG").post("/api/v1/transits", declaration(world, declaration_ref="T-J"),
                                       format="json").status_code == 201
    lines = [{"message_id": "J-1", "declaration_ref": "T-J", "office": "BFOUAG",
              "occurred_at": timezone.now().isoformat()}]
    api = world.key_client("BF")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/discharges/files", {"events": lines} if wrapped else lines, format="json")
    assert response.status_code == 202, response.content
    job = api.get(f"/api/v1/jobs/{response.json()['job']}").json()
    assert (job["status"], job["done"], job["failed"]) == ("done", 1, 0), job
    assert Transit.objects.get(declaration_ref="T-J").status == TransitStatus.DISCHARGED


# --- Authentication -----------------------------------------------------------------------------------------

def test_the_key_is_taken_as_a_bearer_token_too(world, client):
    schemes = _schema(client)["components"]["securitySchemes"]
    assert schemes["BearerAuth"] == {**schemes["BearerAuth"], "type": "http", "scheme": "bearer"}
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {world.raw['BF']}")
    assert api.get("/api/v1/guarantees").status_code == 200
    api.credentials(HTTP_AUTHORIZATION="Bearer cu_nope_nope")
    assert api.get("/api/v1/guarantees").status_code == 401
