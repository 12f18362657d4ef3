"""The offline payload of an attestation, read back the way a border post reads it: the real PDF rendered, its
first page rasterised (pdftoppm), the QR code decoded from the image (zxing-cpp), the payload verified against the
registry's listed keys — and refused when one byte changed or when its key is not listed."""

import datetime
import json
import urllib.parse
import zlib

import base45
import cbor2
import pytest

from guarantees.documents import offline
from guarantees.documents.offline_keys import offline_public_keys, offline_signing_key
from guarantees.services.certificates import certificate_issue, certificate_pdf
from tests.guarantees.documents.conftest import pdftoppm_first_page

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _offline_key(settings, tmp_path):
    """A key of this test's own (made on first use, as the development one is)."""
    settings.OFFLINE_DEV_KEY_PATH = settings.OFFLINE_SIGNING_KEY_PATH = str(tmp_path / "offline.pem")
    settings.OFFLINE_RETIRED_KEYS_PATH = None


def qr_text_of(pdf: bytes, tmp_path) -> str:
    import zxingcpp
    from PIL import Image

    png = pdftoppm_first_page(pdf, tmp_path / "page.png", dpi=200)
    results = [r for r in zxingcpp.read_barcodes(Image.open(png)) if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(results) == 1, "one QR code on the attestation"
    return results[0].text, results[0]


def test_the_qr_code_of_a_rendered_attestation_verifies(guarantee, tmp_path, output_dir):
    certificate = certificate_issue(version=guarantee.versions.get(), language="fr")
    text, _result = qr_text_of(certificate_pdf(certificate=certificate), tmp_path)

    assert text.startswith("https://caution.example.org/verify/scan/#CU1:")
    verified = offline.payload_verify(text, keys=offline_public_keys())
    g = verified.guarantee
    assert g["grn"] == guarantee.grn and g["v"] == 1 and g["si"] == guarantee.versions.get().pk
    assert g["amt"] == 71_750_000 and g["cur"] == "XOF"
    assert g["pn"] == "Transit Sahel Express SARL" and g["nif"] == "00012345X"
    assert g["bk"] == "Banque Sahélienne de Commerce"
    assert g["vf"] == guarantee.valid_from.isoformat() and g["vu"] == guarantee.valid_until.isoformat()
    assert g["ct"] == ["BF", "ML", "NE", "TG"] and verified.claims[offline.CLAIM_ISS] == "BF"
    assert verified.kid == offline_signing_key().kid
    # What the note reports: the size of what the QR code carries, and the code's version (same settings as
    # renderer.qr_png) and module size at the printed 35 mm.
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=2)
    qr.add_data(text)
    qr.make(fit=True)
    modules = 17 + 4 * qr.version
    payload = offline.payload_from_text(text)
    (output_dir / "offline-payload.json").write_text(json.dumps({
        "qr_version": qr.version, "modules": modules, "module_mm_at_35mm": round(35 / modules, 3),
        "qr_text_chars": len(text), "payload_chars": len(payload),
        "cose_bytes": len(zlib.decompress(base45.b45decode(payload[len(offline.PREFIX):]))),
        "cbor_claims_bytes": len(offline.payload_parse(text).payload),
    }))
    assert qr.version <= 15  # scannable by a phone off a printed A4 page at 35 mm (modules >= 0.4 mm)


def test_one_changed_byte_fails(guarantee):
    content_key = offline_signing_key()
    from guarantees.services.certificates import certificate_content

    content = certificate_content(version=guarantee.versions.get())
    claims = offline.payload_claims(content=content, status_index=1, signed_at=datetime.datetime.now(datetime.UTC))
    signed = offline.cose_sign1(cbor2.dumps(claims), private_key=content_key.private_key, kid=content_key.kid)
    good = offline.PREFIX + base45.b45encode(zlib.compress(signed)).decode()
    assert offline.payload_verify(good, keys=offline_public_keys()).guarantee["amt"] == 71_750_000

    # The amount 71 750 000 raised by one franc in the signed bytes: same length, one byte changed.
    needle = cbor2.dumps(71_750_000)
    assert signed.count(needle) == 1
    forged = signed.replace(needle, cbor2.dumps(71_750_001))
    assert sum(a != b for a, b in zip(signed, forged)) == 1
    text = offline.PREFIX + base45.b45encode(zlib.compress(forged)).decode()
    with pytest.raises(offline.OfflineError) as caught:
        offline.payload_verify(text, keys=offline_public_keys())
    assert caught.value.code == "bad_signature"

    # Any single byte of the whole signed object, flipped: never verifies.
    for position in range(0, len(signed), 7):
        flipped = bytearray(signed)
        flipped[position] ^= 0x01
        text = offline.PREFIX + base45.b45encode(zlib.compress(bytes(flipped))).decode()
        with pytest.raises(offline.OfflineError):
            offline.payload_verify(text, keys=offline_public_keys())


def test_a_key_not_listed_fails(guarantee, settings, tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec

    from guarantees.services.certificates import certificate_content

    stranger = ec.generate_private_key(ec.SECP256R1())
    claims = offline.payload_claims(content=certificate_content(version=guarantee.versions.get()), status_index=1,
                                    signed_at=datetime.datetime.now(datetime.UTC))
    # Signed by a key of its own, claiming its own kid, or the registry's kid: neither verifies.
    for kid in (offline.key_id(stranger.public_key()), offline_signing_key().kid):
        text = offline.payload_encode(claims, private_key=stranger, kid=kid)
        with pytest.raises(offline.OfflineError) as caught:
            offline.payload_verify(text, keys=offline_public_keys())
        assert caught.value.code in {"unknown_key", "bad_signature"}
    assert offline.payload_verify(
        offline.payload_encode(claims, private_key=stranger, kid=offline.key_id(stranger.public_key())),
        keys=[offline.PublicKey(kid=offline.key_id(stranger.public_key()), public_key=stranger.public_key())],
    )


def test_a_retired_key_verifies_what_it_signed_before_its_end_only(guarantee, settings, tmp_path):
    from cryptography.hazmat.primitives import serialization

    from guarantees.services.certificates import certificate_content

    old = offline_signing_key()
    retired_at = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
    (tmp_path / "retired.json").write_text(json.dumps([{
        "public_key": old.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "not_before": "2026-01-01T00:00:00+00:00", "not_after": retired_at.isoformat(),
    }]))
    settings.OFFLINE_DEV_KEY_PATH = settings.OFFLINE_SIGNING_KEY_PATH = str(tmp_path / "new.pem")
    settings.OFFLINE_RETIRED_KEYS_PATH = str(tmp_path / "retired.json")
    keys = offline_public_keys()
    assert [k.kid for k in keys][1] == old.kid and keys[0].kid != old.kid

    content = certificate_content(version=guarantee.versions.get())
    for signed_at, ok in ((retired_at - datetime.timedelta(days=1), True),
                          (retired_at + datetime.timedelta(days=1), False)):
        text = offline.payload_encode(offline.payload_claims(content=content, status_index=1, signed_at=signed_at),
                                      private_key=old.private_key, kid=old.kid)
        if ok:
            assert offline.payload_verify(text, keys=keys).kid == old.kid
        else:
            with pytest.raises(offline.OfflineError) as caught:
                offline.payload_verify(text, keys=keys)
            assert caught.value.code == "key_not_valid_then"


def test_the_qr_url_escapes_what_a_url_cannot_carry():
    payload = "CU1:AB %C+D"
    url = offline.scan_url("https://x.example/verify/scan/", payload)
    assert url == "https://x.example/verify/scan/#CU1:AB%20%25C+D"
    assert offline.payload_from_text(url) == payload
    assert urllib.parse.urlsplit(url).fragment == "CU1:AB%20%25C+D"
    with pytest.raises(offline.OfflineError):
        offline.payload_from_text("https://x.example/verify/ABC/")


def test_the_keys_endpoint_lists_the_current_key(client):
    response = client.get("/api/v1/offline/keys")
    assert response.status_code == 200 and "public" in response["Cache-Control"]
    (key,) = response.json()["keys"]
    import base64

    assert base64.b64decode(key["kid"]) == offline_signing_key().kid
    assert key["alg"] == "ES256" and key["crv"] == "P-256" and key["not_after"] is None


# --- The verifier's page, manifest, service worker and live status -------------------------------------------

def test_the_verifier_page_is_public_and_runs_no_inline_script(client):
    import re

    response = client.get("/verify/scan/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/verify/scan/manifest.webmanifest" in html and "js/verify-scan.js" in html and "js/vendor/jsQR.js" in html
    # Scripts only from files (the words are a JSON data block, which no browser runs).
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_manifest_and_service_worker(client):
    manifest = client.get("/verify/scan/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    body = json.loads(manifest.content)
    assert body["start_url"] == body["scope"] == "/verify/scan/" and body["display"] == "standalone"
    assert {icon["sizes"] for icon in body["icons"]} == {"192x192", "512x512"}
    worker = client.get("/verify/scan/sw.js")
    assert worker["Content-Type"].startswith("text/javascript")
    source = worker.content.decode()
    assert "/api/v1/offline/keys" in source and "/api/v1/offline/status-list" in source and "{{" not in source


def test_the_live_status_of_a_version(client, guarantee, s):
    from tests.guarantees.documents.conftest import amend

    assert client.get(f"/verify/{guarantee.grn}/live/?v=1").json()["standing"] == "valid"
    amend(s, guarantee, amount=72_000_000)
    body = client.get(f"/verify/{guarantee.grn}/live/?v=1").json()
    assert body["standing"] == "superseded" and body["current_version"] == 2
    assert client.get(f"/verify/{guarantee.grn}/live/?v=9").status_code == 404
    assert client.get(f"/verify/{guarantee.grn}/live/?v=x").status_code == 404


def test_the_live_status_is_limited_as_the_public_page(client, guarantee, settings):
    from django.core.cache import cache

    cache.clear()  # the counts of the tests before (same client address, same window)
    settings.CERTIFICATE_VERIFY_RATE_LIMIT = 2
    codes = [client.get(f"/verify/{guarantee.grn}/live/?v=1").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
