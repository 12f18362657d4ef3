"""``POST /api/v1/discharges/files`` (CSV or JSON, multipart or raw body) and ``GET /api/v1/jobs/{id}``."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from guarantees.models import DischargeFile, Guarantee, TransitEvent, TransitStatus, Transit
from tests.guarantees.api.conftest import declaration

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_declared(world, django_capture_on_commit_callbacks):
    client = world.key_client("TG")
    with django_capture_on_commit_callbacks(execute=True):
        for ref in ("T-1", "T-2"):
            body = declaration(world, declaration_ref=ref, amount=1_000_000)
            assert client.post("/api/v1/transits", body, format="json").status_code == 201
    return world


def _csv(*lines) -> bytes:
    now = timezone.now().replace(microsecond=0).isoformat()
    rows = ["message_id,declaration_ref,type,office,occurred_at,amount_released"]
    rows += [line.replace("{now}", now) for line in lines]
    return ("\n".join(rows) + "\n").encode()


def _job(client, job_id):
    response = client.get(f"/api/v1/jobs/{job_id}")
    assert response.status_code == 200, response.content
    return response.json()


def test_multipart_csv_is_processed_in_the_background(two_declared, django_capture_on_commit_callbacks):
    client = two_declared.key_client("BF")
    content = _csv("BF-1,T-1,discharge,BFOUAG,{now},", "BF-2,T-2,,BFOUAG,{now},", "BF-3,T-9,discharge,NOPE,{now},")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/api/v1/discharges/files",
                               {"file": SimpleUploadedFile("apurements.csv", content, "text/csv")}, format="multipart")
    assert response.status_code == 202, response.content
    job_id = response.json()["job"]
    assert response.json() == {"job": job_id} and response["Location"] == f"/api/v1/jobs/{job_id}"
    assert _job(client, job_id)["status"] == "queued"
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    job = _job(client, job_id)
    assert job["status"] == "done" and (job["total"], job["done"], job["failed"]) == (3, 2, 1)
    assert job["errors"][0]["line"] == 3 and job["errors"][0]["code"] == "invalid"
    assert set(Transit.objects.values_list("status", flat=True)) == {TransitStatus.DISCHARGED}
    assert Guarantee.objects.get(pk=two_declared.guarantee.pk).held == 0
    assert DischargeFile.objects.get(pk=job_id).filename == "apurements.csv"


def test_raw_csv_body_and_replayed_lines_are_duplicates(two_declared, django_capture_on_commit_callbacks):
    client = two_declared.key_client("BF")
    content = _csv("BF-1,T-1,discharge,BFOUAG,{now},")
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post("/api/v1/discharges/files?filename=day1.csv", data=content, content_type="text/csv")
        second = client.post("/api/v1/discharges/files", data=content, content_type="text/csv")
    assert first.status_code == second.status_code == 202
    assert DischargeFile.objects.get(pk=first.json()["job"]).filename == "day1.csv"
    job = _job(client, second.json()["job"])
    assert (job["total"], job["done"], job["duplicates"], job["failed"]) == (1, 0, 1, 0)
    assert TransitEvent.objects.count() == 1


def test_raw_json_body(two_declared, django_capture_on_commit_callbacks):
    client = two_declared.key_client("BF")
    now = timezone.now().isoformat()
    lines = [
        {"message_id": "J-1", "declaration_ref": "T-1", "type": "partial_discharge", "office": "BFOUAG",
         "occurred_at": now, "amount_released": 400_000},
        {"message_id": "J-2", "declaration_ref": "T-2", "type": "discharge", "office": "BFOUAG", "occurred_at": now},
        "not an object",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/discharges/files", data=json.dumps(lines), content_type="application/json")
    assert response.status_code == 202
    job = _job(client, response.json()["job"])
    assert (job["total"], job["done"], job["failed"]) == (3, 2, 1) and job["errors"][0]["line"] == 3
    assert Guarantee.objects.get(pk=two_declared.guarantee.pk).held == 600_000


def test_a_file_that_does_not_parse_fails_with_the_reason(world, django_capture_on_commit_callbacks):
    client = world.key_client("BF")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/discharges/files", data=b"[{broken", content_type="application/json")
    job = _job(client, response.json()["job"])
    assert job["status"] == "failed" and job["errors"][0]["code"] == "parse_error"


def test_a_deeply_nested_json_file_fails_instead_of_staying_queued(world, django_capture_on_commit_callbacks):
    """json.loads raises RecursionError on thousands of nested brackets: the job stayed queued for ever and the
    stalled-file sweep queued it again every 15 minutes."""
    import datetime

    from guarantees.operations.sweeps import discharge_files_sweep

    client = world.key_client("BF")
    nested = b"[" * 100_000 + b"]" * 100_000
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/discharges/files", data=nested, content_type="application/json")
    assert response.status_code == 202
    job = _job(client, response.json()["job"])
    assert job["status"] == "failed" and job["errors"][0]["code"] == "parse_error"
    assert "nested" in job["errors"][0]["detail"]
    later = timezone.now() + datetime.timedelta(hours=2)
    assert discharge_files_sweep(now=later) == []


def test_a_file_whose_task_fails_for_any_reason_ends_failed(world, django_capture_on_commit_callbacks, monkeypatch):
    from guarantees import tasks

    def broken(**kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(tasks, "discharge_file_process_bulk", broken)
    client = world.key_client("BF")
    with django_capture_on_commit_callbacks(execute=True):  # eager here: the error is logged, the request is not hurt
        response = client.post("/api/v1/discharges/files", data=_csv("BF-1,T-1,discharge,BFOUAG,{now},"),
                               content_type="text/csv")
    assert response.status_code == 202
    job = _job(client, response.json()["job"])
    assert job["status"] == "failed" and job["errors"][0]["code"] == "processing_failed"
    assert "RuntimeError" in job["errors"][0]["detail"]


def test_empty_or_missing_file_is_400(world):
    client = world.key_client("BF")
    for response in (
        client.post("/api/v1/discharges/files", data=b"", content_type="text/csv"),
        client.post("/api/v1/discharges/files", {"other": "x"}, format="multipart"),
        client.post("/api/v1/discharges/files", {"file": SimpleUploadedFile("e.csv", b"  \n")}, format="multipart"),
    ):
        assert response.status_code == 400 and response.json()["code"] == "invalid"
        assert "file" in response.json()["errors"]
    assert not DischargeFile.objects.exists()


@override_settings(API_DISCHARGE_FILE_MAX_BYTES=100)
def test_too_large_file_is_413(world):
    client = world.key_client("BF")
    big = _csv(*["BF-%d,T-1,discharge,BFOUAG,{now}," % i for i in range(10)])
    raw = client.post("/api/v1/discharges/files", data=big, content_type="text/csv")
    multipart = client.post("/api/v1/discharges/files", {"file": SimpleUploadedFile("b.csv", big)},
                            format="multipart")
    assert raw.status_code == multipart.status_code == 413
    assert raw.json()["code"] == "too_large"
    assert not DischargeFile.objects.exists()


def test_a_job_is_seen_only_by_its_sender(world):
    response = world.key_client("BF").post("/api/v1/discharges/files", data=_csv(), content_type="text/csv")
    job_id = response.json()["job"]
    assert world.key_client("BF").get(f"/api/v1/jobs/{job_id}").status_code == 200
    assert world.key_client("TG").get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert world.key_client("BF").get("/api/v1/jobs/999999999").status_code == 404
