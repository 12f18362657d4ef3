"""``POST /api/v1/guarantees/{grn}/check``: live balance and validity reasons; an unknown GRN and a wrong access
code get the same 404; repeated wrong codes are slowed down (429)."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from guarantees.models import Guarantee, GuaranteeStatus
from guarantees.services.guarantees import guarantee_suspend
from guarantees.services.holds import hold_reserve

pytestmark = pytest.mark.django_db


def _check(client, grn, **body):
    return client.post(f"/api/v1/guarantees/{grn}/check", body, format="json")


def test_check_answers_as_api_md(world):
    response = _check(world.key_client("TG"), world.guarantee.grn, access_code=world.code, amount=4_500_000)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "grn", "status", "valid", "reasons", "currency", "available", "sufficient", "valid_until", "countries",
        "principal", "guarantor",
    }
    g = world.guarantee
    assert body == {
        "grn": g.grn, "status": "active", "valid": True, "reasons": [], "currency": "XOF", "available": 50_000_000,
        "sufficient": True, "valid_until": g.valid_until.isoformat(), "countries": ["BF", "ML", "NE", "TG"],
        "principal": {"name": g.principal.name, "tin": g.principal.tin},
        "guarantor": {"name": g.bank.organisation.name},
    }


def test_code_is_not_case_sensitive_and_grn_may_have_spaces(world):
    grn = world.guarantee.grn
    response = _check(world.key_client("TG"), grn.lower(), access_code=world.code.lower())
    assert response.status_code == 200
    assert response.json()["sufficient"] is None  # no amount asked


def test_balance_is_live(world):
    client = world.key_client("TG")
    hold_reserve(guarantee=world.guarantee, amount=48_000_000, reference="OTHER-1")
    body = _check(client, world.guarantee.grn, access_code=world.code, amount=4_500_000).json()
    assert body["available"] == 2_000_000
    assert body["sufficient"] is False and body["valid"] is False and body["reasons"] == ["insufficient_balance"]


def test_suspended_guarantee_is_not_valid(world):
    guarantee_suspend(guarantee=world.guarantee, by=world.s.supervisor, reason="Enquête")
    body = _check(world.key_client("TG"), world.guarantee.grn, access_code=world.code).json()
    assert body["status"] == "suspended" and body["valid"] is False and body["reasons"] == ["suspended"]


def test_expired_and_not_yet_valid(world):
    today = timezone.localdate()
    Guarantee.objects.filter(pk=world.guarantee.pk).update(valid_until=today - datetime.timedelta(days=1),
                                                            valid_from=today - datetime.timedelta(days=30))
    assert _check(world.key_client("TG"), world.guarantee.grn, access_code=world.code).json()["reasons"] == ["expired"]
    Guarantee.objects.filter(pk=world.guarantee.pk).update(valid_from=today + datetime.timedelta(days=2),
                                                            valid_until=today + datetime.timedelta(days=30))
    body = _check(world.key_client("TG"), world.guarantee.grn, access_code=world.code).json()
    assert body["reasons"] == ["not_yet_valid"] and body["valid"] is False


def test_status_reason_for_other_statuses(world):
    Guarantee.objects.filter(pk=world.guarantee.pk).update(status=GuaranteeStatus.CANCELLED)
    assert _check(world.key_client("TG"), world.guarantee.grn, access_code=world.code).json()["reasons"] == [
        "cancelled"
    ]


def test_unknown_grn_and_wrong_code_get_the_same_404(world):
    client = world.key_client("TG")
    wrong_code = _check(client, world.guarantee.grn, access_code="ZZZZ" if world.code != "ZZZZ" else "YYYY")
    unknown = _check(client, "26BF999999999999-00", access_code=world.code)
    assert wrong_code.status_code == unknown.status_code == 404
    assert wrong_code.content == unknown.content
    assert wrong_code.json() == {"code": "not_found", "detail": wrong_code.json()["detail"]}


def test_revoked_access_code_is_a_404(world):
    from guarantees.models import AccessCode
    from guarantees.services.access_codes import access_code_revoke

    access_code_revoke(access_code=AccessCode.objects.get(guarantee=world.guarantee), by=world.s.agent)
    assert _check(world.key_client("TG"), world.guarantee.grn, access_code=world.code).status_code == 404


@override_settings(REGISTRY_ACCESS_CODE_MAX_FAILURES=3, REGISTRY_ACCESS_CODE_WINDOW_SECONDS=600)
def test_repeated_wrong_codes_for_a_grn_are_slowed_down(world):
    wrong = "ZZZZ" if world.code != "ZZZZ" else "YYYY"
    for _ in range(3):
        assert _check(world.key_client("TG"), world.guarantee.grn, access_code=wrong).status_code == 404
    # From any caller, even with the right code, until the window has passed.
    response = _check(world.key_client("ML"), world.guarantee.grn, access_code=world.code)
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_attempts" and response["Retry-After"] == "600"


@override_settings(REGISTRY_ACCESS_CODE_MAX_FAILURES=3)
def test_repeated_wrong_codes_from_a_caller_are_slowed_down(world):
    client = world.key_client("TG")
    for serial in range(3):
        assert _check(client, f"26BF00000000999{serial}-00", access_code="ZZZZ").status_code == 404
    assert _check(client, world.guarantee.grn, access_code=world.code).status_code == 429
    # Another caller is not affected.
    assert _check(world.key_client("BF"), world.guarantee.grn, access_code=world.code).status_code == 200


def test_signed_in_customs_officer_may_check(world):
    response = _check(world.person_client("officer_ml"), world.guarantee.grn, access_code=world.code, amount=1)
    assert response.status_code == 200 and response.json()["valid"] is True


@pytest.mark.parametrize("body", [{}, {"access_code": ""}, {"access_code": "7K2Q", "amount": 1.5},
                                  {"access_code": "7K2Q", "amount": "100"}, {"access_code": "7K2Q", "amount": 0}])
def test_bad_check_body_is_400(world, body):
    response = world.key_client("TG").post(f"/api/v1/guarantees/{world.guarantee.grn}/check", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
