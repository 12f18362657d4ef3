"""The OpenAPI schema documents every endpoint with its bodies, errors and the Api-Key scheme; the docs are
served offline; and a bounded schemathesis run over the whole schema finds no server error."""

import itertools
import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.guarantees.api.conftest import declaration

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("/api/v1/guarantees", "get"),
    ("/api/v1/guarantees/{grn}", "get"),
    ("/api/v1/guarantees/{grn}/check", "post"),
    ("/api/v1/transits", "get"),
    ("/api/v1/transits", "post"),
    ("/api/v1/transits/{declaration_ref}", "get"),
    ("/api/v1/transits/{declaration_ref}/events", "post"),
    ("/api/v1/discharges/files", "post"),
    ("/api/v1/jobs/{id}", "get"),
}
# Public, no authentication: what offline verifiers fetch (keys and the signed status list).
PUBLIC_OPERATIONS = {
    ("/api/v1/offline/keys", "get"),
    ("/api/v1/offline/status-list", "get"),
    ("/api/v1/offline/status-list.cbor", "get"),
}


@pytest.fixture
def openapi(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _generated_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in schema["paths"].items() for method in item if method != "parameters"}


# Every operation of the schema, as it stands when the tests are collected (endpoints added later are fuzzed
# and checked too).
_SCHEMA = _generated_schema()
ALL_OPERATIONS = _operations(_SCHEMA)


def test_schema_is_public_and_lists_every_endpoint(openapi):
    assert OPERATIONS | PUBLIC_OPERATIONS <= _operations(openapi) == ALL_OPERATIONS


def test_every_operation_documents_its_errors_and_security(openapi):
    for path, method in sorted(PUBLIC_OPERATIONS):
        operation = openapi["paths"][path][method]
        assert {"200", "429"} <= set(operation["responses"]) and not operation.get("security", [{}])[0], path
    for path, method in sorted(ALL_OPERATIONS - PUBLIC_OPERATIONS):
        operation = openapi["paths"][path][method]
        responses = operation["responses"]
        assert {"401", "403", "429"} <= set(responses), (path, method)
        assert any(code.startswith("2") for code in responses)
        assert {"ApiKeyAuth": []} in operation["security"], (path, method)
        if method == "post" and path != "/api/v1/discharges/files" and (path, method) in OPERATIONS:
            assert "400" in responses and "application/json" in operation["requestBody"]["content"]
    assert set(openapi["paths"]["/api/v1/transits"]["post"]["responses"]) >= {"200", "201", "404", "409"}
    assert set(openapi["paths"]["/api/v1/transits/{declaration_ref}/events"]["post"]["responses"]) >= {
        "200", "202", "404", "409"
    }
    scheme = openapi["components"]["securitySchemes"]["ApiKeyAuth"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "Authorization"}


def test_bodies_use_the_field_names_of_api_md(openapi):
    schemas = openapi["components"]["schemas"]
    assert set(schemas["GuaranteeCheckOut"]["properties"]) == {
        "grn", "status", "valid", "reasons", "currency", "available", "sufficient", "valid_until", "countries",
        "principal", "guarantor",
    }
    assert set(schemas["TransitDeclaredOut"]["properties"]) == {
        "declaration_ref", "status", "amount_held", "deadline", "guarantee"
    }
    assert set(schemas["TransitDeclareInRequest"]["properties"]) == {
        "declaration_ref", "grn", "access_code", "office_of_departure", "office_of_destination", "route",
        "corridor", "declared_at", "amount", "goods", "transport",
    }
    assert schemas["TransitDeclareInRequest"]["properties"]["amount"]["type"] == "integer"
    assert set(schemas["TransitEventInRequest"]["properties"]) == {
        "message_id", "type", "office", "occurred_at", "amount_released"
    }
    assert {"status", "total", "done", "failed", "errors"} <= set(schemas["JobOut"]["properties"])


def test_docs_are_served_offline(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    # The start-up script is a file of its own (the CSP allows no inline script); it points at the schema.
    assert "<script>" not in html and "<style>" not in html
    script = client.get("/api/v1/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()


# --- schemathesis --------------------------------------------------------------------------------------------
# schemathesis's own pytest plugin (``from_fixture`` / ``parametrize``) relies on a pytest attribute that
# pytest 9 removed, so each operation's Hypothesis strategy is driven here with ``@given`` directly.

@pytest.fixture
def api_schema(world, settings):
    """The schema loaded from the app in-process (WSGI), in the test's transaction."""
    from config.wsgi import application

    settings.REGISTRY_ACCESS_CODE_MAX_FAILURES = 10**6
    settings.API_THROTTLE_RATES = {"api_key": "", "user": "", "anon": ""}
    # One real transit, so the operations on an existing declaration are reached too.
    client = world.key_client("TG")
    assert client.post("/api/v1/transits", declaration(world, declaration_ref="FUZZ-1"),
                       format="json").status_code == 201
    # Django closes "old" connections around each request; in a test transaction that would break it. The
    # test client unhooks this for its own requests (and hooks it back after), so unhook it after using it.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _aim_at_real_objects(case, world, counter=itertools.count()) -> None:
    """Every other case names the real guarantee, its access code and the real declaration, so the run gets
    past the 404s into the services."""
    if next(counter) % 2:
        return
    if isinstance(case.body, dict):
        for name, value in (("grn", world.guarantee.grn), ("access_code", world.code)):
            if name in case.body:
                case.body[name] = value
    if case.path_parameters and "grn" in case.path_parameters:
        case.path_parameters["grn"] = world.guarantee.grn
    if case.path_parameters and "declaration_ref" in case.path_parameters:
        case.path_parameters["declaration_ref"] = "FUZZ-1"


def _negatable(operation: dict) -> bool:
    """Whether some input can be invalid: a body, a query parameter, or a path parameter that is not a free
    string (a GET whose only input is such a string has nothing invalid to generate)."""
    if "requestBody" in operation:
        return True
    return any(p["in"] == "query" or p.get("schema", {}).get("type") != "string"
               for p in operation.get("parameters", []))


RUNS = [(path, method, GenerationMode.POSITIVE) for path, method in sorted(ALL_OPERATIONS)] + [
    (path, method, GenerationMode.NEGATIVE) for path, method in sorted(ALL_OPERATIONS)
    if _negatable(_SCHEMA["paths"][path][method])
]
# Bounded for the suite; SCHEMATHESIS_MAX_EXAMPLES=500 for a deeper run by hand.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"))


@pytest.mark.parametrize(("path", "method", "mode"), RUNS)
def test_no_server_error_on_any_operation(api_schema, world, path, method, mode):
    operation = api_schema[path][method.upper()]
    # Burkina Faso's system sees the guarantee (issued in BF); Togo's declared the transit.
    country = "BF" if path.startswith("/api/v1/guarantees") and method == "get" else "TG"
    headers = {"Authorization": f"Api-Key {world.raw[country]}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))
    def run(case):
        _aim_at_real_objects(case, world)
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])

    run()
