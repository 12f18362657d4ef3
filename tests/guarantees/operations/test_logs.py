"""Logs (guarantees.logs): JSON lines, a request id carried from the request into the tasks it queues and their
log lines, and no secret or personal data — checked on what a sign-in (password, then TOTP), API calls with a key
and an access code, and a task really log, with everything logged at DEBUG through the production handler."""

import io
import json
import logging
import re

import pyotp
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create
from accounts.roles import Role
from guarantees import logs
from guarantees.reference.importer import reference_import
from guarantees.services.access_codes import access_code_issue
from tests.accounts.helpers import PASSWORD, give_totp, sign_in, verified
from tests.builders import active_guarantee, scene
from tests.factories import member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]


@pytest.fixture
def captured():
    """The production handler (JSON formatter, redaction filter) on the root logger at DEBUG, into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RedactingFilter())
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet = logging.getLogger("django.db.backends")
    quiet_level = quiet.level
    quiet.setLevel(logging.DEBUG)  # the SQL too: parameters are where an e-mail would leak
    yield buffer
    root.removeHandler(handler)
    root.setLevel(saved)
    quiet.setLevel(quiet_level)


def _start(buffer) -> None:
    """Forget what the test's own set-up logged (factories print the objects they build): only the requests count."""
    buffer.seek(0)
    buffer.truncate()


def _lines(buffer) -> list[dict]:
    text = buffer.getvalue()
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line is one JSON object


def _assert_clean(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} is in the logs"


def test_redaction_masks_what_a_careless_message_would_leak():
    cases = {
        "login password=hunter2-hunter2 for bob@example.org": ["hunter2-hunter2", "bob@example.org"],
        "set_password('correct-horse-battery')": ["correct-horse-battery"],
        "Authorization: Api-Key cu_live_0123456789abcdef": ["cu_live_0123456789abcdef"],
        "Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig": ["eyJhbGciOiJIUzI1NiJ9.payload.sig"],
        "{'access_code': 'K7P2-Q9XM', 'code': '492817'}": ["K7P2-Q9XM", "492817"],
        "/api/v1/check?access_code=ABCD1234&grn=CU-BF-1": ["ABCD1234"],
        "TOTP 123456 refused": ["123456"],
        '{"first_name": "Aminata", "last_name": "Traoré"}': ["Aminata", "Traoré"],
    }
    for message, secrets in cases.items():
        _assert_clean(logs.redact(message), secrets)
    assert logs.redact("guarantee 42 released 1500 XOF") == "guarantee 42 released 1500 XOF"


def test_a_sign_in_with_password_and_totp_logs_no_secret(client, captured, settings):
    settings.DEBUG = True  # every SQL statement with its parameters is logged: where an e-mail would leak
    s = scene("BF")
    user = verified(member(s.bank.organisation, Role.BANK_MAKER, first_name="Aminata", last_name="Ouedraogo",
                           email="aminata.ouedraogo@banque.example"))
    secret = give_totp(user)
    _start(captured)
    sign_in(client, user.email, password="wrong-password-0")  # a failed attempt first
    response = sign_in(client, user.email)
    assert response["Location"] == reverse("mfa_authenticate")
    code = pyotp.TOTP(secret).now()
    client.post(reverse("mfa_authenticate"), {"code": "000000"})
    client.post(reverse("mfa_authenticate"), {"code": code})
    text = captured.getvalue()
    _lines(captured)
    assert text  # the SQL at least: something was logged and checked
    _assert_clean(text, [PASSWORD, "wrong-password-0", user.email, "Aminata", "Ouedraogo", secret, code])


def test_api_calls_with_a_key_and_an_access_code_log_no_secret(captured, settings):
    settings.DEBUG = True
    reference_import()
    s = scene("BF")
    guarantee = active_guarantee(s, amount=10_000_000)
    code = access_code_issue(guarantee=guarantee, by=s.agent, label="SIDONIA")
    _key, raw = api_key_create(organisation=s.customs, name="SIDONIA BF")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    _start(captured)
    ok = client.post(f"/api/v1/guarantees/{guarantee.grn}/check", {"access_code": code}, format="json")
    wrong = client.post(f"/api/v1/guarantees/{guarantee.grn}/check", {"access_code": "WRONG-CODE"}, format="json")
    assert ok.status_code == 200 and wrong.status_code in (403, 404)
    bad_key = APIClient()
    bad_key.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw[:-4]}XXXX")
    bad_key_answer = bad_key.get("/api/v1/transits")
    assert bad_key_answer.status_code == 401
    lines = _lines(captured)
    assert any(line["logger"] == "django.request" for line in lines)  # the refusals were logged
    # Each line of a request carries that request's id, the one it answered with.
    refused = [line for line in lines if line["logger"] == "django.request"]
    # Each refusal is logged with the id its request answered with.
    assert {line["request_id"] for line in refused} == {wrong["X-Request-ID"], bad_key_answer["X-Request-ID"]}
    _assert_clean(captured.getvalue(), [raw, raw[:-4], code, s.agent.email])


def test_a_task_logs_with_the_request_id_of_the_request_that_queued_it_and_no_secret(own_redis, tmp_path,
                                                                                      settings):
    from django.db import connections

    from benchmarks.releases import WorkerProcess, celery_broker, database_url
    from tests.processes import wait_until

    reference_import()
    s = scene("BF")
    guarantee = active_guarantee(s, amount=10_000_000)
    code = access_code_issue(guarantee=guarantee, by=s.agent, label="SIDONIA")
    from accounts.models import Organisation
    from accounts.roles import OrganisationKind
    from tests.factories import CustomsFactory, country

    togo = Organisation.objects.filter(kind=OrganisationKind.CUSTOMS, country="TG").first() \
        or CustomsFactory(country=country("TG"))
    _k, tg_key = api_key_create(organisation=togo, name="SIDONIA TG")
    _k, bf_key = api_key_create(organisation=s.customs, name="SIDONIA BF")
    worker = WorkerProcess(database=database_url(connections["default"].settings_dict), broker=own_redis.url,
                           log_dir=tmp_path, concurrency=1, env={"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"},
                           queues="releases,celery,bulk").start()
    try:
        with celery_broker(own_redis.url):
            tg = APIClient()
            tg.credentials(HTTP_AUTHORIZATION=f"Api-Key {tg_key}")
            from tests.guarantees.api.conftest import declaration as api_declaration

            class W:  # what tests.guarantees.api.conftest.declaration reads
                pass

            w = W()
            w.guarantee, w.code = guarantee, code
            declared = tg.post("/api/v1/transits", api_declaration(w, declaration_ref="TG-LOG-0001"), format="json")
            assert declared.status_code == 201, declared.content
            bf = APIClient()
            bf.credentials(HTTP_AUTHORIZATION=f"Api-Key {bf_key}")
            from django.utils import timezone

            answer = bf.post("/api/v1/transits/TG-LOG-0001/events", {
                "message_id": "LOG-D-1", "type": "discharge", "office": "BFOUAG",
                "occurred_at": timezone.now().replace(microsecond=0).isoformat()}, format="json")
            assert answer.status_code in (200, 201, 202), answer.content
        rid = answer["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", rid)

        def task_line():
            for line in worker.log_text().splitlines():
                if line.startswith("{") and "apply_transit_event" in line:
                    record = json.loads(line)
                    if record.get("request_id") == rid:
                        return record
            return None

        record = wait_until(task_line, timeout=30, message="no log line of the task with the request's id")
        assert record["level"] in ("INFO", "WARNING")
        _assert_clean(worker.log_text(), [tg_key, bf_key, code, s.agent.email])
    finally:
        worker.stop()
