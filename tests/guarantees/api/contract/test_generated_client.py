"""A Python client generated from the served schema by openapi-python-client, used as it comes out — no hand edit,
no prefix set — drives a transit from end to end against the live app: check the guarantee, declare the transit,
report its discharge, read the lists, send a discharge file (JSON, then CSV as a multipart form) and follow its
job. Two customs systems take part: Togo's declares at Lomé, Burkina Faso's discharges at Ouagadougou."""

import importlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from tests.guarantees.api.conftest import declaration

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "cu_client"


def _generate(schema: dict, where: Path):
    (where / "schema.json").write_text(json.dumps(schema))
    (where / "config.yml").write_text(f"package_name_override: {PACKAGE}\nproject_name_override: cu-client\n")
    bin_dir = Path(sys.executable).parent
    run = subprocess.run(
        [str(bin_dir / "openapi-python-client"), "generate", "--path", str(where / "schema.json"),
         "--output-path", str(where / PACKAGE), "--config", str(where / "config.yml"), "--meta", "none"],
        cwd=where, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (where / PACKAGE / "api" / "discharges" / "discharges_files_create.py").exists(), run.stdout
    sys.path.insert(0, str(where))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    return importlib.import_module(PACKAGE)


@pytest.fixture
def generated(live_api, tmp_path):
    schema = httpx.get(f"{live_api.url}/api/v1/schema/", headers={"Accept": "application/vnd.oai.openapi+json"},
                       timeout=60).json()
    try:
        yield _generate(schema, tmp_path)
    finally:
        if str(tmp_path) in sys.path:
            sys.path.remove(str(tmp_path))


def _api(name: str):
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def _models():
    return importlib.import_module(f"{PACKAGE}.models")


def test_the_generated_client_drives_a_transit_from_check_to_discharge_file(generated, live_api):
    world = live_api.world
    models = _models()
    # The client as generated: the key as a token, nothing else (it sends "Authorization: Bearer <key>").
    togo = generated.AuthenticatedClient(base_url=live_api.url, token=live_api.key("TG"))
    burkina = generated.AuthenticatedClient(base_url=live_api.url, token=live_api.key("BF"))
    grn = world.guarantee.grn

    # Check.
    checked = _api("guarantees.guarantees_check_create").sync_detailed(
        grn=grn, client=togo, body=models.GuaranteeCheckInRequest(access_code=world.code, amount=4_500_000))
    assert checked.status_code == 200, checked.content
    assert checked.parsed.valid is True and checked.parsed.sufficient is True and checked.parsed.reasons == []

    # Declarations (one discharged by an event, one by a file).
    declare = _api("transits.transits_create")
    for ref in ("GEN-1", "GEN-2"):
        body = models.TransitDeclareInRequest.from_dict(declaration(world, declaration_ref=ref, amount=1_000_000))
        declared = declare.sync_detailed(client=togo, body=body)
        assert declared.status_code == 201, declared.content
        assert isinstance(declared.parsed, models.TransitDeclaredOut)
        assert declared.parsed.amount_held == 1_000_000 and declared.parsed.guarantee.grn == grn

    # Event: discharge at Ouagadougou.
    now = timezone.now().replace(microsecond=0)
    event = _api("transits.transits_events_create").sync_detailed(
        declaration_ref="GEN-1", client=burkina,
        body=models.TransitEventInRequest(message_id="GEN-EV-1", type_=models.EventTypeEnum.DISCHARGE,
                                          office="BFOUAG", occurred_at=now))
    assert event.status_code == 202, event.content
    assert event.parsed.status == models.EventReceiptStatusEnum.ACCEPTED

    # Lists and details, parsed into the generated models.
    transits = _api("transits.transits_list").sync(client=togo, page_size=50)
    assert {t.declaration_ref for t in transits.results} >= {"GEN-1", "GEN-2"} and transits.count >= 2
    detail = _api("transits.transits_retrieve").sync(declaration_ref="GEN-1", client=togo)
    assert detail.status == models.TransitStatusEnum.DISCHARGED
    assert [e.message_id for e in detail.events] == ["GEN-EV-1"] and detail.corridor == "LOM-OUA"
    assert detail.goods[0].hs_code == "100630" and detail.transport.vehicle == "BF-1234-AB"
    guarantees = _api("guarantees.guarantees_list").sync(client=burkina)
    assert grn in {g.grn for g in guarantees.results}
    guarantee = _api("guarantees.guarantees_retrieve").sync(grn=grn, client=burkina)
    assert [h.declaration_ref for h in guarantee.open_holds] == ["GEN-2"]

    # A discharge file as JSON, its line without `type` (a discharge, as in a CSV file).
    files = _api("discharges.discharges_files_create")
    sent = files.sync_detailed(client=burkina, body=models.DischargeFileJsonInRequest(events=[
        models.DischargeFileLineInRequest(message_id="GEN-F-1", declaration_ref="GEN-2", office="BFOUAG",
                                          occurred_at=now.isoformat()),
    ]))
    assert sent.status_code == 202, sent.content
    assert sent.headers["Location"] == f"/api/v1/jobs/{sent.parsed.job}"
    job = _api("discharges.jobs_retrieve").sync(id=sent.parsed.job, client=burkina)
    assert job.status == models.JobStatusEnum.DONE and (job.total, job.done, job.failed) == (1, 1, 0), job
    assert _api("transits.transits_retrieve").sync(declaration_ref="GEN-2", client=togo).status == "discharged"

    # The same file again, as CSV in a multipart form: every line a duplicate.
    types = importlib.import_module(f"{PACKAGE}.types")
    csv = f"message_id,declaration_ref,type,office,occurred_at,amount_released\nGEN-F-1,GEN-2,,BFOUAG,{now.isoformat()},\n"
    again = files.sync_detailed(client=burkina, body=models.DischargeFileInRequest(
        file=types.File(payload=io.BytesIO(csv.encode()), file_name="apurements.csv", mime_type="text/csv")))
    assert again.status_code == 202, again.content
    job = _api("discharges.jobs_retrieve").sync(id=again.parsed.job, client=burkina)
    assert (job.status, job.duplicates) == (models.JobStatusEnum.DONE, 1)

    # Refusals are parsed into their error models, with their codes.
    refused = files.sync_detailed(client=burkina, body=models.DischargeFileInRequest(
        file=types.File(payload=io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00"), file_name="scan.png",
                        mime_type="image/png")))
    assert refused.status_code == 400 and refused.parsed.code == "invalid_file"
    unknown = _api("transits.transits_retrieve").sync_detailed(declaration_ref="NOPE-1", client=togo)
    assert unknown.status_code == 404 and unknown.parsed.code == "not_found"


def test_the_generated_code_needs_no_hand_edit(generated):
    root = Path(generated.__file__).parent
    code = "\n".join(path.read_text() for path in root.rglob("*.py"))
    assert "isinstance(body, list[" not in code  # what made discharges_files_create uncallable
    client = generated.AuthenticatedClient(base_url="http://example.invalid", token="cu_key")
    assert client.get_httpx_client().headers["Authorization"] == "Bearer cu_key"
