"""``POST /api/v1/guarantees/{grn}/check``: live balance and validity reasons; an unknown GRN and a wrong access
code get the same 404; repeated wrong codes are slowed down (429)."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from guarantees.models import Guarantee, GuaranteeStatus
from guarantees.services.guarantees import guarantee_suspend
from guarantees.services.holds import hold_reserve
from tests.guarantees.api.conftest import declaration

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


def _wrong(world) -> str:
    return "ZZZZ" if world.code != "ZZZZ" else "YYYY"


@override_settings(REGISTRY_ACCESS_CODE_MAX_FAILURES=3, REGISTRY_ACCESS_CODE_WINDOW_SECONDS=600)
def test_repeated_wrong_codes_slow_down_that_caller_on_that_grn(world):
    togo = world.key_client("TG")
    for _ in range(3):
        assert _check(togo, world.guarantee.grn, access_code=_wrong(world)).status_code == 404
    # That caller, on that GRN, is refused even with the right code, until its window has passed.
    response = _check(togo, world.guarantee.grn, access_code=world.code)
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_attempts"
    assert response["Retry-After"] == "600" and response.json()["retry_after"] == 600


@override_settings(REGISTRY_ACCESS_CODE_MAX_FAILURES=3, REGISTRY_ACCESS_CODE_WINDOW_SECONDS=600)
def test_wrong_codes_from_one_country_never_block_another_countrys_right_code(world):
    """The attack: one country's key sends wrong codes for a guarantee; another country declares with the right
    code. Before, the GRN's counter refused every caller for 900 s."""
    for _ in range(5):
        _check(world.key_client("ML"), world.guarantee.grn, access_code=_wrong(world))
    assert _check(world.key_client("ML"), world.guarantee.grn, access_code=world.code).status_code == 429
    response = world.key_client("TG").post("/api/v1/transits", declaration(world), format="json")
    assert response.status_code == 201, response.content
    assert _check(world.key_client("BF"), world.guarantee.grn, access_code=world.code).status_code == 200
    # A person of the slowed-down country is another caller too.
    assert _check(world.person_client("officer_ml"), world.guarantee.grn, access_code=world.code).status_code == 200


@override_settings(REGISTRY_ACCESS_CODE_MAX_FAILURES=3)
def test_typos_on_other_guarantees_never_lock_a_key_out(world):
    """The attack: five typos in a day's declarations locked the whole API key out of every guarantee."""
    client = world.key_client("TG")
    for serial in range(5):
        assert _check(client, f"26BF00000000999{serial}-00", access_code="ZZZZ").status_code == 404
    assert _check(client, world.guarantee.grn, access_code=world.code).status_code == 200
    response = client.post("/api/v1/transits", declaration(world), format="json")
    assert response.status_code == 201, response.content


@override_settings(REGISTRY_ACCESS_CODE_MAX_FAILURES=3)
def test_an_unknown_grn_slows_down_exactly_like_a_known_one(world):
    client = world.key_client("TG")
    answers = {}
    for grn in (world.guarantee.grn, "26BF999999999999-00"):
        answers[grn] = [_check(client, grn, access_code=_wrong(world)) for _ in range(4)]
    known, unknown = answers.values()
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [404, 404, 404, 429]
    assert [r.content for r in known] == [r.content for r in unknown]


@override_settings(REGISTRY_ACCESS_CODE_MAX_FAILURES=3, REGISTRY_ACCESS_CODE_WINDOW_SECONDS=600)
def test_retry_after_says_the_time_really_left(world, monkeypatch):
    import time

    client = world.key_client("TG")
    for _ in range(3):
        _check(client, world.guarantee.grn, access_code=_wrong(world))
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 200)
    response = _check(client, world.guarantee.grn, access_code=world.code)
    assert response.status_code == 429
    assert 399 <= int(response["Retry-After"]) <= 400 and response.json()["retry_after"] == int(response["Retry-After"])
    assert "7 minutes" in world.key_client("TG", HTTP_ACCEPT_LANGUAGE="en").post(
        f"/api/v1/guarantees/{world.guarantee.grn}/check", {"access_code": world.code}, format="json"
    ).json()["detail"]
    # Once the window has passed, the caller is let through again.
    monkeypatch.setattr(time, "time", lambda: now + 601)
    assert _check(client, world.guarantee.grn, access_code=world.code).status_code == 200


def test_signed_in_customs_officer_may_check(world):
    response = _check(world.person_client("officer_ml"), world.guarantee.grn, access_code=world.code, amount=1)
    assert response.status_code == 200 and response.json()["valid"] is True


@pytest.mark.parametrize("body", [{}, {"access_code": ""}, {"access_code": "7K2Q", "amount": 1.5},
                                  {"access_code": "7K2Q", "amount": "100"}, {"access_code": "7K2Q", "amount": 0}])
def test_bad_check_body_is_400(world, body):
    response = world.key_client("TG").post(f"/api/v1/guarantees/{world.guarantee.grn}/check", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


@override_settings(REGISTRY_ACCESS_CODE_MAX_FAILURES=3, REGISTRY_ACCESS_CODE_ALERT_FAILURES=5)
def test_repeated_failures_on_a_guarantee_alert_its_principal_and_the_secretariat_once(world):
    from guarantees.models import AlertKind, GuaranteeAlert, Notification

    for country_code, tries in (("TG", 3), ("ML", 2)):
        for _ in range(tries):
            _check(world.key_client(country_code), world.guarantee.grn, access_code=_wrong(world))
    alerts = GuaranteeAlert.objects.filter(guarantee=world.guarantee, kind=AlertKind.WRONG_ACCESS_CODES)
    assert alerts.count() == 1
    told = Notification.objects.filter(event="access_code_failures", guarantee=world.guarantee)
    assert {n.recipient for n in told} == {world.people["agent"], world.people["secretariat"]}
    body = told.first().body
    assert "SIDONIA TG" in body and "SIDONIA ML" in body and "5" in body.split()
    assert world.code not in body and _wrong(world) not in body
    # Blocking nobody: the right code still goes through for a third country.
    assert _check(world.key_client("NE"), world.guarantee.grn, access_code=world.code).status_code == 200
    # More failures in the same window: no second alert.
    for _ in range(3):
        _check(world.key_client("NE"), world.guarantee.grn, access_code=_wrong(world))
        _check(world.person_client("officer_tg"), world.guarantee.grn, access_code=_wrong(world))
    assert alerts.count() == 1 and told.count() == 2


@override_settings(REGISTRY_ACCESS_CODE_ALERT_FAILURES=2)
def test_the_alert_is_given_once_per_window_even_when_two_processes_reach_it(world):
    from guarantees.models import GuaranteeAlert
    from guarantees.services.access_codes import access_code_failures_alert

    first = access_code_failures_alert(guarantee=world.guarantee, failures=2, callers={"apikey:0"})
    again = access_code_failures_alert(guarantee=world.guarantee, failures=2, callers=set())
    assert first is not None and again is None
    later = access_code_failures_alert(guarantee=world.guarantee, failures=2, callers=set(),
                                       now=timezone.now() + datetime.timedelta(hours=1))
    assert later is not None and GuaranteeAlert.objects.filter(guarantee=world.guarantee).count() == 2


@override_settings(REGISTRY_ACCESS_CODE_MAX_FAILURES=3, REGISTRY_ACCESS_CODE_ALERT_FAILURES=2)
def test_failures_on_an_unknown_grn_alert_nobody(world):
    from guarantees.models import GuaranteeAlert, Notification

    for country_code in ("TG", "ML", "NE"):
        _check(world.key_client(country_code), "26BF999999999999-00", access_code="ZZZZ")
    assert not GuaranteeAlert.objects.exists() and not Notification.objects.filter(event="access_code_failures")
