"""The shape of every error: ``{"code", "detail", ...}`` with the status of API.md, in the caller's language."""

import pytest
from django.test import override_settings

from accounts.api_keys import api_key_revoke
from tests.guarantees.api.conftest import declaration

pytestmark = pytest.mark.django_db


def _is_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.parametrize("header", [None, "Api-Key cu_abcdefgh_wrong", "Api-Key ", "Api-Key not-a-key"])
def test_missing_or_bad_key_is_401(world, client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.get("/api/v1/transits", **extra)
    _is_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Api-Key")


def test_revoked_key_is_401(world):
    api_key_revoke(api_key=world.keys["TG"])
    _is_error(world.key_client("TG").get("/api/v1/transits"), 401, "not_authenticated")


def test_other_authorization_scheme_is_not_authenticated(world, client):
    _is_error(client.get("/api/v1/transits", HTTP_AUTHORIZATION="Bearer abc"), 401, "not_authenticated")


def test_malformed_json_is_400_parse_error(world):
    response = world.key_client("TG").post("/api/v1/transits", data="{not json", content_type="application/json")
    _is_error(response, 400, "parse_error")


@pytest.mark.parametrize("body", ["[]", "null", "42", '"text"', "NaN"])
def test_json_that_is_not_an_object_is_400(world, body):
    response = world.key_client("TG").post("/api/v1/transits", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid", "parse_error")


def test_validation_error_lists_fields(world):
    body = _is_error(world.key_client("TG").post("/api/v1/transits", {}, format="json"), 400, "invalid")
    for name in ("declaration_ref", "grn", "access_code", "office_of_departure", "declared_at"):
        assert name in body["errors"]


@pytest.mark.parametrize("amount", [4500000.0, "4500000", True, 4500000.5, -1, 0])
def test_amounts_are_json_integers_only(world, amount):
    response = world.key_client("TG").post("/api/v1/transits", declaration(world, amount=amount), format="json")
    body = _is_error(response, 400, "invalid")
    assert "amount" in body["errors"]


def test_nested_errors_are_named_by_path(world):
    goods = [{"hs_code": "12", "customs_value": 1.5}]
    body = _is_error(
        world.key_client("TG").post("/api/v1/transits", declaration(world, goods=goods), format="json"), 400, "invalid"
    )
    assert "goods.0.hs_code" in body["errors"] and "goods.0.customs_value" in body["errors"]


def test_naive_datetime_is_refused(world):
    response = world.key_client("TG").post(
        "/api/v1/transits", declaration(world, declared_at="2026-03-02T09:15:00"), format="json"
    )
    assert "declared_at" in _is_error(response, 400, "invalid")["errors"]


def test_unsupported_content_type_is_415(world):
    response = world.key_client("TG").post("/api/v1/transits", data="a=b", content_type="text/plain")
    _is_error(response, 415, "unsupported_media_type")


def test_wrong_method_is_405(world):
    response = world.key_client("TG").delete("/api/v1/transits")
    _is_error(response, 405, "method_not_allowed")


def test_unknown_path_is_a_json_404(world):
    _is_error(world.key_client("TG").get("/api/v1/nothing/here"), 404, "not_found")
    # Whatever the method, and without a CSRF token: never the HTML CSRF page.
    _is_error(world.key_client("TG").post("/api/v1/guarantees/%C3%A9t%C3%A9/check", {}), 404, "not_found")


def test_detail_follows_accept_language_french_by_default(world):
    fr = world.key_client("TG").get("/api/v1/transits/UNKNOWN-REF")
    en = world.key_client("TG", HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/transits/UNKNOWN-REF")
    assert _is_error(fr, 404, "not_found")["detail"] == "Introuvable."
    assert _is_error(en, 404, "not_found")["detail"] == "Not found."


@override_settings(API_THROTTLE_RATES={"api_key": "3/m", "user": "3/m", "anon": "3/m"})
def test_too_many_requests_is_429_with_retry_after(world):
    client = world.key_client("TG")
    for _ in range(3):
        assert client.get("/api/v1/transits").status_code == 200
    response = client.get("/api/v1/transits")
    body = _is_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60 and body["retry_after"] == int(response["Retry-After"])
    # Counted per key: another administration is not slowed down.
    assert world.key_client("BF").get("/api/v1/transits").status_code == 200


def test_session_post_without_csrf_token_is_403(world):
    client = world.person_client("officer", csrf=True)
    response = client.post(
        f"/api/v1/guarantees/{world.guarantee.grn}/check", {"access_code": world.code}, format="json"
    )
    _is_error(response, 403, "permission_denied")


def test_session_post_with_csrf_token_passes(world):
    client = world.person_client("officer", csrf=True)
    client.get("/api/v1/transits")  # any page sets no cookie; fetch the token the usual way
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    response = client.post(
        f"/api/v1/guarantees/{world.guarantee.grn}/check", {"access_code": world.code}, format="json",
        HTTP_X_CSRFTOKEN=_mask_cipher_secret(secret),
    )
    assert response.status_code == 200, response.content


def test_person_without_two_factor_is_refused(world):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=world.people["officer"]).delete()
    response = world.person_client("officer").get("/api/v1/transits")
    assert response.status_code == 403 and response.json()["code"] == "mfa_required"


def test_an_unexpected_error_in_a_view_is_a_json_500_logged_with_its_traceback(world, monkeypatch, caplog):
    from guarantees.api import views

    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(views, "transit_event_receive", broken)
    body = {"message_id": "BF-1", "type": "discharge", "office": "BFOUAG", "occurred_at": "2026-03-06T15:40:00Z"}
    response = world.key_client("BF").post("/api/v1/transits/ANY-REF/events", body, format="json")
    assert _is_error(response, 500, "server_error")["detail"]
    assert "disk on fire" not in response.content.decode()
    logged = [r for r in caplog.records if r.levelno >= 40 and r.exc_info]
    assert logged and "disk on fire" in str(logged[0].exc_info[1])


def test_an_error_outside_drf_is_a_json_500_under_api_and_the_html_page_elsewhere(world, monkeypatch):
    """A middleware that fails (here the two-factor check of a signed-in person) never shows Django's HTML 500
    to an API client."""
    from django.test import Client

    from accounts import mfa
    from tests.accounts.helpers import sign_in_as

    def broken(request, user):
        raise RuntimeError("database gone")

    client = sign_in_as(Client(raise_request_exception=False), world.people["officer"])
    monkeypatch.setattr(mfa, "mfa_state", broken)
    _is_error(client.get("/api/v1/transits"), 500, "server_error")
    page = client.get("/guarantees/")
    assert page.status_code == 500 and not page["Content-Type"].startswith("application/json")


def test_a_deeply_nested_json_body_is_400_parse_error(world):
    body = "[" * 100_000 + "]" * 100_000
    response = world.key_client("TG").post("/api/v1/transits", data=body, content_type="application/json")
    _is_error(response, 400, "parse_error")
